"""`q2c load` against a real gateway (auth on; in-process runtime on SQLite here, Ray shards on
PostgreSQL in test_load_over_ray.py): a small month-end covering every billing model runs to a
passing correctness check, writes its report, and sends exactly the RPCs its plan lists; a
refused token stops it with the q2c command's exit code."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clients.load import profile as profiles
from clients.load import scenario
from clients.load.command import main
from clients.load.plan import Plan
from clients.load.scenario import MODELS
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


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite, for this module (PostgreSQL: test_load_over_ray.py)."""
    yield f"sqlite:///{tmp_path_factory.mktemp('q2c_db') / 'q2c.db'}"


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


def run_and_check(load_target: LoadTarget, directory: Path) -> dict[str, Any]:
    """Run the test profile with `q2c load`; check the report's files, the passing check, and
    that the RPCs sent are the plan's; report.json's content."""
    tag = f"t-{uuid.uuid4().hex[:8]}"
    path, report = _profile_file(directory), directory / "report"
    args = ["--profile", str(path), "--seed", str(SEED), "--run-tag", tag, "--clients", "6"]
    code = main([*load_target.args(), *args, "--report-dir", str(report), "--no-live", "--json"])
    assert code == 0
    assert (report / "report.md").read_text().strip()
    for png in PNGS:
        assert (report / png).read_bytes().startswith(b"\x89PNG")
    data: dict[str, Any] = json.loads((report / "report.json").read_text())
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
    return data


def test_month_end_run_passes_the_check_and_writes_the_report(
    load_target: LoadTarget, tmp_path: Path
) -> None:
    data = run_and_check(load_target, tmp_path)
    assert data["run"]["server"]["shards"] == 1  # the in-process runtime is one "shard"


def test_a_refused_token_stops_the_run_with_exit_10(
    load_target: LoadTarget, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "--target",
        load_target.target,
        "--token",
        "not-a-token",
        "--approver-token",
        load_target.approver,
    ]
    code = main([*args, "--engagements", "2", "--customers", "1", "--no-live"])
    assert code == 10
    assert "seeding failed: CreateCustomer: UNAUTHENTICATED" in capsys.readouterr().err


@pytest.mark.parametrize(("approver", "exit_code"), [("not-a-token", 10), ("other-tenant", 4)])
def test_a_refused_approver_token_stops_the_run(
    load_target: LoadTarget, capsys: pytest.CaptureFixture[str], tmp_path: Path, approver: str, exit_code: int
) -> None:
    """A token that is refused, or of another tenant (the seeded customers are not found), would
    fail every approval while the check passed on what was left unapproved."""
    if approver == "other-tenant":
        approver = credentials.token(f"load-{uuid.uuid4().hex[:12]}", "load-approver")
    args = ["--target", load_target.target, "--token", load_target.submitter, "--approver-token", approver]
    code = main([*args, "--engagements", "2", "--customers", "1", "--no-live", "--report-dir", str(tmp_path)])
    assert code == exit_code
    assert "the approver's token was refused" in capsys.readouterr().err


def test_an_approver_with_only_the_approval_scopes_is_enough(
    load_target: LoadTarget, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The approver's token check must not ask for more than approving needs (no customers:read)."""
    tenant = f"load-{uuid.uuid4().hex[:12]}"
    approver = credentials.token(
        tenant, "approver", ("time:approve", "expenses:approve", "milestones:accept")
    )
    args = ["--target", load_target.target, "--token", credentials.token(tenant, "submitter")]
    args += ["--approver-token", approver, "--engagements", "3", "--customers", "1", "--seed", "4"]
    code = main([*args, "--no-live", "--report-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
