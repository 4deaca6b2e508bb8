"""Live figures across driver processes: each worker posts its Recorder state about once a
second; the parent's `SharedRecorder` shows its own calls merged with the latest of each."""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

from clients.load.record import LiveStats, Recorder

POST_EVERY_S = 1.0


class SharedRecorder(Recorder):
    """A Recorder whose `live()` also counts the worker processes' latest posted states.

    The posted states are only for the live display: when a phase ends the driver merges each
    worker's final state for real and calls `settle()`.
    """

    def __init__(self, origin: float, **kwargs: Any) -> None:
        super().__init__(origin, **kwargs)
        self._posted: dict[int, dict[str, Any]] = {}
        self._posted_lock = threading.Lock()

    def post(self, share: int, state: dict[str, Any]) -> None:
        """The latest state of worker `share`."""
        with self._posted_lock:
            self._posted[share] = state

    def settle(self) -> None:
        """Forget the posted states (their final ones were merged)."""
        with self._posted_lock:
            self._posted.clear()

    def live(self, now: float | None = None) -> LiveStats:
        """Live figures of this process's calls and the workers' latest states."""
        with self._posted_lock:
            posted = list(self._posted.values())
        if not posted:
            return super().live(now)
        view = Recorder.from_state(self.state())
        for state in posted:
            view.merge(Recorder.from_state(state))
        return view.live(now)


async def post_states(recorder: Recorder, share: int, outbox: Any, stop: asyncio.Event) -> None:
    """In a worker: put (share, state) on `outbox` about once a second until `stop`."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), POST_EVERY_S)
        except TimeoutError:
            outbox.put((share, recorder.state()))


async def collect_states(recorder: Recorder, inbox: Any, done: asyncio.Event) -> None:
    """In the parent: hand posted states to a SharedRecorder until `done`, then drop what is
    still queued (the next phase would show it on top of the merged final states)."""
    loop = asyncio.get_running_loop()
    while not done.is_set():
        try:
            share, state = await loop.run_in_executor(None, inbox.get, True, 0.25)
        except queue.Empty:
            continue
        if isinstance(recorder, SharedRecorder):
            recorder.post(share, state)
    while True:  # posts queued as the phase ended: stale once its final states are merged
        try:
            inbox.get_nowait()
        except queue.Empty:
            break
    if isinstance(recorder, SharedRecorder):
        recorder.settle()
