"""Two hosts that both believe they own an engagement: the journal's unique key keeps it whole."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from q2c_core.adapters.store import ConcurrencyConflict, Store, WriteBatch
from q2c_core.app.host import MAX_RETRIES, EngagementHost
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.app.records import AuditRecord
from q2c_core.domain.entities import EngagementState
from q2c_core.domain.errors import ErrorKind
from tests.host.helpers import (
    activate,
    approve_contract,
    audit_of,
    cancel,
    close_won,
    create,
    envelope,
    folded_journal,
    new_id,
    qualify,
    reloaded,
    submit_expense,
)


class ConflictCountingStore(Store):
    """A Store that counts the ConcurrencyConflicts its commits raise."""

    conflicts = 0

    def commit(self, batch: WriteBatch) -> list[AuditRecord]:
        try:
            return super().commit(batch)
        except ConcurrencyConflict:
            self.conflicts += 1
            raise


class AlwaysConflictingStore(Store):
    """A Store on which every commit loses a race."""

    attempts = 0

    def commit(self, batch: WriteBatch) -> list[AuditRecord]:
        self.attempts += 1
        raise ConcurrencyConflict([e.stream_id for e in batch.events], "event seq taken")


@pytest.fixture
def second_store(database_url: str) -> Iterator[ConflictCountingStore]:
    """Another Store (own engine, own pool) on the module's database."""
    other = ConflictCountingStore(Store.open(database_url, migrate=False).engine)
    yield other
    other.close()


def race(jobs: list[tuple[EngagementHost, CommandEnvelope]]) -> list[CommandResult]:
    """Run each host's process_batch in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(jobs))
    results: list[CommandResult | None] = [None] * len(jobs)
    failures: list[BaseException] = []

    def run(index: int, host: EngagementHost, env: CommandEnvelope) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = host.process_batch([env])[0]
        except BaseException as error:  # surfaced by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i, h, e)) for i, (h, e) in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def active_engagement(host: EngagementHost, tenant_id: str, customer_id: str) -> str:
    """An ACTIVE engagement driven through `host` (so it is resident there)."""
    eid = new_id("eng")
    steps = [create(customer_id), qualify(), close_won(), approve_contract(), activate()]
    results = host.process_batch([envelope(tenant_id, eid, step) for step in steps])
    assert all(r.ok for r in results), [r.error for r in results]
    return eid


def assert_journal_whole(store: Store, tenant_id: str, eid: str) -> None:
    """Seqs are 1..n without gaps or twins, and the stored state is the journal folded."""
    seqs = [e.seq for e in store.read_events(tenant_id, eid)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert reloaded(store, tenant_id, eid) == folded_journal(store, tenant_id, eid)
    row = store.get_engagement(tenant_id, eid)
    assert row is not None and row.version == len(seqs)
    assert store.verify_audit(tenant_id, eid).ok


def test_two_hosts_racing_on_one_engagement_both_apply_without_twin_seqs(
    store: Store, second_store: ConflictCountingStore, tenant_id: str, customer_id: str
) -> None:
    first_store = ConflictCountingStore(store.engine)
    one, two = EngagementHost(first_store), EngagementHost(second_store)
    eid = active_engagement(one, tenant_id, customer_id)
    two.process_batch([envelope(tenant_id, eid, qualify())])  # rejected, but activates it on `two`

    rounds = 8
    for n in range(rounds):
        results = race(
            [
                (one, envelope(tenant_id, eid, submit_expense(f"a{n}"))),
                (two, envelope(tenant_id, eid, submit_expense(f"b{n}"))),
            ]
        )
        assert all(r.ok for r in results), [r.error for r in results]

    assert first_store.conflicts + second_store.conflicts >= rounds  # every round, one was stale
    assert_journal_whole(store, tenant_id, eid)
    final = folded_journal(store, tenant_id, eid)
    assert final is not None and final.version == 5 + 2 * rounds
    assert sorted(final.expenses) == sorted(
        [f"a{n}" for n in range(rounds)] + [f"b{n}" for n in range(rounds)]
    )


def test_racing_hosts_with_conflicting_commands_leave_one_coherent_history(
    store: Store, second_store: ConflictCountingStore, tenant_id: str, customer_id: str
) -> None:
    one, two = EngagementHost(store), EngagementHost(second_store)
    eid = new_id("eng")
    assert one.process_batch([envelope(tenant_id, eid, create(customer_id))])[0].ok
    assert not two.process_batch([envelope(tenant_id, eid, close_won())])[0].ok  # now resident on both

    qualified, cancelled = race(
        [
            (one, envelope(tenant_id, eid, qualify())),
            (two, envelope(tenant_id, eid, cancel())),
        ]
    )

    assert cancelled.ok
    if qualified.ok:  # qualify won the race: cancel applied on top of it
        assert cancelled.engagement is not None and cancelled.engagement.version == 3
    else:  # cancel won: qualify was retried against CANCELLED and refused
        assert qualified.error is not None and qualified.error.reason == "INVALID_STATE"
    assert_journal_whole(store, tenant_id, eid)
    final = folded_journal(store, tenant_id, eid)
    assert final is not None and final.state is EngagementState.CANCELLED


def test_a_stale_resident_copy_hits_the_unique_key_reloads_and_retries(
    store: Store, second_store: ConflictCountingStore, tenant_id: str, customer_id: str
) -> None:
    one, stale = EngagementHost(store), EngagementHost(second_store)
    eid = active_engagement(stale, tenant_id, customer_id)
    assert one.process_batch([envelope(tenant_id, eid, submit_expense("x1"))])[0].ok

    result = stale.process_batch([envelope(tenant_id, eid, submit_expense("x2"))])[0]

    assert second_store.conflicts == 1
    assert result.ok and result.engagement is not None
    assert result.engagement.version == 7
    assert set(result.engagement.expenses) == {"x1", "x2"}
    assert_journal_whole(store, tenant_id, eid)
    assert [a.outcome for a in audit_of(store, tenant_id, eid)][-2:] == ["ACCEPTED", "ACCEPTED"]


def test_a_stale_copy_in_a_mixed_batch_does_not_cost_the_other_engagements_their_results(
    store: Store, second_store: ConflictCountingStore, tenant_id: str, customer_id: str
) -> None:
    one, stale = EngagementHost(store), EngagementHost(second_store)
    contested = active_engagement(stale, tenant_id, customer_id)
    assert one.process_batch([envelope(tenant_id, contested, submit_expense("x1"))])[0].ok
    bystander = new_id("eng")

    results = stale.process_batch(
        [
            envelope(tenant_id, bystander, create(customer_id)),
            envelope(tenant_id, contested, submit_expense("x2")),
            envelope(tenant_id, bystander, qualify()),
        ]
    )

    assert all(r.ok for r in results), [r.error for r in results]
    assert [r.engagement.version for r in results if r.engagement] == [1, 7, 2]
    assert_journal_whole(store, tenant_id, contested)
    assert_journal_whole(store, tenant_id, bystander)
    assert len(audit_of(store, tenant_id, bystander)) == 2


def test_a_stale_resident_copy_does_not_wrongly_reject_a_command(
    store: Store, second_store: ConflictCountingStore, tenant_id: str, customer_id: str
) -> None:
    one, stale = EngagementHost(store), EngagementHost(second_store)
    eid = new_id("eng")
    assert stale.process_batch([envelope(tenant_id, eid, create(customer_id))])[0].ok
    assert one.process_batch([envelope(tenant_id, eid, qualify())])[0].ok

    result = stale.process_batch([envelope(tenant_id, eid, close_won())])[0]

    assert result.ok, result.error


def test_a_command_that_keeps_losing_races_ends_in_a_conflict_error(
    database_url: str, tenant_id: str, customer_id: str
) -> None:
    losing = AlwaysConflictingStore(Store.open(database_url, migrate=False).engine)
    try:
        host = EngagementHost(losing)
        eid = new_id("eng")
        [result] = host.process_batch([envelope(tenant_id, eid, create(customer_id))])
        assert result.error is not None
        assert (result.error.kind, result.error.reason) == (ErrorKind.CONFLICT, "CONCURRENT_MODIFICATION")
        assert losing.attempts == 1 + MAX_RETRIES
        assert host.resident_count == 0
        assert losing.read_events(tenant_id, eid) == []
    finally:
        losing.close()


def test_hosts_racing_on_two_engagements_in_opposite_orders_both_get_applied(
    store: Store, second_store: ConflictCountingStore, tenant_id: str, customer_id: str
) -> None:
    one, two = EngagementHost(store), EngagementHost(second_store)
    left = active_engagement(one, tenant_id, customer_id)
    right = active_engagement(one, tenant_id, customer_id)
    two.process_batch([envelope(tenant_id, left, qualify()), envelope(tenant_id, right, qualify())])

    def run(
        barrier: threading.Barrier,
        host: EngagementHost,
        batch: list[CommandEnvelope],
        out: list[CommandResult],
    ) -> None:
        barrier.wait(timeout=30)
        out.extend(host.process_batch(batch))

    for n in range(5):
        barrier = threading.Barrier(2)
        from_one: list[CommandResult] = []
        from_two: list[CommandResult] = []
        one_batch = [
            envelope(tenant_id, left, submit_expense(f"one-l{n}")),
            envelope(tenant_id, right, submit_expense(f"one-r{n}")),
        ]
        two_batch = [
            envelope(tenant_id, right, submit_expense(f"two-r{n}")),
            envelope(tenant_id, left, submit_expense(f"two-l{n}")),
        ]
        threads = [
            threading.Thread(target=run, args=(barrier, one, one_batch, from_one)),
            threading.Thread(target=run, args=(barrier, two, two_batch, from_two)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        results = from_one + from_two
        assert len(results) == 4
        assert all(r.ok for r in results), [r.error for r in results]

    for eid in (left, right):
        assert_journal_whole(store, tenant_id, eid)
