"""Live figures of a multi-process run: the parent shows worker states posted while they run."""

from __future__ import annotations

import asyncio
import queue

from clients.load.record import Recorder
from clients.load.shares import SharedRecorder, collect_states


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


def test_a_phase_collector_drains_what_was_posted_as_the_phase_ended() -> None:
    """A worker's last post can still be queued when its phase ends; left there, the next
    phase's collector would show it on top of the final state merged for real (counted twice)."""
    shared = SharedRecorder(100.0)
    shared.merge(Recorder.from_state(_worker_state(100.0, 20)))  # phase 1, merged for real
    inbox: queue.Queue[tuple[int, dict[str, object]]] = queue.Queue()
    inbox.put((0, _worker_state(100.0, 20)))  # its last post, still queued

    async def end_of_phase() -> None:
        ended = asyncio.Event()
        ended.set()
        await collect_states(shared, inbox, ended)

    asyncio.run(end_of_phase())
    assert inbox.empty()
    assert shared.live(now=101.0).commands == 21
