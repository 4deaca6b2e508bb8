"""The shapes of a month-end plan: customers, rate cards, engagements and their commands.

Plain frozen data, picklable, so a plan can be shipped to worker processes. Ids the server
assigns (customer, rate card and engagement ids) are not in it: the driver maps plan keys to
them as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from clients.load.profile import CURRENCY_PLACES


@dataclass(frozen=True)
class CustomerPlan:
    """A customer to create: billing currency and tax profile (exempt: rate 0)."""

    key: str
    currency: str
    tax_rate: Decimal
    exempt: bool
    jurisdiction: str


@dataclass(frozen=True)
class RateCardPlan:
    """A rate card to create: hourly rate per role, effective from the contract start."""

    key: str
    currency: str
    rates: dict[str, Decimal]


@dataclass(frozen=True)
class TimeEntryPlan:
    """One time entry: approved or rejected by the approver; late ones are sent after the bill run."""

    entry_id: str
    person: str
    role: str
    work_date: date
    hours: Decimal
    approved: bool
    late: bool


@dataclass(frozen=True)
class ExpensePlan:
    """One pass-through expense, approved or rejected."""

    expense_id: str
    category: str
    incurred_date: date
    amount: Decimal
    approved: bool


@dataclass(frozen=True)
class MilestonePlan:
    """A fixed-fee milestone: completed, then accepted or rejected by the customer."""

    milestone_id: str
    amount: Decimal
    accepted: bool


@dataclass(frozen=True)
class ChangeOrder:
    """AmendContract mid-period: the T&M line moves to another rate card and/or a new cap."""

    effective: date
    rate_card: str
    cap: Decimal | None


@dataclass(frozen=True)
class Command:
    """One RPC of an engagement's script. `items` names the entries, expenses or milestone."""

    rpc: str
    request_id: str
    approver: bool = False
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class EngagementPlan:
    """An engagement, its contract terms, its work, and its two scripts (before and after the run)."""

    key: str
    customer: str
    model: str
    currency: str
    contract_start: date
    contract_end: date
    start_date: date
    rate_card: str
    cap: Decimal | None
    markup: Decimal | None
    retainer: Decimal | None
    subscription: Decimal | None
    subscription_unit: str
    milestones: tuple[MilestonePlan, ...]
    time_entries: tuple[TimeEntryPlan, ...]
    expenses: tuple[ExpensePlan, ...]
    change_order: ChangeOrder | None
    payment: str
    commands: tuple[Command, ...] = ()
    after: tuple[Command, ...] = ()

    def entry(self, entry_id: str) -> TimeEntryPlan:
        """The planned time entry with this id."""
        return next(e for e in self.time_entries if e.entry_id == entry_id)

    def expense(self, expense_id: str) -> ExpensePlan:
        """The planned expense with this id."""
        return next(x for x in self.expenses if x.expense_id == expense_id)


@dataclass(frozen=True)
class Plan:
    """Everything a load run sends: seed data first, then the engagements' scripts."""

    run_tag: str
    period: str
    period_start: date
    period_end: date
    customers: tuple[CustomerPlan, ...]
    rate_cards: tuple[RateCardPlan, ...]
    engagements: tuple[EngagementPlan, ...]

    def rpc_counts(self) -> dict[str, int]:
        """RPC name -> how many the plan sends (seeding and scripts; bill-run calls excluded)."""
        counts = {"CreateCustomer": len(self.customers), "CreateRateCard": len(self.rate_cards)}
        for plan in self.engagements:
            for command in (*plan.commands, *plan.after):
                counts[command.rpc] = counts.get(command.rpc, 0) + 1
        return counts


def quantize(value: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit."""
    return value.quantize(Decimal(1).scaleb(-CURRENCY_PLACES[currency]), rounding="ROUND_HALF_UP")
