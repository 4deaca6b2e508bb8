"""--processes: the plan is dealt out without overlap, and the pacing asked for (clients, rate,
window) is shared out, never multiplied by the number of processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.load import profile as profiles
from clients.load import scenario
from clients.load.connect import Settings
from clients.load.messages import Ids
from clients.load.processes import split
from clients.load.schedule import Pace
from clients.load.workers import Job
from tests.load.test_profile import _run

ROOT = Path(__file__).resolve().parents[2]


def _job(pace: Pace, engagements: int = 23) -> Job:
    profile = profiles.load(None, {"engagements": engagements, "customers": 3})
    plan = scenario.build(profile, 7, "t-split")
    return Job(Settings("127.0.0.1:1"), "before", plan.engagements, Ids({}, {}), pace, 0.0)


@pytest.mark.parametrize("processes", [1, 2, 3, 4])
def test_every_engagement_goes_to_exactly_one_share(processes: int) -> None:
    job = _job(Pace(clients=8))
    shares = split(job, processes)
    keys = [e.key for share in shares for e in share.engagements]
    assert sorted(keys) == sorted(e.key for e in job.engagements)
    assert len(set(keys)) == len(keys)
    assert [s.share for s in shares] == list(range(len(shares)))


@pytest.mark.parametrize(("clients", "window", "processes"), [(8, None, 3), (5, 7, 2), (4, 4, 4)])
def test_closed_loop_clients_and_window_are_shared_out(
    clients: int, window: int | None, processes: int
) -> None:
    shares = split(_job(Pace(clients=clients, window=window)), processes)
    assert sum(s.pace.clients or 0 for s in shares) == clients
    assert sum(s.pace.window or 0 for s in shares) == (window or max(16, 4 * clients))


def test_open_loop_rate_and_window_are_shared_out() -> None:
    shares = split(_job(Pace(rate=90.0, window=30)), 3)
    assert sum(s.pace.rate or 0 for s in shares) == pytest.approx(90.0)
    assert sum(s.pace.window or 0 for s in shares) == 30


@pytest.mark.parametrize(
    "flags", [["--clients", "2", "--processes", "3"], ["--window", "2", "--processes", "3"]]
)
def test_fewer_clients_or_window_than_processes_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], flags: list[str]
) -> None:
    code, err = _run(capsys, *flags)
    assert code == 2
    assert "--processes" in err
