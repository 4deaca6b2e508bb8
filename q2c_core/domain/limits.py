"""Input limits: every bound on what a caller may send, and the one strict decimal grammar.

The gateway checks these at the edge (q2c_core.edge.converters.wire_limits names each proto field's bound);
the domain types check them again, so a value that slipped past the edge still cannot poison an
engagement. docs/operations.md ("Input limits") lists them; the .proto comments name them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from q2c_core.domain.errors import PreconditionError

# ---------------------------------------------------------------- strings (characters)
MAX_ID_LENGTH = 128
"""Resource ids, request ids, page tokens' ids: client-chosen or server-made."""
MAX_NAME_LENGTH = 200
"""Display names, legal entities, persons, payment references."""
MAX_REF_LENGTH = 100
"""Short references: PO reference, opportunity reference, service line, expense category."""
MAX_ROLE_LENGTH = 64
"""Role names and tax jurisdictions."""
MAX_LINE_DESCRIPTION_LENGTH = 500
"""A contract billing line's description (it becomes invoice line text)."""
MAX_TEXT_LENGTH = 2000
"""Free text: comments, reasons, resolution notes, item descriptions."""
MAX_PAGE_TOKEN_LENGTH = 1024
"""An opaque page token as the server hands it out (far shorter in practice)."""
MAX_FILTER_LENGTH = 128
"""A list filter value (ids, event type names, months)."""

# ---------------------------------------------------------------- repeated fields (items)
MAX_BATCH = 500
"""Items per SubmitTimeEntries / SubmitExpenses call, ids per Approve* / Reject* call."""
MAX_BILLING_LINES = 100
"""Billing lines per contract revision."""
MAX_MILESTONES_PER_LINE = 200
"""Milestones per fixed-fee billing line."""
MAX_MILESTONES_PER_CONTRACT = 500
"""Milestones over all fixed-fee lines of one contract revision."""
MAX_STAFFING_ASSIGNMENTS = 500
"""People on an activation's staffing plan."""
MAX_RATES_PER_CARD = 500
"""Role rates per rate card revision."""
MAX_BILL_RUN_CUSTOMERS = 1000
"""customer_ids filter of one bill run."""
MAX_EVENT_TYPE_FILTERS = 64
"""event_types filter of one SubscribeEvents call."""
MAX_CHECKPOINT_STREAM_HEADS = 1_000_000
"""Stream heads in a checkpoint handed back to VerifyAuditLog (one per audited stream)."""
MAX_UPDATE_MASK_PATHS = 16
"""Paths in an UpdateCustomer update_mask (there are fewer updatable fields)."""

# ---------------------------------------------------------------- what one engagement holds
# The Engagement reply carries every item unpaged, so these keep its worst case (every string
# at its bound) under the gateway's default 16 MiB reply limit: tests/unit/test_reply_bounds.py.
MAX_TIME_ENTRIES_PER_ENGAGEMENT = 1_500
"""Time entries one engagement holds (any status)."""
MAX_EXPENSES_PER_ENGAGEMENT = 500
"""Expenses one engagement holds (any status)."""
MAX_CONTRACT_REVISIONS = 10
"""Contract revisions one engagement holds (ApproveContract + AmendContract change orders)."""
MAX_INVOICES_PER_ENGAGEMENT = 1_000
"""Invoices one engagement holds (any state, VOID included)."""

ENGAGEMENT_LIMIT_REASON = "ENGAGEMENT_LIMIT_REACHED"
"""FAILED_PRECONDITION reason when a command would take an engagement past one of the above."""


def check_capacity(limit: str, held: int, adding: int, maximum: int) -> None:
    """Refuse a command that would make an engagement hold more than `maximum` of `limit`."""
    if held + adding > maximum:
        raise PreconditionError(
            ENGAGEMENT_LIMIT_REASON,
            f"an engagement holds at most {maximum} {limit.replace('_', ' ')}; it has {held}, "
            f"the command adds {adding}",
            {"limit": limit, "maximum": str(maximum), "held": str(held)},
        )


# ---------------------------------------------------------------- decimals
@dataclass(frozen=True, slots=True)
class DecimalKind:
    """The bounds of one kind of decimal on the wire: digits, decimal places, sign, range."""

    name: str
    integer_digits: int
    places: int
    maximum: Decimal | None = None
    signed: bool = False

    def grammar(self) -> str:
        """The accepted form as a regular expression (for docs and messages)."""
        sign = "-?" if self.signed else ""
        return rf"{sign}[0-9]{{1,{self.integer_digits}}}(\.[0-9]{{1,{self.places}}})?"


MONEY = DecimalKind("money amount", integer_digits=15, places=6)
"""Money.amount on input: below 10^15, at most 6 decimal places; every input amount is >= 0."""
HOURS = DecimalKind("hours", integer_digits=2, places=2, maximum=Decimal(24))
"""Hours of a time entry: at most 24, at most 2 decimal places."""
TAX_RATE = DecimalKind("tax rate", integer_digits=1, places=6, maximum=Decimal(1))
"""A tax rate as a fraction in [0, 1], at most 6 decimal places ("0.08875")."""
PERCENT = DecimalKind("percentage", integer_digits=3, places=4, maximum=Decimal(100))
"""A percentage in [0, 100] (markup_percent), at most 4 decimal places."""

_PLAIN = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")

MAX_INTEGER_DIGITS = 18
"""Domain defence: no Decimal anywhere in q2c reaches 10^18 (money stops below 10^15)."""
MAX_DECIMAL_PLACES = 40
"""Domain defence: no Decimal carries more places (exact products of wire values need < 20)."""


def parse_wire_decimal(text: str, kind: DecimalKind) -> Decimal:
    """The one parser of decimal strings from callers; ValueError says what is wrong."""
    if not isinstance(text, str):
        raise ValueError("must be a decimal string")
    match = _PLAIN.fullmatch(text) if text.isascii() else None
    if match is None:
        raise ValueError(f"must be a plain decimal {kind.grammar()} (no exponent, spaces or '+')")
    sign, integer, fraction = match.group(1), match.group(2), match.group(3) or ""
    if sign and not kind.signed:
        raise ValueError(f"a {kind.name} must not be negative")
    if len(integer) > kind.integer_digits:
        raise ValueError(f"a {kind.name} has at most {kind.integer_digits} integer digits")
    if len(fraction) > kind.places:
        raise ValueError(f"a {kind.name} has at most {kind.places} decimal places")
    value = Decimal(text)
    if kind.maximum is not None and value > kind.maximum:
        raise ValueError(f"a {kind.name} must be at most {kind.maximum}")
    return value


def check_decimal(value: Decimal) -> Decimal:
    """Domain defence: refuse a Decimal that is not finite or is beyond any sane size."""
    if not value.is_finite():
        raise ValueError("decimal must be finite")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -MAX_DECIMAL_PLACES:
        raise ValueError(f"decimal has more than {MAX_DECIMAL_PLACES} decimal places")
    if value.adjusted() >= MAX_INTEGER_DIGITS or exponent >= MAX_INTEGER_DIGITS:
        raise ValueError(f"decimal has more than {MAX_INTEGER_DIGITS} integer digits")
    return value


def to_decimal(text: str) -> Decimal:
    """A stored (not wire) decimal string: Python's notation allowed, bounds still enforced."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {text[:40]!r}") from None
    # check_decimal's as_tuple() was most of a stored snapshot's decoding. The exponent lies
    # between adjusted() - len(text) + 1 (a coefficient has no more digits than its text has
    # characters) and adjusted(): when both bounds pass, so does check_decimal.
    if value.is_finite():
        adjusted = value.adjusted()
        if adjusted < MAX_INTEGER_DIGITS and adjusted - len(text) + 1 >= -MAX_DECIMAL_PLACES:
            return value
    return check_decimal(value)
