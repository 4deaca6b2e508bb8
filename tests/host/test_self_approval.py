"""Separation of duties through the host: refused self-approvals are audited; exempt tenants pass."""

from __future__ import annotations

from q2c_core.adapters.store import Store
from q2c_core.app.host import EngagementHost
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain import commands as cmd
from q2c_core.domain.duties import SelfApprovalPolicy
from q2c_core.domain.entities import ItemStatus
from q2c_core.domain.errors import ErrorKind
from tests.host.helpers import (
    activate,
    approve_contract,
    audit_of,
    close_won,
    create,
    envelope,
    folded_journal,
    new_id,
    qualify,
    submit_expense,
)

BOB = "bob@example.com"


async def active_with_bobs_expense(host: EngagementHost, tenant_id: str, customer_id: str) -> str:
    eid = new_id("eng")
    for command in (create(customer_id), qualify(), close_won(), approve_contract(), activate()):
        assert (await host.submit(envelope(tenant_id, eid, command))).ok
    assert (await host.submit(envelope(tenant_id, eid, submit_expense("x1"), principal=BOB))).ok
    return eid


async def test_a_self_approval_is_refused_audited_and_changes_nothing(
    host: EngagementHost, store: Store, tenant_id: str, customer_id: str
) -> None:
    eid = await active_with_bobs_expense(host, tenant_id, customer_id)
    events_before = store.read_events(tenant_id, eid)

    refused = await host.submit(
        envelope(tenant_id, eid, cmd.ApproveExpenses(expense_ids=["x1"]), principal=BOB)
    )

    assert refused.error is not None and refused.error.kind is ErrorKind.PERMISSION_DENIED
    assert refused.error.reason == "SELF_APPROVAL" and refused.error.metadata["ids"] == "x1"
    assert store.read_events(tenant_id, eid) == events_before
    last = audit_of(store, tenant_id, eid)[-1]
    assert (last.principal, last.outcome, last.rejection_reason) == (BOB, "REJECTED", "SELF_APPROVAL")
    approved = await host.submit(envelope(tenant_id, eid, cmd.ApproveExpenses(expense_ids=["x1"])))
    assert approved.ok, approved.error
    journal = folded_journal(store, tenant_id, eid)
    assert journal is not None and journal.expenses["x1"].submitted_by == BOB
    assert journal.expenses["x1"].status is ItemStatus.APPROVED


async def test_a_runtime_exempting_the_tenant_lets_the_submitter_approve(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    runtime = LocalRuntime(store, self_approval=SelfApprovalPolicy(frozenset({tenant_id})))
    try:
        eid = await active_with_bobs_expense(runtime.host, tenant_id, customer_id)
        own = envelope(tenant_id, eid, cmd.ApproveExpenses(expense_ids=["x1"]), principal=BOB)
        result = await runtime.execute(own)
    finally:
        await runtime.close()
    assert result.ok, result.error
    assert result.engagement is not None and result.engagement.expenses["x1"].status is ItemStatus.APPROVED
