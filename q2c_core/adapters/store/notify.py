"""Wake event followers from the commit path instead of letting each poll.

`EventNotifier` is per Store (so per process): `Store.commit` calls `notify(tenants)` after a
transaction that wrote events commits; followers on any event loop `wait` for their tenant's
counter to move. Commits made in other processes (Ray shard actors) reach it on PostgreSQL via
`NOTIFY q2c_events, '<tenant>'`, sent inside the event-writing transaction (so delivered only at
commit), and one `PgEventListener` thread per Store that LISTENs and calls `notify`. SQLite has
no cross-process signal: there followers also re-read on a slow fallback timer
(`FALLBACK_SECONDS`); in one process (LocalRuntime) the in-process notify makes them immediate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable

log = logging.getLogger(__name__)

CHANNEL = "q2c_events"
"""The PostgreSQL NOTIFY channel; the payload is the tenant id."""
FALLBACK_SECONDS = {"sqlite": 1.0, "postgresql": 10.0}
"""How long a follower waits without a notification before reading anyway: short on SQLite
(commits in other processes are not signalled), long on PostgreSQL (a lost notification, e.g.
while the listener reconnects)."""
_RECONNECT_SECONDS = 1.0


class EventNotifier:
    """Thread-safe per-tenant commit counters with asyncio waiters (any loop, any thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._everyone = 0  # bumped by notify_all: every tenant's version moves
        self._counts: dict[str, int] = {}
        self._waiters: dict[str, set[asyncio.Future[None]]] = {}
        self.notifications = 0
        """How many notify / notify_all calls there were (for tests and metrics)."""
        self.wakeups = 0
        """How many waiting followers a notification woke."""

    def version(self, tenant_id: str) -> int:
        """The tenant's counter: read it before reading events, then `wait` for it to move."""
        with self._lock:
            return self._everyone + self._counts.get(tenant_id, 0)

    def notify(self, tenant_ids: Iterable[str]) -> None:
        """Events of these tenants committed: wake their followers (callable from any thread)."""
        woken: list[asyncio.Future[None]] = []
        with self._lock:
            self.notifications += 1
            for tenant_id in set(tenant_ids):
                self._counts[tenant_id] = self._counts.get(tenant_id, 0) + 1
                woken.extend(self._waiters.pop(tenant_id, ()))
            self.wakeups += len(woken)
        _wake(woken)

    def notify_all(self) -> None:
        """Something may have been missed (e.g. the listener reconnected): wake every follower."""
        with self._lock:
            self.notifications += 1
            self._everyone += 1
            woken = [f for waiting in self._waiters.values() for f in waiting]
            self._waiters.clear()
            self.wakeups += len(woken)
        _wake(woken)

    @property
    def waiting(self) -> int:
        """Followers waiting right now."""
        with self._lock:
            return sum(len(w) for w in self._waiters.values())

    async def wait(self, tenant_id: str, seen: int, timeout: float) -> bool:
        """Until the tenant's version differs from `seen` (True) or `timeout` passes (False)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._everyone + self._counts.get(tenant_id, 0) != seen:
                return True
            self._waiters.setdefault(tenant_id, set()).add(future)
        try:
            await asyncio.wait_for(future, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                waiting = self._waiters.get(tenant_id)
                if waiting is not None:
                    waiting.discard(future)
                    if not waiting:
                        del self._waiters[tenant_id]


def _wake(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        with contextlib.suppress(RuntimeError):  # its loop has closed: nobody is waiting
            future.get_loop().call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class PgEventListener:
    """One daemon thread with one PostgreSQL connection that LISTENs on `CHANNEL` and turns
    each notification into `notifier.notify([tenant])`; reconnects (waking everyone) on error."""

    def __init__(self, dsn: str, notifier: EventNotifier) -> None:
        self._dsn = dsn
        self._notifier = notifier
        self._stop = threading.Event()
        self.listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="q2c-event-listener", daemon=True)

    def start(self) -> PgEventListener:
        """Start the thread (returns at once; `listening` is set once LISTEN ran)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and join the thread."""
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        import psycopg  # only PostgreSQL deployments need it

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self._notifier.notify_all()  # commits while we were not listening
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._notifier.notify([note.payload])
            except Exception:
                self.listening.clear()
                log.warning("event listener lost its connection; reconnecting", exc_info=True)
                self._stop.wait(_RECONNECT_SECONDS)
