"""The load plan and its pricing, without a server: determinism, the expected invoice's rules
(half up per line, caps in order, pro-rating, tax), and the open loop's send schedule."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal

from clients.load import profile as profiles
from clients.load import scenario
from clients.load.expect import expected_invoice, half_up, to_minor
from clients.load.plan import ChangeOrder, CustomerPlan, EngagementPlan, RateCardPlan, TimeEntryPlan
from clients.load.schedule import Pace, drive, send_offset
from clients.load.workers import InvoiceRef, payment_amount

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
CARDS = {
    "USD-standard": RateCardPlan("USD-standard", "USD", {"analyst": Decimal("133.333")}),
    "USD-premium": RateCardPlan("USD-premium", "USD", {"analyst": Decimal("146.6663")}),
}
TAXED = CustomerPlan("C1", "USD", Decimal("0.08875"), False, "US-NY")


def _entry(n: int, day: int, hours: str, *, approved: bool = True, late: bool = False) -> TimeEntryPlan:
    return TimeEntryPlan(f"t{n}", "p1", "analyst", date(2026, 3, day), Decimal(hours), approved, late)


def _engagement(**changes: object) -> EngagementPlan:
    base = EngagementPlan(
        key="E1",
        customer="C1",
        model="time_and_materials",
        currency="USD",
        contract_start=MARCH[0],
        contract_end=date(2027, 2, 28),
        start_date=MARCH[0],
        rate_card="USD-standard",
        cap=None,
        markup=None,
        retainer=None,
        subscription=None,
        subscription_unit="MONTH",
        milestones=(),
        time_entries=(),
        expenses=(),
        change_order=None,
        payment="none",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_same_seed_and_tag_give_the_same_plan_and_another_seed_another() -> None:
    profile = profiles.build({"engagements": 30, "customers": 5})
    assert scenario.build(profile, 3, "tag") == scenario.build(profile, 3, "tag")
    assert scenario.build(profile, 3, "tag") != scenario.build(profile, 4, "tag")


def test_every_request_id_of_a_plan_is_unique_and_carries_the_run_tag() -> None:
    plan = scenario.build(profiles.build({}), 1, "run-x")
    ids = [c.request_id for e in plan.engagements for c in (*e.commands, *e.after)]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("run-x.") and len(i) <= 128 for i in ids)


def test_hours_are_priced_half_up_per_line_and_taxed_once_on_the_subtotal() -> None:
    plan = _engagement(time_entries=(_entry(1, 2, "7.5"), _entry(2, 3, "1.25")))
    invoice = expected_invoice(plan, TAXED, CARDS, MARCH)
    assert invoice.lines == {"t1": Decimal("1000.00"), "t2": Decimal("166.67")}  # 999.9975, 166.66625
    assert invoice.tax == Decimal("103.54")  # 1166.67 x 0.08875 = 103.5419...
    assert to_minor(invoice.total, "USD") == 127021


def test_entries_over_the_cap_are_held_in_date_order_and_later_smaller_ones_still_fit() -> None:
    entries = (_entry(1, 2, "5"), _entry(2, 3, "5"), _entry(3, 4, "1"))  # 666.67, 666.67, 133.33
    invoice = expected_invoice(_engagement(cap=Decimal(900), time_entries=entries), TAXED, CARDS, MARCH)
    assert invoice.held == ["t2"]
    assert set(invoice.lines) == {"t1", "t3"}


def test_a_change_order_reprices_work_from_its_date_and_its_cap_applies_to_the_period() -> None:
    change = ChangeOrder(date(2026, 3, 15), "USD-premium", Decimal(10_000))
    entries = (_entry(1, 14, "1"), _entry(2, 15, "1"))
    invoice = expected_invoice(
        _engagement(cap=Decimal(1), change_order=change, time_entries=entries), TAXED, CARDS, MARCH
    )
    assert invoice.lines == {"t1": Decimal("133.33"), "t2": Decimal("146.67")}
    assert invoice.held == []


def test_late_and_rejected_entries_are_not_on_the_invoice() -> None:
    entries = (_entry(1, 2, "1", late=True), _entry(2, 3, "1", approved=False))
    assert not expected_invoice(_engagement(time_entries=entries), TAXED, CARDS, MARCH).exists


def test_a_retainer_from_a_mid_month_start_is_prorated_by_calendar_days() -> None:
    plan = _engagement(model="retainer", retainer=Decimal("3000.00"), start_date=date(2026, 3, 16))
    assert expected_invoice(plan, TAXED, CARDS, MARCH).lines == {"ret": Decimal("1548.39")}  # x 16/31


def test_minor_units_follow_the_currency() -> None:
    assert half_up(Decimal("1234.5"), "JPY") == Decimal(1235)
    assert to_minor(Decimal("1.0005"), "KWD") == 1001


def test_a_partial_payment_is_half_the_total_rounded_down_to_the_minor_unit() -> None:
    assert payment_amount(InvoiceRef("i", "100.05", "USD"), "partial") == "50.02"
    assert payment_amount(InvoiceRef("i", "1235", "JPY"), "partial") == "617"
    assert payment_amount(InvoiceRef("i", "100.05", "USD"), "full") == "100.05"


def test_the_open_loop_ramps_up_linearly_then_holds_the_rate() -> None:
    offsets = [send_offset(k, 100, 2.0) for k in range(400)]
    assert offsets == sorted(offsets)
    assert abs(send_offset(100, 100, 2.0) - 2.0) < 1e-9  # 100 sends in the 2 s ramp (half the rate)
    assert abs(send_offset(300, 100, 2.0) - 4.0) < 1e-9  # then 100/s
    assert send_offset(50, 100, 0) == 0.5


class _Script:
    def __init__(self, commands: int) -> None:
        self.left = commands

    def has_next(self) -> bool:
        return self.left > 0


def test_an_open_loop_send_is_scheduled_and_every_command_of_every_script_is_sent() -> None:
    scripts = [_Script(3) for _ in range(4)]
    lateness: list[float] = []

    async def send(script: object, intended: float | None) -> None:
        assert isinstance(script, _Script) and intended is not None
        lateness.append(time.monotonic() - intended)
        script.left -= 1
        await asyncio.sleep(0)

    asyncio.run(drive(list(scripts), send, Pace(rate=2000)))
    assert len(lateness) == 12
    assert min(lateness) >= 0  # never sent before its slot
    assert all(s.left == 0 for s in scripts)


def test_a_closed_loop_stops_sending_at_the_deadline() -> None:
    scripts = [_Script(10_000)]
    sent: list[float] = []

    async def send(script: object, intended: float | None) -> None:
        assert isinstance(script, _Script) and intended is None
        sent.append(time.monotonic())
        script.left -= 1
        await asyncio.sleep(0.001)

    deadline = time.monotonic() + 0.2
    asyncio.run(drive(list(scripts), send, Pace(clients=2, deadline=deadline)))
    assert sent and max(sent) <= deadline
    assert scripts[0].left > 0


def test_the_oracle_is_independent_of_the_server_code() -> None:
    code = (
        "import sys, clients.load.oracle, clients.load.expect, clients.load.acknowledged;"
        "print(sorted(m for m in sys.modules if m.startswith('q2c_core')))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
