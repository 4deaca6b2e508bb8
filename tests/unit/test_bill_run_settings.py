"""The bill-run lease flags reach the runtimes' lease settings."""

from __future__ import annotations

import pytest

from q2c_core.app.billing.lease import LeaseSettings
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
