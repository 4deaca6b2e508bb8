"""Pacing against a real gateway (SQLite only: the database is not what this exercises): open
loop over two worker processes whose recorders merge, and a run cut short by --duration whose
check counts only what the server acknowledged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from clients.load.command import main
from tests.load.conftest import LoadTarget
from tests.load.test_load_run import PROFILE


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite only, for this module."""
    yield f"sqlite:///{tmp_path_factory.mktemp('q2c_db') / 'q2c.db'}"


def test_open_loop_over_two_processes_merges_their_recorders_and_passes(
    load_target: LoadTarget, tmp_path: Path
) -> None:
    profile, report = tmp_path / "profile.yaml", tmp_path / "report"
    profile.write_text(PROFILE)
    args = ["--profile", str(profile), "--seed", "7", "--rate", "400", "--ramp-up", "0.2", "--processes", "2"]
    code = main([*load_target.args(), *args, "--report-dir", str(report), "--no-live"])
    data = json.loads((report / "report.json").read_text())
    assert code == 0
    assert data["run"]["mode"] == "open" and data["run"]["processes"] == 2
    assert data["correctness"]["passed"] is True
    planned = data["run"]["server"]["planned_rpcs"]
    assert {rpc: data["rpcs"][rpc]["count"] for rpc in planned} == planned


def test_a_run_cut_by_duration_bills_and_checks_what_was_acknowledged(
    load_target: LoadTarget, tmp_path: Path
) -> None:
    report = tmp_path / "report"
    args = ["--engagements", "200", "--customers", "5", "--clients", "4", "--window", "8", "--duration", "1"]
    code = main([*load_target.args(), *args, "--seed", "3", "--report-dir", str(report), "--no-live"])
    data = json.loads((report / "report.json").read_text())
    assert code == 0
    assert data["rpcs"]["CreateEngagement"]["count"] < 200  # cut short
    assert data["correctness"]["passed"] is True
    assert data["correctness"]["invoices_checked"] == data["bill_run"]["invoices"] > 0
