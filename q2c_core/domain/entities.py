"""The engagement's parts: contract and billing lines, time, expenses, milestones, exceptions."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from q2c_core.domain.base import Frozen
from q2c_core.domain.limits import (
    MAX_BILLING_LINES,
    MAX_ID_LENGTH,
    MAX_LINE_DESCRIPTION_LENGTH,
    MAX_MILESTONES_PER_CONTRACT,
    MAX_MILESTONES_PER_LINE,
    MAX_NAME_LENGTH,
    MAX_REF_LENGTH,
    MAX_ROLE_LENGTH,
    MAX_TEXT_LENGTH,
)
from q2c_core.domain.money import ExactDecimal, Money, check_currency

Identifier = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=r"^[A-Za-z0-9._:\-]+$")]
Text = Annotated[str, Field(max_length=MAX_TEXT_LENGTH)]


class EngagementState(StrEnum):
    """Lifecycle states of DESIGN.md §4."""

    DRAFT = "DRAFT"
    QUALIFIED = "QUALIFIED"
    WON = "WON"
    CONTRACTED = "CONTRACTED"
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"
    ON_HOLD = "ON_HOLD"


class GatedStep(StrEnum):
    """The lifecycle steps guarded by policy checks."""

    CLOSE_WON = "CLOSE_WON"
    APPROVE_CONTRACT = "APPROVE_CONTRACT"
    ACTIVATE = "ACTIVATE"
    INVOICE = "INVOICE"


class BillingModel(StrEnum):
    """How a contract line turns delivered work into invoice lines."""

    TIME_AND_MATERIALS = "TIME_AND_MATERIALS"
    FIXED_FEE = "FIXED_FEE"
    RETAINER = "RETAINER"
    PASS_THROUGH_EXPENSES = "PASS_THROUGH_EXPENSES"
    SUBSCRIPTION = "SUBSCRIPTION"


class PeriodUnit(StrEnum):
    """Length of a recurring billing period."""

    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


class MilestoneSpec(Frozen):
    """A fixed-fee milestone as written in the contract."""

    milestone_id: Identifier
    display_name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    amount: Money
    due_date: date | None = None


class TimeAndMaterialsTerms(Frozen):
    """Approved hours x the rate card's rate for the role, optionally capped."""

    model: Literal[BillingModel.TIME_AND_MATERIALS] = BillingModel.TIME_AND_MATERIALS
    rate_card_id: Identifier
    not_to_exceed: Money | None = None


class FixedFeeTerms(Frozen):
    """Milestone amounts, each billable once accepted."""

    model: Literal[BillingModel.FIXED_FEE] = BillingModel.FIXED_FEE
    milestones: list[MilestoneSpec] = Field(min_length=1, max_length=MAX_MILESTONES_PER_LINE)


class RetainerTerms(Frozen):
    """A fixed amount per month while the engagement is active."""

    model: Literal[BillingModel.RETAINER] = BillingModel.RETAINER
    amount_per_month: Money


class ExpenseTerms(Frozen):
    """Approved expenses passed through at cost plus an optional markup."""

    model: Literal[BillingModel.PASS_THROUGH_EXPENSES] = BillingModel.PASS_THROUGH_EXPENSES
    markup_percent: ExactDecimal = Decimal(0)

    @field_validator("markup_percent")
    @classmethod
    def _markup_range(cls, value: Decimal) -> Decimal:
        if not Decimal(0) <= value <= Decimal(100):
            raise ValueError("markup_percent must be between 0 and 100")
        return value


class SubscriptionTerms(Frozen):
    """A fixed amount per recurring period."""

    model: Literal[BillingModel.SUBSCRIPTION] = BillingModel.SUBSCRIPTION
    amount_per_period: Money
    period: PeriodUnit = PeriodUnit.MONTH


Terms = Annotated[
    TimeAndMaterialsTerms | FixedFeeTerms | RetainerTerms | ExpenseTerms | SubscriptionTerms,
    Field(discriminator="model"),
]


class BillingLine(Frozen):
    """One line of a contract with its billing model's terms."""

    line_id: Identifier
    description: str = Field(default="", max_length=MAX_LINE_DESCRIPTION_LENGTH)
    terms: Terms


def check_contract_lines(lines: list[BillingLine]) -> None:
    """Line ids unique, and at most MAX_MILESTONES_PER_CONTRACT milestones over all lines."""
    ids = [line.line_id for line in lines]
    if len(set(ids)) != len(ids):
        raise ValueError("billing line ids must be unique")
    milestones = sum(len(line.terms.milestones) for line in lines if isinstance(line.terms, FixedFeeTerms))
    if milestones > MAX_MILESTONES_PER_CONTRACT:
        raise ValueError(
            f"a contract holds at most {MAX_MILESTONES_PER_CONTRACT} milestones, not {milestones}"
        )


class Contract(Frozen):
    """A numbered contract revision; later revisions never edit earlier ones."""

    revision: int = Field(ge=1)
    currency: str
    start_date: date
    end_date: date | None = None
    po_reference: str = Field(default="", max_length=MAX_REF_LENGTH)
    billing_lines: list[BillingLine] = Field(min_length=1, max_length=MAX_BILLING_LINES)
    approve_time: datetime
    effective_from: date | None = None  # revision 1: the start date; change orders: their date

    @property
    def effective(self) -> date:
        """The first day this revision's terms apply to."""
        return self.effective_from or self.start_date

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _dates(self) -> Contract:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        return self

    def line(self, line_id: str) -> BillingLine | None:
        """The billing line with this id, if any."""
        for line in self.billing_lines:
            if line.line_id == line_id:
                return line
        return None


class ItemStatus(StrEnum):
    """Status of a time entry or expense."""

    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    BILLED = "BILLED"
    HELD_AT_CAP = "HELD_AT_CAP"
    WRITTEN_OFF = "WRITTEN_OFF"


class MilestoneStatus(StrEnum):
    """Status of a fixed-fee milestone."""

    PLANNED = "PLANNED"
    COMPLETED = "COMPLETED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class TimeEntry(Frozen):
    """Hours one person worked on one day in one role, against a T&M line."""

    entry_id: str
    billing_line_id: str
    person: str
    role: str
    work_date: date
    hours: ExactDecimal
    description: str = ""
    status: ItemStatus = ItemStatus.SUBMITTED
    rejection_reason: str = ""
    invoice_id: str = ""
    cap_override: bool = False  # released over the not-to-exceed cap by an approver
    submitted_by: str = ""  # the submitting principal; "" in events recorded before it was kept
    submit_time: datetime
    update_time: datetime


class Expense(Frozen):
    """An out-of-pocket cost passed through to the customer."""

    expense_id: str
    billing_line_id: str
    category: str
    incurred_date: date
    amount: Money
    description: str = ""
    status: ItemStatus = ItemStatus.SUBMITTED
    rejection_reason: str = ""
    invoice_id: str = ""
    submitted_by: str = ""  # the submitting principal; "" in events recorded before it was kept
    submit_time: datetime
    update_time: datetime


class Milestone(Frozen):
    """A fixed-fee milestone being delivered."""

    milestone_id: str
    billing_line_id: str
    display_name: str
    amount: Money
    due_date: date | None = None
    status: MilestoneStatus = MilestoneStatus.PLANNED
    rejection_reason: str = ""
    invoice_id: str = ""
    update_time: datetime


class Severity(StrEnum):
    """How a failed policy check affects the step it guards."""

    BLOCKING = "BLOCKING"
    REVIEW = "REVIEW"
    AUTO_CORRECTED = "AUTO_CORRECTED"


class OwnerQueue(StrEnum):
    """The operations team that owns a business exception (routing: q2c_core.domain.routing)."""

    FINANCE_OPS = "FINANCE_OPS"
    DELIVERY_OPS = "DELIVERY_OPS"
    SALES_OPS = "SALES_OPS"


class ExceptionState(StrEnum):
    """Whether a business exception still needs someone's attention."""

    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class BusinessException(Frozen):
    """A failed policy check, routed to an operations queue to resolve within its SLA.

    owner_queue and sla_due_time are set when it is raised (q2c_core.domain.routing); data
    written before routing existed (events, snapshots, read-model rows) gets them derived
    from check, step, severity and raise_time when it is loaded.
    """

    exception_id: str
    engagement_id: str
    customer_id: str
    step: GatedStep
    check: str
    severity: Severity
    state: ExceptionState = ExceptionState.OPEN
    message: str
    correction: str = ""
    item_ids: list[str] = []  # e.g. the time entries held at the cap
    resolution_note: str = ""
    resolved_by: str = ""
    raise_time: datetime
    resolve_time: datetime | None = None
    owner_queue: OwnerQueue
    sla_due_time: datetime | None  # None: no SLA (AUTO_CORRECTED)

    @model_validator(mode="before")
    @classmethod
    def _routed(cls, data: Any) -> Any:
        """Derive owner_queue / sla_due_time when absent (data from before routing)."""
        if not isinstance(data, dict) or ("owner_queue" in data and "sla_due_time" in data):
            return data
        from q2c_core.domain.routing import routing_defaults  # routing imports this module

        return {**data, **routing_defaults(data)}

    def age(self, now: datetime) -> timedelta:
        """How long it has been open: until now while OPEN, until resolve_time once RESOLVED."""
        end = self.resolve_time if self.state is ExceptionState.RESOLVED and self.resolve_time else now
        return max(end - self.raise_time, timedelta(0))

    def sla_breached(self, now: datetime) -> bool:
        """Past its SLA: still OPEN after sla_due_time, or RESOLVED after it. Never without an SLA."""
        if self.sla_due_time is None:
            return False
        end = self.resolve_time if self.state is ExceptionState.RESOLVED and self.resolve_time else now
        return end > self.sla_due_time


class StaffingAssignment(Frozen):
    """A person planned onto the engagement in a role."""

    person: str = Field(min_length=1, max_length=MAX_NAME_LENGTH)
    role: str = Field(min_length=1, max_length=MAX_ROLE_LENGTH)
