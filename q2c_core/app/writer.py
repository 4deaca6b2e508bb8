"""WriterGate: one writer at a time on an EngagementHost, whichever thread calls it.

A threaded shard actor runs each batch and job on the Ray thread that received the call; the
in-process runtime runs them from its asyncio worker through `asyncio.to_thread`. Both take
`WriterGate.lock` around each batch or job, so batches, sweeps and activations never overlap.
The gate also tracks the calls admitted and not finished, so that `idle` and `close` can wait
for them, and refuses new commands once closed (jobs are still admitted).
"""

from __future__ import annotations

import itertools
import threading


class WriterGate:
    """The host's writer lock, its admitted calls, and whether it is closed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.closing = threading.Event()  # set once by close(); periodic work waits on it
        self._state = threading.Condition()
        self._running: dict[int, int] = {}  # admitted call -> its commands waiting for the lock
        self._tokens = itertools.count()

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self.closing.is_set()

    def admit(self, commands: int, *, refusable: bool) -> int | None:
        """A token for a call of `commands` commands, or None when closed and `refusable`."""
        with self._state:
            if refusable and self.closing.is_set():
                return None
            token = next(self._tokens)
            self._running[token] = commands
            return token

    def started(self, token: int) -> None:
        """The call holds the lock: its commands no longer wait."""
        with self._state:
            self._running[token] = 0

    def done(self, token: int) -> None:
        """The call has finished (its results are final)."""
        with self._state:
            del self._running[token]
            self._state.notify_all()

    def waiting(self) -> int:
        """Commands of admitted calls that wait for the lock."""
        with self._state:
            return sum(self._running.values())

    def running(self) -> frozenset[int]:
        """The calls admitted and not finished, now."""
        with self._state:
            return frozenset(self._running)

    def wait_for(self, tokens: frozenset[int]) -> None:
        """Block until every call in `tokens` has finished."""
        with self._state:
            self._state.wait_for(lambda: tokens.isdisjoint(self._running))

    def close(self) -> frozenset[int]:
        """Refuse commands from now on; the calls admitted before, to wait for."""
        with self._state:
            self.closing.set()
            return frozenset(self._running)
