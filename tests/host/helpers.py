"""Builders for the host tests: callers, customers, envelopes and journal checks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from q2c_core.adapters.store import AuditRecord, Store
from q2c_core.app.billing.runs import BillRun
from q2c_core.app.catalog import Catalog, CustomerSpec
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import Caller, CommandEnvelope, CommandResult
from q2c_core.app.reads import Queries
from q2c_core.domain import commands as cmd
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BillingLine,
    ExpenseTerms,
    FixedFeeTerms,
    MilestoneSpec,
    StaffingAssignment,
)
from q2c_core.domain.events import event_from_payload
from q2c_core.domain.evolve import fold
from q2c_core.domain.money import Money
from q2c_core.domain.reference import TaxProfile

CONTRACT_START = date(2025, 2, 1)
CONTRACT_END = date(2025, 12, 31)
OPERATOR = "ops@example.com"
"""Who commands run as: an operator, who also submits time and expenses."""
APPROVER = "finance@example.com"
"""Who approves time and expenses: finance, never the submitter (separation of duties)."""
APPROVALS = (cmd.ApproveTimeEntries, cmd.ApproveExpenses)


def new_id(prefix: str) -> str:
    """A unique, readable id."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def caller(tenant_id: str, principal: str = OPERATOR) -> Caller:
    """A principal of the tenant (an operator unless named)."""
    return Caller(tenant_id=tenant_id, principal=principal, correlation_id=new_id("corr"))


def seed_customer(store: Store, tenant_id: str, **overrides: Any) -> str:
    """Create an active, fully mapped USD customer (passes the close-won gate); return its id."""
    fields: dict[str, Any] = {
        "display_name": "Acme",
        "legal_entity": "Acme Holdings LLC",
        "billing_currency": "USD",
        "tax_profile": TaxProfile(jurisdiction="US-NY", rate=Decimal("0.08875")),
        "service_line": "erp",
    }
    fields.update(overrides)
    return Catalog(store).create_customer(caller(tenant_id), None, CustomerSpec(**fields)).customer_id


def envelope(
    tenant_id: str,
    engagement_id: str,
    command: Any,
    request_id: str | None = None,
    principal: str | None = None,
) -> CommandEnvelope:
    """One command for one engagement of the tenant; approvals come from finance unless named."""
    who = principal or (APPROVER if isinstance(command, APPROVALS) else OPERATOR)
    return CommandEnvelope(
        caller=caller(tenant_id, who), engagement_id=engagement_id, request_id=request_id, command=command
    )


def create(customer_id: str, name: str = "ERP rollout") -> cmd.CreateEngagement:
    """Open an engagement for the customer."""
    return cmd.CreateEngagement(customer_id=customer_id, display_name=name, service_line="erp")


def qualify(comment: str = "") -> cmd.QualifyEngagement:
    """Qualify the opportunity."""
    return cmd.QualifyEngagement(comment=comment)


def close_won() -> cmd.CloseWonEngagement:
    """Close the opportunity as won."""
    return cmd.CloseWonEngagement()


def approve_contract() -> cmd.ApproveContract:
    """A USD fixed-fee + pass-through-expenses contract for 2025 (needs no rate card)."""
    milestone = MilestoneSpec(milestone_id="m1", display_name="Go-live", amount=Money.of("1000", "USD"))
    lines = [
        BillingLine(line_id="ff", terms=FixedFeeTerms(milestones=[milestone])),
        BillingLine(line_id="exp", terms=ExpenseTerms()),
    ]
    return cmd.ApproveContract(
        currency="USD", start_date=CONTRACT_START, end_date=CONTRACT_END, billing_lines=lines
    )


def activate() -> cmd.ActivateEngagement:
    """Start delivery on the contract start date with one person staffed."""
    return cmd.ActivateEngagement(
        start_date=CONTRACT_START, staffing_plan=[StaffingAssignment(person="ada", role="engineer")]
    )


def submit_expense(expense_id: str, amount: str = "120.50") -> cmd.SubmitExpenses:
    """Submit one travel expense on the pass-through line."""
    item = cmd.ExpenseInput(
        expense_id=expense_id,
        billing_line_id="exp",
        category="travel",
        incurred_date=date(2025, 3, 3),
        amount=Money.of(amount, "USD"),
    )
    return cmd.SubmitExpenses(expenses=[item])


def cancel(reason: str = "budget cut") -> cmd.CancelEngagement:
    """Cancel the engagement."""
    return cmd.CancelEngagement(reason=reason)


def folded_journal(store: Store, tenant_id: str, engagement_id: str) -> Engagement | None:
    """The engagement rebuilt from nothing but its journal."""
    events = store.read_events(tenant_id, engagement_id)
    return fold((event_from_payload(e.payload), e.occurred_at) for e in events)


def reloaded(store: Store, tenant_id: str, engagement_id: str) -> Engagement | None:
    """The engagement as a fresh activation sees it: snapshot row plus tail events."""
    row, tail = store.load_stream(tenant_id, engagement_id)
    base = Engagement.model_validate(row.snapshot) if row else None
    return fold(((event_from_payload(e.payload), e.occurred_at) for e in tail), base)


def audit_of(store: Store, tenant_id: str, stream_id: str) -> list[AuditRecord]:
    """Every audit record of a stream, in order."""
    return store.list_audit(tenant_id, stream_id, page_size=1000).items


async def submit_on_new_host(store: Store, envelope: CommandEnvelope) -> CommandResult:
    """`envelope` submitted to a new host on `store` (one that holds nothing yet), closed after."""
    other = EngagementHost(store)
    try:
        return await other.submit(envelope)
    finally:
        await other.close()


async def bill_run_reaching(
    queries: Queries, run: BillRun, done: int, seconds: float, poll: float = 0.01
) -> BillRun:
    """Poll the stored run until it processed `done` engagements or finished (AssertionError
    naming the run as it stands once `seconds` have passed)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        current = queries.get_bill_run(run.tenant_id, run.bill_run_id)
        if current.engagements_processed >= done or current.state.finished:
            return current
        await asyncio.sleep(poll)
    raise AssertionError(f"bill run {run.bill_run_id} stalled: {current}")
