"""`q2c load` against a real gateway (auth on, SQLite and PostgreSQL): a small month-end covering
every billing model runs to a passing correctness check, writes its report, and sends exactly the
RPCs its plan lists; the oracle fails when the server's data and the plan disagree."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from clients.load import profile as profiles
from clients.load import scenario
from clients.load.command import main
from clients.load.connect import Settings
from clients.load.driver import Options, Outcome, read_server, run
from clients.load.oracle import ServerView, check
from clients.load.plan import Plan
from clients.load.record import Recorder
from clients.load.scenario import MODELS
from clients.load.schedule import Pace
from q2c.v1 import billing_pb2, engagement_pb2
from tests import credentials
from tests.load.conftest import LoadTarget

SEED = 145
"""With PROFILE, this seed's plan covers every model, a cap hold, late entries, change orders,
a pro-rated retainer, rejections, three currencies and every payment kind (checked below)."""
PROFILE = """\
customers: 4
engagements: 12
currencies: {USD: 1, EUR: 1, JPY: 1}
billing_mix:
  {time_and_materials: 1, nte_capped: 1, fixed_fee: 1, retainer: 1, subscription: 1, pass_through: 1}
time_entries: 6
time_batch: 3
expenses: 2
milestones: 2
late_ratio: 0.2
change_order_ratio: 0.5
mid_month_start_ratio: 0.3
"""
PNGS = ("throughput.png", "latency.png", "histogram.png", "bill_run.png")


def _profile_file(tmp_path: Path) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE)
    return path


def _plan(path: Path, tag: str) -> Plan:
    return scenario.build(profiles.load(path, {}), SEED, tag)


def test_the_test_plan_covers_every_model_and_the_tricky_cases(tmp_path: Path) -> None:
    plan = _plan(_profile_file(tmp_path), "t")
    engagements = plan.engagements
    assert {e.model for e in engagements} == set(MODELS)
    assert any(e.change_order for e in engagements)
    assert any(t.late for e in engagements for t in e.time_entries)
    assert any(not t.approved for e in engagements for t in e.time_entries)
    assert any(e.retainer is not None and e.start_date.day > 1 for e in engagements)
    assert {c.currency for c in plan.customers} == {"USD", "EUR", "JPY"}
    assert {e.payment for e in engagements} == {"full", "partial", "none"}


def test_month_end_run_passes_the_check_and_writes_the_report(
    load_target: LoadTarget, tmp_path: Path
) -> None:
    tag = f"t-{uuid.uuid4().hex[:8]}"
    path, report = _profile_file(tmp_path), tmp_path / "report"
    args = ["--profile", str(path), "--seed", str(SEED), "--run-tag", tag, "--clients", "6"]
    code = main([*load_target.args(), *args, "--report-dir", str(report), "--no-live", "--json"])
    assert code == 0
    assert (report / "report.md").read_text().strip()
    for png in PNGS:
        assert (report / png).read_bytes().startswith(b"\x89PNG")
    data = json.loads((report / "report.json").read_text())
    plan = _plan(path, tag)
    invoiced = sum(1 for e in plan.engagements if any(c.rpc == "IssueInvoice" for c in e.after))
    correctness = data["correctness"]
    assert correctness["passed"] is True
    assert correctness["invoices_checked"] == invoiced
    assert correctness["expected_minor"] == correctness["server_minor"]
    assert set(correctness["expected_minor"]) == {"USD", "EUR", "JPY"}
    assert data["bill_run"]["state"] == "SUCCEEDED"
    assert data["bill_run"]["invoices"] == invoiced
    sent = {rpc: stats["count"] for rpc, stats in data["rpcs"].items()}
    assert {rpc: sent.get(rpc) for rpc in plan.rpc_counts()} == plan.rpc_counts()
    assert sent["StartBillRun"] == 1
    assert data["totals"]["errors"] == 0


@pytest.fixture(scope="module")
def finished(load_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Outcome, ServerView]:
    """A month-end driven through the driver itself, and the server's side read back (once per
    module: the tests below only read it)."""
    plan = _plan(_profile_file(tmp_path_factory.mktemp("finished")), f"t-{uuid.uuid4().hex[:8]}")
    tenant = f"load-{uuid.uuid4().hex[:12]}"
    submitter, approver = credentials.token(tenant, "submitter"), credentials.token(tenant, "approver")
    settings = Settings(load_server, token=submitter, approver_token=approver)
    options = Options(settings, Pace(clients=8))

    async def drive() -> tuple[Outcome, ServerView]:
        outcome = await run(plan, options, Recorder(time.monotonic()), lambda _: None)
        assert outcome.ids is not None
        return outcome, await read_server(settings, outcome.ids, outcome)

    outcome, view = asyncio.run(drive())
    assert outcome.verdict is not None and outcome.verdict.correctness.passed
    return plan, outcome, view


def test_the_oracle_fails_when_the_plan_expects_other_amounts(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    plan, outcome, view = finished
    target = next(e for e in plan.engagements if e.retainer is not None)
    corrupted = replace(
        plan,
        engagements=tuple(
            replace(e, retainer=e.retainer + Decimal(1)) if e.key == target.key and e.retainer else e
            for e in plan.engagements
        ),
    )
    verdict = check(corrupted, outcome.before, outcome.after, view)
    assert not verdict.correctness.passed
    assert [m.split(":")[0] for m in verdict.correctness.mismatches] == [target.key]
    assert verdict.correctness.expected_minor != verdict.correctness.server_minor


def test_the_oracle_counts_an_item_billed_twice(finished: tuple[Plan, Outcome, ServerView]) -> None:
    plan, outcome, view = finished
    invoice = next(i for i in view.invoices if i.lines)
    twin = billing_pb2.Invoice()
    twin.CopyFrom(invoice)
    twin.invoice_id = invoice.invoice_id + "-twin"
    verdict = check(plan, outcome.before, outcome.after, ServerView([*view.invoices, twin], view.engagements))
    assert not verdict.correctness.passed
    assert verdict.correctness.billed_twice == len(invoice.lines)


def test_the_oracle_counts_an_acknowledged_command_whose_effect_is_missing(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    plan, outcome, view = finished
    key = next(k for k, e in view.engagements.items() if e is not None and e.time_entries)
    engagement = view.engagements[key]
    assert engagement is not None
    trimmed = engagement_pb2.Engagement()
    trimmed.CopyFrom(engagement)
    del trimmed.time_entries[0]
    verdict = check(
        plan, outcome.before, outcome.after, ServerView(view.invoices, {**view.engagements, key: trimmed})
    )
    assert not verdict.correctness.passed
    assert verdict.correctness.lost_commands == 2  # the entry's submission and its review


def test_the_oracle_counts_approved_items_left_unbilled(finished: tuple[Plan, Outcome, ServerView]) -> None:
    plan, outcome, view = finished
    late = {(e.key, t.entry_id) for e in plan.engagements for t in e.time_entries if t.late}
    key, entry_index = next(
        (k, n)
        for k, e in view.engagements.items()
        if e is not None
        for n, t in enumerate(e.time_entries)
        if t.status == engagement_pb2.TIME_ENTRY_STATUS_BILLED and (k, t.entry_id) not in late
    )
    engagement = view.engagements[key]
    assert engagement is not None
    unbilled = engagement_pb2.Engagement()
    unbilled.CopyFrom(engagement)
    unbilled.time_entries[entry_index].status = engagement_pb2.TIME_ENTRY_STATUS_APPROVED
    verdict = check(
        plan, outcome.before, outcome.after, ServerView(view.invoices, {**view.engagements, key: unbilled})
    )
    assert verdict.correctness.approved_unbilled == 1
    assert not verdict.correctness.passed
    assert verdict.correctness.mismatches == []
