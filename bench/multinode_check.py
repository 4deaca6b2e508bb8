"""The correctness check after a month-end run: oracle totals, duplicates, lost acknowledgements."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from bench.multinode_load import MonthEnd, Plan
from q2c.v1 import billing_pb2
from q2c.v1 import engagement_pb2 as pb


@dataclass
class Verdict:
    """What the check found; `ok` when nothing is lost, doubled or mispriced."""

    engagements_checked: int = 0
    invoices_live: int = 0
    engagements_invoiced_twice: list[str] = field(default_factory=list)
    engagements_not_invoiced: list[str] = field(default_factory=list)
    totals_mismatched: list[str] = field(default_factory=list)
    acknowledged_items_lost: list[str] = field(default_factory=list)
    approved_items_unbilled: list[str] = field(default_factory=list)
    oracle_total: str = "0"
    invoiced_total: str = "0"

    @property
    def ok(self) -> bool:
        """True when every count is zero and the grand totals agree to the cent."""
        return not (
            self.engagements_invoiced_twice
            or self.engagements_not_invoiced
            or self.totals_mismatched
            or self.acknowledged_items_lost
            or self.approved_items_unbilled
        ) and Decimal(self.oracle_total) == Decimal(self.invoiced_total)

    def summary(self) -> dict[str, Any]:
        """Counts (and the first few ids of anything wrong), for a report line."""
        out: dict[str, Any] = {"ok": self.ok}
        for key, value in asdict(self).items():
            out[key] = value if not isinstance(value, list) else len(value)
            if isinstance(value, list) and value:
                out[f"{key}_sample"] = value[:5]
        return out


def _items_lost(plan: Plan, engagement: pb.Engagement) -> tuple[list[str], list[str]]:
    """(planned items missing from the engagement, items present but not on an invoice)."""
    times = {t.entry_id: t for t in engagement.time_entries}
    costs = {x.expense_id: x for x in engagement.expenses}
    stones = {m.milestone_id: m for m in engagement.milestones}
    eid = engagement.engagement_id
    planned = [("time", i, times.get(i)) for i, *_ in plan.entries]
    planned += [("expense", x, costs.get(x)) for x, _ in plan.expenses]
    planned.append(("milestone", "m1", stones.get("m1")))
    lost = [f"{eid}/{kind}/{item}" for kind, item, found in planned if found is None]
    unbilled = [
        f"{eid}/{kind}/{item}" for kind, item, found in planned if found is not None and not found.invoice_id
    ]
    if engagement.state != pb.ENGAGEMENT_STATE_ACTIVE:
        lost.append(f"{eid}/state/{pb.EngagementState.Name(engagement.state)}")
    return lost, unbilled


async def check(client: MonthEnd, work: list[Plan]) -> Verdict:
    """Compare the server's invoices and engagements with the plans the ledger acknowledged."""
    verdict = Verdict()
    live = [i for i in await client.invoices() if i.state != billing_pb2.INVOICE_STATE_VOID]
    verdict.invoices_live = len(live)
    by_engagement: dict[str, list[billing_pb2.Invoice]] = {}
    for invoice in live:
        by_engagement.setdefault(invoice.engagement_id, []).append(invoice)
    expected = Decimal(0)
    for plan in work:
        if plan.n in client.ledger.failed_plans or plan.n not in client.ledger.engagement_ids:
            continue  # failed for good (reported as such), or never begun
        eid = client.ledger.engagement_ids[plan.n]
        verdict.engagements_checked += 1
        mine = by_engagement.get(eid, [])
        if len(mine) > 1:
            verdict.engagements_invoiced_twice.append(eid)
        elif not mine:
            verdict.engagements_not_invoiced.append(eid)
        elif Decimal(mine[0].total.amount) != plan.expected_total():
            verdict.totals_mismatched.append(f"{eid}: {mine[0].total.amount} != {plan.expected_total()}")
        expected += plan.expected_total()
        lost, unbilled = _items_lost(plan, await client.get(eid))
        verdict.acknowledged_items_lost += lost
        verdict.approved_items_unbilled += unbilled
    verdict.oracle_total = str(expected)
    verdict.invoiced_total = str(sum((Decimal(i.total.amount) for i in live), Decimal(0)))
    return verdict


def codes(counter: Counter[str]) -> dict[str, int]:
    """A Counter as a plain sorted dict (for JSON)."""
    return dict(sorted(counter.items()))
