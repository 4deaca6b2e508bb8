"""The host's synchronous entry (what a threaded shard actor calls): one writer at a time
across threads and the event loop, close and idle waiting for the calls begun before, and a
periodic sweep that outlives a failing sweep."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from q2c_core.adapters.store import Store
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import CommandResult
from q2c_core.domain.errors import ErrorKind
from tests.host.helpers import create, envelope, new_id, qualify

WAIT = 10.0  # seconds a test waits for another thread before failing


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    """Threads standing for the shard actor's Ray threads."""
    with ThreadPoolExecutor(max_workers=4) as threads:
        yield threads


def until(condition: Callable[[], bool]) -> None:
    """Spin until `condition` holds (another thread moves it on), failing after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"


def blocking_job(host: EngagementHost, pool: ThreadPoolExecutor) -> threading.Event:
    """Start a job that holds the writer lock until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        assert release.wait(WAIT)

    pool.submit(host.run_job_now, hold)
    assert started.wait(WAIT)
    return release


def create_behind_a_job(
    host: EngagementHost, pool: ThreadPoolExecutor, tenant_id: str, customer_id: str
) -> tuple[threading.Event, Future[list[CommandResult]]]:
    """A create sent from a thread while a job holds the writer lock, once it waits in the
    mailbox: the event that releases the job, and the create's pending results."""
    release = blocking_job(host, pool)
    batch = pool.submit(host.run_batch, [envelope(tenant_id, new_id("eng"), create(customer_id))])
    until(lambda: host.metrics_snapshot()["mailbox"] == 1)
    return release, batch


def test_run_batch_decides_and_commits_in_order(store: Store, tenant_id: str, customer_id: str) -> None:
    host = EngagementHost(store, max_batch=2)
    eid = new_id("eng")
    created, qualified, refused = host.run_batch(
        [
            envelope(tenant_id, eid, create(customer_id)),
            envelope(tenant_id, eid, qualify()),
            envelope(tenant_id, eid, qualify()),  # a second batch (max_batch 2): already QUALIFIED
        ]
    )
    assert created.ok and qualified.ok and refused.error is not None
    assert qualified.engagement is not None and qualified.engagement.version == 2
    assert host.batches_committed == 2
    host.close_now()


def test_a_passing_run_batch_keeps_none_it_loaded_but_keeps_those_held_before(
    store: Store, tenant_id: str, customer_id: str
) -> None:
    host = EngagementHost(store, max_batch=1)  # the passing keys of each of its batches
    held, passed = new_id("eng"), new_id("eng")
    assert all(
        r.ok for r in host.run_batch([envelope(tenant_id, e, create(customer_id)) for e in (held, passed)])
    )
    host.residency.forget((tenant_id, passed))

    results = host.run_batch([envelope(tenant_id, e, qualify()) for e in (held, passed)], passing=True)

    assert all(r.ok for r in results)
    assert host.residency.holds((tenant_id, held)) and not host.residency.holds((tenant_id, passed))
    host.close_now()


def test_a_batch_waits_for_a_running_job_and_counts_in_the_mailbox(
    store: Store, tenant_id: str, customer_id: str, pool: ThreadPoolExecutor
) -> None:
    host = EngagementHost(store)
    release, batch = create_behind_a_job(host, pool, tenant_id, customer_id)
    assert not batch.done() and host.batches_committed == 0
    release.set()
    [created] = batch.result(WAIT)
    assert created.ok and host.batches_committed == 1
    assert host.metrics_snapshot()["mailbox"] == 0
    host.close_now()


async def test_batches_from_threads_and_from_the_event_loop_never_overlap(
    store: Store, tenant_id: str, customer_id: str, pool: ThreadPoolExecutor
) -> None:
    host = EngagementHost(store)
    active, most = [0], [0]
    decide = host.process_batch

    def tracked(*args: Any) -> list[CommandResult]:
        active[0] += 1
        most[0] = max(most[0], active[0])
        try:
            return decide(*args)  # commits: the store's fsync lets other threads run meanwhile
        finally:
            active[0] -= 1

    host.process_batch = tracked  # type: ignore[method-assign,assignment]

    def from_a_thread() -> list[bool]:
        return [
            host.run_batch([envelope(tenant_id, new_id("eng"), create(customer_id))])[0].ok for _ in range(5)
        ]

    threads = [pool.submit(from_a_thread) for _ in range(3)]
    queued = [host.submit(envelope(tenant_id, new_id("eng"), create(customer_id))) for _ in range(5)]
    from_the_loop = [r.ok for r in await asyncio.gather(*queued)]
    assert all(from_the_loop) and all(all(t.result(WAIT)) for t in threads)
    assert most[0] == 1
    assert len(store.list_engagements(tenant_id).items) == 20
    await host.close()


def test_close_now_finishes_the_batches_begun_before_and_refuses_later_ones(
    store: Store, tenant_id: str, customer_id: str, pool: ThreadPoolExecutor
) -> None:
    host = EngagementHost(store)
    release, begun = create_behind_a_job(host, pool, tenant_id, customer_id)  # admitted, waiting

    def close() -> int:
        host.close_now()
        return host.batches_committed

    closing = pool.submit(close)
    until(lambda: host.closed)
    [refused] = host.run_batch([envelope(tenant_id, new_id("eng"), create(customer_id))])
    assert refused.error is not None
    assert (refused.error.kind, refused.error.reason) == (ErrorKind.UNAVAILABLE, "HOST_CLOSED")
    release.set()
    committed_when_closed = closing.result(WAIT)
    assert begun.result(WAIT)[0].ok
    assert committed_when_closed == 1  # close_now returned after the batch begun before it
    assert len(store.list_engagements(tenant_id).items) == 1


def test_idle_now_returns_once_the_calls_begun_before_have_finished(
    store: Store, tenant_id: str, customer_id: str, pool: ThreadPoolExecutor
) -> None:
    host = EngagementHost(store)
    release, begun = create_behind_a_job(host, pool, tenant_id, customer_id)

    def idle_now() -> int:
        host.idle_now()
        return host.batches_committed

    idle = pool.submit(idle_now)
    release.set()
    assert idle.result(WAIT) == 1
    assert begun.result(WAIT)[0].ok and not host.closed
    host.close_now()


async def test_close_waits_for_the_calling_threads_batches_too(
    store: Store, tenant_id: str, customer_id: str, pool: ThreadPoolExecutor
) -> None:
    host = EngagementHost(store)
    release = blocking_job(host, pool)
    begun = pool.submit(host.run_batch, [envelope(tenant_id, new_id("eng"), create(customer_id))])
    await asyncio.to_thread(until, lambda: host.metrics_snapshot()["mailbox"] == 1)
    closing = asyncio.ensure_future(host.close())
    await asyncio.to_thread(until, lambda: host.closed)
    release.set()
    await asyncio.wait_for(closing, WAIT)
    assert host.batches_committed == 1  # close returned after the batch begun before it
    assert begun.result(WAIT)[0].ok


def test_the_periodic_sweep_goes_on_after_a_sweep_raised(store: Store) -> None:
    host = EngagementHost(store)
    calls: list[float] = []
    again = threading.Event()

    def sweep(now: float, limit: int = 0) -> None:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("a sweep that failed")
        again.set()

    host.residency.sweep = sweep  # type: ignore[method-assign]
    thread = host.sweep_every(0.01)
    assert again.wait(WAIT)
    host.close_now()
    thread.join(WAIT)
    assert not thread.is_alive()  # stopped by the close
