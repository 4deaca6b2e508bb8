"""What an invoice for a period would hold, line by line, and what stands in its way (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from q2c_core.domain.base import complete_builder
from q2c_core.domain.entities import Contract
from q2c_core.domain.invoices import InvoiceLine, LineSource, TaxDetail
from q2c_core.domain.limits import check_decimal
from q2c_core.domain.money import Money, RoundingRule, derived_money
from q2c_core.domain.periods import BillingPeriod

LINE_RULE = RoundingRule.ROUND_HALF_UP_PER_LINE
STOPPING = frozenset(
    {
        "MISSING_PO_REFERENCE",
        "OPEN_BLOCKING_EXCEPTIONS",
        "PERIOD_ALREADY_INVOICED",
        "NOTHING_TO_BILL",
        "MISSING_TAX_PROFILE",
        "UNPRICED_TIME",
    }
)


@dataclass(frozen=True, slots=True)
class Blocker:
    """Why something is not billed: informational, or stopping the invoice altogether."""

    kind: str
    message: str
    item_ids: tuple[str, ...] = ()

    @property
    def stops(self) -> bool:
        """True when no invoice can be generated while this stands."""
        return self.kind in STOPPING


@dataclass(slots=True)
class BillingDraft:
    """What an invoice for the period would hold, and what stands in the way."""

    currency: str
    lines: list[InvoiceLine] = field(default_factory=list)
    held_at_cap: list[str] = field(default_factory=list)
    recurring_keys: list[str] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    tax: TaxDetail | None = None

    @property
    def subtotal(self) -> Money:
        """Sum of the rounded line amounts."""
        total = sum((line.amount.amount for line in self.lines), Decimal(0))
        return derived_money(self.currency, total)

    @property
    def total(self) -> Money:
        """Subtotal plus tax."""
        return self.subtotal + (self.tax.amount if self.tax else Money.zero(self.currency))

    @property
    def ready(self) -> bool:
        """True when an invoice can be generated now."""
        return not any(b.stops for b in self.blockers)


_line = complete_builder(InvoiceLine)
"""An InvoiceLine from every field in declaration order (add_line's dict), not validated again."""


def add_line(
    draft: BillingDraft,
    source: LineSource,
    source_id: str,
    line_id: str,
    contract: Contract,
    description: str,
    quantity: Decimal,
    unit_price: Money,
    raw: Money,
    rule: str = LINE_RULE.value,
    service_period: BillingPeriod | None = None,
    rounded: Money | None = None,
) -> None:
    """Append a priced line, numbered in order (L1, L2, ...); `rounded`: raw already rounded.

    Every part comes from validated models or from Money arithmetic, which checks its results;
    only the quantity is checked again (it may be computed), so the line is not re-validated.
    """
    draft.lines.append(
        _line(
            {
                "line_id": f"L{len(draft.lines) + 1}",
                "source": source,
                "source_id": source_id,
                "billing_line_id": line_id,
                "contract_revision": contract.revision,
                "description": description,
                "quantity": check_decimal(quantity),
                "unit_price": unit_price,
                "amount": rounded if rounded is not None else raw.rounded(LINE_RULE),
                "rounding_rule": rule,
                "service_period": service_period,
            }
        )
    )
