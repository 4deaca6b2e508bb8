"""Live figures of a multi-process run: the parent shows worker states posted while they run."""

from __future__ import annotations

from clients.load.record import Recorder
from clients.load.shares import SharedRecorder


def _worker_state(origin: float, calls: int) -> dict[str, object]:
    worker = Recorder(origin)
    for n in range(calls):
        worker.record("SubmitTimeEntries", origin + n / 100, origin + n / 100, origin + n / 100 + 0.01, "OK")
    worker.record("ApproveTimeEntries", origin, origin, origin + 0.02, "ABORTED")
    return worker.state()


def test_live_figures_count_the_posted_worker_states_until_settled() -> None:
    shared = SharedRecorder(100.0)
    shared.record("StartBillRun", 100.0, 100.0, 100.01, "OK")
    shared.post(0, _worker_state(100.0, 20))
    shared.post(1, _worker_state(100.0, 5))
    shared.post(1, _worker_state(100.0, 10))  # a later post replaces the earlier one
    live = shared.live(now=101.0)
    assert live.commands == 1 + 21 + 11
    assert live.errors_by_code == {"ABORTED": 2}
    shared.settle()
    assert shared.live(now=101.0).commands == 1
