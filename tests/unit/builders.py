"""Builders for the pure-core tests: reference data, contexts and a journal-keeping driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.decide import decide
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BillingLine,
    EngagementState,
    ExpenseTerms,
    FixedFeeTerms,
    MilestoneSpec,
    StaffingAssignment,
    TimeAndMaterialsTerms,
)
from q2c_core.domain.evolve import evolve
from q2c_core.domain.money import Money
from q2c_core.domain.reference import Customer, CustomerStatus, RateCard, TaxProfile

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
ENGAGEMENT_ID = "eng-1"
CUSTOMER_ID = "cust-1"
CONTRACT_START = date(2025, 2, 1)
CONTRACT_END = date(2025, 12, 31)
SUBMITTER = "ops@example.com"
"""Who the Driver runs commands as: delivery operations, who also submit time and expenses."""
APPROVER = "finance@example.com"
"""Who the Driver approves time and expenses as: finance, never the submitter (separation of duties)."""
APPROVALS = (cmd.ApproveTimeEntries, cmd.ApproveExpenses)


def principal_for(command: object) -> str:
    """Who sends `command` in these tests: finance approves, operations does the rest."""
    return APPROVER if isinstance(command, APPROVALS) else SUBMITTER


def usd(amount: str) -> Money:
    """An amount in US dollars."""
    return Money.of(amount, "USD")


def customer(**overrides: Any) -> Customer:
    """An active, fully mapped customer; override any field to break a gate."""
    fields: dict[str, Any] = {
        "customer_id": CUSTOMER_ID,
        "display_name": "Acme",
        "legal_entity": "Acme Holdings LLC",
        "billing_currency": "USD",
        "tax_profile": TaxProfile(jurisdiction="US-NY", rate=Decimal("0.08875")),
        "service_line": "",
        "status": CustomerStatus.ACTIVE,
        "create_time": T0,
        "update_time": T0,
    }
    fields.update(overrides)
    return Customer(**fields)


def rate_card(
    effective_from: date = date(2025, 1, 1),
    effective_to: date | None = None,
    *,
    rate_card_id: str = "rc-1",
    revision: int = 1,
    currency: str = "USD",
    rates: dict[str, str] | None = None,
) -> RateCard:
    """One revision of a rate card with hourly rates per role."""
    rates = rates or {"engineer": "150.00", "manager": "200.00"}
    return RateCard(
        rate_card_id=rate_card_id,
        revision=revision,
        currency=currency,
        effective_from=effective_from,
        effective_to=effective_to,
        rates={role: Money.of(amount, currency) for role, amount in rates.items()},
        create_time=T0,
    )


def tm_line(line_id: str = "tm", rate_card_id: str = "rc-1", cap: Money | None = None) -> BillingLine:
    """A time-and-materials billing line (capped when `cap` is given)."""
    terms = TimeAndMaterialsTerms(rate_card_id=rate_card_id, not_to_exceed=cap)
    return BillingLine(line_id=line_id, terms=terms)


def fixed_fee_line(line_id: str = "ff", *milestone_ids: str, currency: str = "USD") -> BillingLine:
    """A fixed-fee billing line with one 1000-unit milestone per id (default m1, m2)."""
    specs = [
        MilestoneSpec(milestone_id=m, display_name=f"Milestone {m}", amount=Money.of("1000", currency))
        for m in (milestone_ids or ("m1", "m2"))
    ]
    return BillingLine(line_id=line_id, terms=FixedFeeTerms(milestones=specs))


def expense_line(line_id: str = "exp") -> BillingLine:
    """A pass-through expenses billing line."""
    return BillingLine(line_id=line_id, terms=ExpenseTerms(markup_percent=Decimal("10")))


def approve_contract(**overrides: Any) -> cmd.ApproveContract:
    """A contract with capped T&M, fixed-fee and expense lines, in USD, for 2025."""
    fields: dict[str, Any] = {
        "currency": "USD",
        "start_date": CONTRACT_START,
        "end_date": CONTRACT_END,
        "billing_lines": [tm_line(cap=usd("50000")), fixed_fee_line(), expense_line()],
    }
    fields.update(overrides)
    return cmd.ApproveContract(**fields)


def activate(**overrides: Any) -> cmd.ActivateEngagement:
    """Activation with a start date and a staffing plan."""
    fields: dict[str, Any] = {
        "start_date": CONTRACT_START,
        "staffing_plan": [StaffingAssignment(person="ada", role="engineer")],
    }
    fields.update(overrides)
    return cmd.ActivateEngagement(**fields)


def time_entry(entry_id: str, hours: str = "8", **overrides: Any) -> cmd.TimeEntryInput:
    """A time entry for ada as engineer on the T&M line."""
    fields: dict[str, Any] = {
        "entry_id": entry_id,
        "billing_line_id": "tm",
        "person": "ada",
        "role": "engineer",
        "work_date": date(2025, 3, 3),
        "hours": hours,
    }
    fields.update(overrides)
    return cmd.TimeEntryInput(**fields)


def expense(expense_id: str, amount: Money | None = None, **overrides: Any) -> cmd.ExpenseInput:
    """A travel expense on the pass-through line."""
    fields: dict[str, Any] = {
        "expense_id": expense_id,
        "billing_line_id": "exp",
        "category": "travel",
        "incurred_date": date(2025, 3, 3),
        "amount": amount or usd("120.50"),
    }
    fields.update(overrides)
    return cmd.ExpenseInput(**fields)


@dataclass
class Driver:
    """Runs commands through `decide` and `evolve`, keeping the journal and a ticking clock."""

    customer: Customer | None = field(default_factory=customer)
    rate_cards: dict[str, list[RateCard]] = field(default_factory=lambda: {"rc-1": [rate_card()]})
    state: Engagement | None = None
    journal: list[tuple[ev.Event, datetime]] = field(default_factory=list)
    now: datetime = T0
    allow_self_approval: bool = False  # the tenant's separation-of-duties exemption

    def context(self, principal: str = SUBMITTER) -> DecisionContext:
        """The decision context for the next command, called by `principal`."""
        return DecisionContext(
            engagement_id=ENGAGEMENT_ID,
            principal=principal,
            now=self.now,
            customer=self.customer,
            rate_cards=self.rate_cards,
            allow_self_approval=self.allow_self_approval,
        )

    def decide(self, command: Any, *, principal: str | None = None) -> list[ev.Event]:
        """Decide without applying; approvals come from finance unless `principal` says who."""
        return decide(self.state, command, self.context(principal or principal_for(command)))

    def run(self, command: Any, *, principal: str | None = None) -> list[ev.Event]:
        """Decide, then apply and journal every event at the current time; tick the clock."""
        events = self.decide(command, principal=principal)
        for event in events:
            self.state = evolve(self.state, event, self.now)
            self.journal.append((event, self.now))
        self.now += timedelta(minutes=1)
        return events

    @property
    def engagement(self) -> Engagement:
        """The current state (the engagement must exist)."""
        assert self.state is not None
        return self.state


def create() -> cmd.CreateEngagement:
    """Open the engagement for the default customer."""
    return cmd.CreateEngagement(customer_id=CUSTOMER_ID, display_name="ERP rollout", service_line="erp")


HAPPY_PATH: list[tuple[EngagementState, Any]] = [
    (EngagementState.DRAFT, create),
    (EngagementState.QUALIFIED, cmd.QualifyEngagement),
    (EngagementState.WON, cmd.CloseWonEngagement),
    (EngagementState.CONTRACTED, approve_contract),
    (EngagementState.ACTIVE, activate),
    (EngagementState.COMPLETED, cmd.CompleteEngagement),
]


def driven_to(target: EngagementState, driver: Driver | None = None) -> Driver:
    """A driver whose engagement walked the happy path up to `target`."""
    driver = driver or Driver()
    for reached, make in HAPPY_PATH:
        driver.run(make())
        if reached is target:
            assert driver.engagement.state is target
            return driver
    raise ValueError(f"{target} is not on the happy path")
