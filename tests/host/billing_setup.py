"""A portfolio of engagements in every billing situation, for bill-run tests (any runtime)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from q2c_core.adapters.store import Store
from q2c_core.app.catalog import Catalog
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.domain import commands as cmd
from q2c_core.domain.periods import BillingPeriod
from tests.host.helpers import (
    activate,
    approve_contract,
    caller,
    close_won,
    create,
    envelope,
    new_id,
    qualify,
    seed_customer,
    submit_expense,
)

MARCH = BillingPeriod.month(2025, 3)
ExecuteMany = Callable[[list[CommandEnvelope]], Awaitable[list[CommandResult]]]


@dataclass
class Portfolio:
    """Engagement ids by situation."""

    billable: list[str] = field(default_factory=list)
    nothing: list[str] = field(default_factory=list)
    missing_po: list[str] = field(default_factory=list)
    invoiced: list[str] = field(default_factory=list)
    draft: list[str] = field(default_factory=list)

    @property
    def in_scope(self) -> list[str]:
        """ACTIVE engagements (what a run lists)."""
        return self.billable + self.nothing + self.missing_po + self.invoiced


async def _step(run: ExecuteMany, tenant: str, ids: list[str], command: Any) -> None:
    results = await run([envelope(tenant, eid, command) for eid in ids])
    bad = [r.error for r in results if not r.ok]
    assert not bad, bad


async def build_portfolio(
    run: ExecuteMany,
    store: Store,
    tenant: str,
    *,
    billable: int,
    nothing: int,
    missing_po: int,
    invoiced: int,
) -> Portfolio:
    """Active engagements: billable (an approved expense), nothing to bill, PO missing, invoiced."""
    plain, po_later = seed_customer(store, tenant), seed_customer(store, tenant)
    p = Portfolio(
        billable=[new_id("bill") for _ in range(billable)],
        nothing=[new_id("none") for _ in range(nothing)],
        missing_po=[new_id("nopo") for _ in range(missing_po)],
        invoiced=[new_id("done") for _ in range(invoiced)],
        draft=[new_id("draft") for _ in range(2)],
    )
    await _step(run, tenant, p.draft + p.billable + p.nothing + p.invoiced, create(plain))
    await _step(run, tenant, p.missing_po, create(po_later))
    active = p.in_scope
    for command in (qualify(), close_won(), approve_contract(), activate()):
        await _step(run, tenant, active, command)
    expensed = p.billable + p.missing_po + p.invoiced
    await _step(run, tenant, expensed, submit_expense("x1"))
    await _step(run, tenant, expensed, cmd.ApproveExpenses(expense_ids=["x1"]))
    await _step(run, tenant, p.invoiced, cmd.GenerateInvoice(period=MARCH))
    Catalog(store).update_customer(caller(tenant), None, po_later, {"po_required": True}, "")
    return p
