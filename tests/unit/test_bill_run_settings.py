"""The bill-run lease and pacing flags reach the runtimes."""

from __future__ import annotations

from pathlib import Path

import pytest

from q2c_core.adapters.store import Store
from q2c_core.app.billing.lease import LeaseSettings
from q2c_core.app.runtime import LocalRuntime
from q2c_core.bootstrap import build_runtime, store_url
from q2c_core.settings import parse_settings


def test_lease_flags_default_to_thirty_seconds_a_sweep_every_fifteen_and_three_resumes() -> None:
    assert parse_settings([]).bill_run_leases() == LeaseSettings(
        seconds=30.0, sweep_seconds=15.0, max_resumes=3
    )
    given = [
        "--bill-run-lease-seconds",
        "4",
        "--bill-run-sweep-seconds",
        "0.5",
        "--bill-run-max-resumes",
        "0",
    ]
    assert parse_settings(given).bill_run_leases() == LeaseSettings(
        seconds=4.0, sweep_seconds=0.5, max_resumes=0
    )


@pytest.mark.parametrize(
    "flags",
    [["--bill-run-lease-seconds", "0"], ["--bill-run-sweep-seconds", "-1"], ["--bill-run-max-resumes", "-1"]],
)
def test_lease_flags_out_of_range_are_refused(flags: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_settings(flags)


async def test_pacing_flags_reach_the_runtime_that_coordinates_runs(tmp_path: Path) -> None:
    assert (parse_settings([]).bill_run_chunk, parse_settings([]).bill_run_pause_seconds) == (250, 0.0)
    flags = ["--local", "--database-url", f"sqlite:///{tmp_path}/q2c.db"]
    settings = parse_settings([*flags, "--bill-run-chunk", "7", "--bill-run-pause-seconds", "0.25"])
    store = Store.open(store_url(settings))
    runtime = await build_runtime(settings, store)
    try:
        assert isinstance(runtime, LocalRuntime)
        assert (runtime.bill_run_chunk, runtime.bill_run_pause) == (7, 0.25)
    finally:
        await runtime.close()
        store.close()


@pytest.mark.parametrize("flags", [["--bill-run-chunk", "0"], ["--bill-run-pause-seconds", "-0.1"]])
def test_pacing_flags_out_of_range_are_refused(flags: list[str]) -> None:
    with pytest.raises(SystemExit):
        parse_settings(flags)
