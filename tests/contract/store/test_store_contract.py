"""Store contract: runs against SQLite, PostgreSQL and the in-memory fake (see conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from q2c_core.app.ports import Store
from q2c_core.app.records import WriteBatch
from q2c_core.app.store_errors import ConcurrencyConflict, DuplicateRequestId
from tests.contract.store.conftest import Backend
from tests.store.helpers import (
    T0,
    audit,
    customer,
    engagement,
    ev,
    exception_row,
    idem,
    rate_card,
    uid,
)


def _append(store: Store, tenant: str, stream: str, seqs: range, *, snapshot_at: int | None = None) -> None:
    """Commit events for seqs (plus an audit record each), optionally a snapshot row."""
    batch = WriteBatch(
        events=[ev(tenant, stream, n) for n in seqs],
        audit=[audit(tenant, stream, event_ids=(f"{stream}:{n}",)) for n in seqs],
    )
    if snapshot_at is not None:
        batch.engagements.append(engagement(tenant, stream, snapshot_at))
    store.commit(batch)


def test_append_and_load_round_trip(store: Store, tenant_id: str) -> None:
    eid = uid("eng")
    records = store.commit(
        WriteBatch(
            events=[ev(tenant_id, eid, 1), ev(tenant_id, eid, 2, amount="10.50")],
            audit=[audit(tenant_id, eid, event_ids=(f"{eid}:1", f"{eid}:2"), request_id="r1")],
            idempotency=[idem(tenant_id, "r1", eid)],
        )
    )
    assert [(r.seq, r.event_ids) for r in records] == [(1, (f"{eid}:1", f"{eid}:2"))]
    row, events = store.load_stream(tenant_id, eid)
    assert row is None
    assert [e.seq for e in events] == [1, 2]
    assert events[1].payload == {"n": 2, "amount": "10.50"}
    assert events[1].event_id == f"{eid}:2"
    assert events[0].occurred_at == ev(tenant_id, eid, 1).occurred_at  # tz-aware UTC round trip
    assert events[0].position < events[1].position
    assert store.read_events(tenant_id, eid, after_seq=1)[0].seq == 2
    assert [e.seq for e in store.read_all_events(tenant_id)] == [1, 2]
    after = store.read_all_events(tenant_id, after_position=events[0].position)
    assert [e.seq for e in after] == [2]
    found = store.find_idempotency(tenant_id, ["r1", "missing"])
    assert list(found) == ["r1"] and found["r1"].response == {"ok": True, "stream": eid}


def test_snapshot_plus_tail_events(store: Store, tenant_id: str) -> None:
    eid, other, empty = uid("eng"), uid("eng"), uid("eng")
    _append(store, tenant_id, eid, range(1, 4), snapshot_at=3)
    _append(store, tenant_id, eid, range(4, 6))  # tail not yet folded into a snapshot
    _append(store, tenant_id, other, range(1, 3), snapshot_at=2)
    row, tail = store.load_stream(tenant_id, eid)
    assert row is not None and row.version == 3 and row.snapshot == {"id": eid, "version": 3}
    assert [e.seq for e in tail] == [4, 5]
    many = store.load_streams(tenant_id, [eid, other, empty])
    assert [e.seq for e in many[eid][1]] == [4, 5]
    assert many[other][0] is not None and many[other][1] == []
    assert many[empty] == (None, [])
    # several rows for one engagement in a group-committed batch: the last one wins
    store.commit(
        WriteBatch(
            engagements=[
                engagement(tenant_id, other, 3, state="QUALIFIED"),
                engagement(tenant_id, other, 4, state="WON"),
            ]
        )
    )
    both = store.get_engagement(tenant_id, other)
    assert both is not None and (both.version, both.state) == (4, "WON")
    # a stale snapshot never overwrites a newer one
    store.commit(WriteBatch(engagements=[engagement(tenant_id, eid, 5, state="ACTIVE")]))
    store.commit(WriteBatch(engagements=[engagement(tenant_id, eid, 4, state="STALE")]))
    got = store.get_engagement(tenant_id, eid)
    assert got is not None and (got.version, got.state) == (5, "ACTIVE")


def test_concurrent_appends_to_one_engagement_from_two_hosts_exactly_one_wins(
    store: Store, backend: Backend, tenant_id: str
) -> None:
    eid = uid("eng")
    _append(store, tenant_id, eid, range(1, 3))
    hosts = [backend.another() for _ in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def host(i: int) -> None:
        batch = WriteBatch(
            events=[ev(tenant_id, eid, 3, f"FromHost{i}")], audit=[audit(tenant_id, eid, f"Host{i}")]
        )
        barrier.wait()
        try:
            outcomes[i] = hosts[i].commit(batch)
        except ConcurrencyConflict as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=host, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for h in hosts:
        if h is not store:
            h.close()
    conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    assert len(conflicts) == 1, outcomes
    assert conflicts[0].stream_ids == (eid,)
    at3 = store.read_events(tenant_id, eid, after_seq=2)
    assert len(at3) == 1
    winner = outcomes.index(next(o for o in outcomes if isinstance(o, list)))
    assert at3[0].event_type == f"FromHost{winner}"
    assert store.verify_audit(tenant_id, eid).ok


def test_concurrent_audit_only_commits_never_fork_the_chain(
    store: Store, backend: Backend, tenant_id: str
) -> None:
    sid = uid("cust")
    hosts = [backend.another() for _ in range(3)]
    barrier = threading.Barrier(3)
    outcomes: list[object] = [None] * 3

    def host(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = hosts[i].commit(WriteBatch(audit=[audit(tenant_id, sid, f"H{i}")]))
        except ConcurrencyConflict as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=host, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for h in hosts:
        if h is not store:
            h.close()
    wins = [o for o in outcomes if isinstance(o, list)]
    losses = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    assert wins and len(wins) + len(losses) == 3, outcomes
    assert all(exc.stream_ids == (sid,) for exc in losses)
    result = store.verify_audit(tenant_id, sid)
    assert result.ok and result.records_checked == len(wins)


def test_duplicate_request_id_writes_nothing(store: Store, tenant_id: str) -> None:
    eid = uid("eng")
    store.commit(WriteBatch(idempotency=[idem(tenant_id, "req-1", eid)]))
    with pytest.raises(DuplicateRequestId) as info:
        store.commit(
            WriteBatch(
                events=[ev(tenant_id, eid, 1)],
                audit=[audit(tenant_id, eid)],
                idempotency=[idem(tenant_id, "req-0", eid), idem(tenant_id, "req-1", eid)],
                engagements=[engagement(tenant_id, eid, 1)],
            )
        )
    assert info.value.request_id == "req-1"
    assert store.load_stream(tenant_id, eid) == (None, [])
    assert store.list_audit(tenant_id, eid).items == []
    assert list(store.find_idempotency(tenant_id, ["req-0", "req-1"])) == ["req-1"]
    with pytest.raises(DuplicateRequestId) as twice:
        store.commit(WriteBatch(idempotency=[idem(tenant_id, "req-2"), idem(tenant_id, "req-2")]))
    assert twice.value.request_id == "req-2"
    assert store.find_idempotency(tenant_id, ["req-2"]) == {}
    # the same request id in another tenant is independent
    other = uid("tenant")
    store.commit(WriteBatch(idempotency=[idem(other, "req-1", eid)]))


def test_failed_batch_writes_nothing(store: Store, tenant_id: str) -> None:
    eid, fresh = uid("eng"), uid("eng")
    _append(store, tenant_id, eid, range(1, 2))
    cid = uid("cust")
    with pytest.raises(ConcurrencyConflict) as info:
        store.commit(
            WriteBatch(
                events=[ev(tenant_id, fresh, 1), ev(tenant_id, eid, 1)],  # eid:1 already taken
                audit=[audit(tenant_id, fresh), audit(tenant_id, eid)],
                idempotency=[idem(tenant_id, "fresh-req")],
                engagements=[engagement(tenant_id, fresh, 1)],
                exceptions=[exception_row(tenant_id, uid("x"), fresh)],
                customers=[customer(tenant_id, cid)],
                rate_cards=[rate_card(tenant_id, uid("rc"), 1)],
            )
        )
    assert info.value.stream_ids == (eid,)
    assert store.load_stream(tenant_id, fresh) == (None, [])
    assert len(store.list_audit(tenant_id, eid).items) == 1
    assert store.list_audit(tenant_id, fresh).items == []
    assert store.find_idempotency(tenant_id, ["fresh-req"]) == {}
    assert store.list_exceptions(tenant_id).items == []
    assert store.get_customer(tenant_id, cid) is None
    assert store.list_rate_cards(tenant_id).items == []


def test_commit_returns_the_audit_records_as_stored(store: Store, tenant_id: str) -> None:
    a, b = uid("eng"), uid("eng")
    store.commit(WriteBatch(audit=[audit(tenant_id, a)]))
    batch = WriteBatch(
        events=[ev(tenant_id, b, 1)],
        audit=[
            audit(tenant_id, a, "Second"),
            audit(tenant_id, b, "First", event_ids=(f"{b}:1",)),
            audit(tenant_id, a, "Third", outcome="REJECTED"),
        ],
    )
    records = store.commit(batch)
    assert [(r.stream_id, r.seq, r.command_type) for r in records] == [
        (a, 2, "Second"),
        (b, 1, "First"),
        (a, 3, "Third"),
    ]
    stored = {(r.stream_id, r.seq): r for sid in (a, b) for r in store.list_audit(tenant_id, sid).items}
    assert records == [stored[(r.stream_id, r.seq)] for r in records]  # ids, hashes, every field
    assert len({r.record_id for r in stored.values()}) == 4


def test_audit_chain_verifies_over_many_records_and_streams(store: Store, tenant_id: str) -> None:
    streams = [uid("eng") for _ in range(4)]
    for round_ in range(5):
        batch = WriteBatch()
        for i, sid in enumerate(streams):
            outcome = "REJECTED" if (round_ + i) % 3 == 0 else "ACCEPTED"
            batch.audit += [audit(tenant_id, sid, outcome=outcome), audit(tenant_id, sid)]
        records = store.commit(batch)
        assert [r.seq for r in records[:2]] == [2 * round_ + 1, 2 * round_ + 2]
    result = store.verify_audit(tenant_id)
    assert result.ok and result.records_checked == 40, result
    one = store.verify_audit(tenant_id, streams[0])
    assert one.ok and one.records_checked == 10


def test_tampered_audit_row_is_detected(store: Store, backend: Backend, tenant_id: str) -> None:
    first, second = sorted([uid("eng"), uid("eng")])
    for sid in (first, second):
        store.commit(WriteBatch(audit=[audit(tenant_id, sid) for _ in range(5)]))
    backend.tamper(tenant_id, second, 3, "Forged")
    result = store.verify_audit(tenant_id)
    assert not result.ok
    assert result.first_invalid is not None
    assert (result.first_invalid.stream_id, result.first_invalid.seq) == (second, 3)
    assert result.first_invalid.command_type == "Forged"
    assert "hash" in result.problem
    assert store.verify_audit(tenant_id, first).ok


def test_deleted_audit_row_is_detected(store: Store, backend: Backend, tenant_id: str) -> None:
    sid = uid("eng")
    store.commit(WriteBatch(audit=[audit(tenant_id, sid) for _ in range(6)]))
    backend.delete(tenant_id, sid, 4)
    result = store.verify_audit(tenant_id, sid)
    assert not result.ok and result.first_invalid is not None
    assert result.first_invalid.seq == 5 and result.records_checked == 4


def test_pagination_and_invalid_tokens(store: Store, tenant_id: str) -> None:
    eids = [f"eng-{i:02d}" for i in range(7)]
    store.commit(
        WriteBatch(
            engagements=[
                engagement(tenant_id, e, 1, minute=i // 2, state="ACTIVE" if i % 2 else "DRAFT")
                for i, e in enumerate(eids)
            ],
            exceptions=[exception_row(tenant_id, f"x-{i}", eids[0], minute=i) for i in range(5)],
            customers=[customer(tenant_id, f"c-{i}", minute=i) for i in range(5)],
            audit=[audit(tenant_id, "eng-00") for _ in range(5)],
            rate_cards=[rate_card(tenant_id, f"rc-{i}", r) for i in range(3) for r in (1, 2)],
        )
    )

    def collect(fetch: Callable[[str], tuple[list[str], str]]) -> list[str]:
        out, token, pages = [], "", 0
        while True:
            items, token = fetch(token)
            out += items
            pages += 1
            if not token:
                return out
            assert pages < 20

    def engs(tok: str) -> tuple[list[str], str]:
        p = store.list_engagements(tenant_id, page_size=3, page_token=tok)
        return [r.engagement_id for r in p.items], p.next_page_token

    assert collect(engs) == eids
    active = store.list_engagements(tenant_id, state="ACTIVE", page_size=2)
    assert [r.engagement_id for r in active.items] == ["eng-01", "eng-03"]

    def excs(tok: str) -> tuple[list[str], str]:
        p = store.list_exceptions(tenant_id, page_size=2, page_token=tok, state="OPEN")
        return [r.exception_id for r in p.items], p.next_page_token

    assert collect(excs) == [f"x-{i}" for i in range(5)]

    def custs(tok: str) -> tuple[list[str], str]:
        p = store.list_customers(tenant_id, page_size=2, page_token=tok)
        return [r.customer_id for r in p.items], p.next_page_token

    assert collect(custs) == [f"c-{i}" for i in range(5)]

    def audits(tok: str) -> tuple[list[str], str]:
        p = store.list_audit(tenant_id, "eng-00", page_size=2, page_token=tok)
        return [str(r.seq) for r in p.items], p.next_page_token

    assert collect(audits) == ["1", "2", "3", "4", "5"]

    def cards(tok: str) -> tuple[list[str], str]:
        p = store.list_rate_cards(tenant_id, page_size=2, page_token=tok)
        return [f"{r.rate_card_id}@{r.revision}" for r in p.items], p.next_page_token

    assert collect(cards) == ["rc-0@2", "rc-1@2", "rc-2@2"]
    exact = store.list_customers(tenant_id, page_size=5)
    assert len(exact.items) == 5 and exact.next_page_token == ""

    for bad in ["!!!", "eyJ4IjoxfQ", "bm90IGpzb24", "eyJhZnRlciI6WzEsMl19"]:
        with pytest.raises(ValueError, match="page_token"):
            store.list_engagements(tenant_id, page_token=bad)
    with pytest.raises(ValueError, match="page_token"):
        store.list_audit(tenant_id, "eng-00", page_token=engs("")[1])


def test_tenant_scoping(store: Store, tenant_id: str, make_tenant: Callable[[], str]) -> None:
    other = make_tenant()
    eid, cid, rid = uid("eng"), uid("cust"), uid("rc")
    _append(store, tenant_id, eid, range(1, 3), snapshot_at=2)
    store.commit(
        WriteBatch(
            idempotency=[idem(tenant_id, "req-a", eid)],
            exceptions=[exception_row(tenant_id, "x-a", eid)],
            customers=[customer(tenant_id, cid)],
            rate_cards=[rate_card(tenant_id, rid, 1)],
        )
    )
    assert store.load_stream(other, eid) == (None, [])
    assert store.load_streams(other, [eid]) == {eid: (None, [])}
    assert store.read_events(other, eid) == [] and store.read_all_events(other) == []
    assert store.find_idempotency(other, ["req-a"]) == {}
    assert store.get_engagement(other, eid) is None
    assert store.list_engagements(other).items == []
    assert store.get_exception(other, "x-a") is None and store.list_exceptions(other).items == []
    assert store.get_customer(other, cid) is None and store.list_customers(other).items == []
    assert store.get_rate_card(other, rid) is None and store.list_rate_cards(other).items == []
    assert store.get_rate_cards(other, [rid]) == {}
    assert store.list_audit(other, eid).items == []
    assert store.verify_audit(other).records_checked == 0
    # the same stream id in another tenant has its own sequence and chain
    _append(store, other, eid, range(1, 2))
    assert [e.seq for e in store.read_events(other, eid)] == [1]
    assert store.verify_audit(other).ok and store.verify_audit(tenant_id).ok


def test_customer_versions_and_rate_card_revisions(store: Store, tenant_id: str) -> None:
    cid, rid = uid("cust"), uid("rc")
    store.commit(WriteBatch(customers=[customer(tenant_id, cid, 1)]))
    store.commit(WriteBatch(customers=[customer(tenant_id, cid, 2, status="ON_HOLD")]))
    got = store.get_customer(tenant_id, cid)
    assert got is not None and (got.version, got.status, got.create_time) == (2, "ON_HOLD", T0)
    with pytest.raises(ConcurrencyConflict) as info:
        store.commit(WriteBatch(customers=[customer(tenant_id, cid, 2, status="LOST")]))
    assert info.value.stream_ids == (cid,)
    with pytest.raises(ConcurrencyConflict):
        store.commit(WriteBatch(customers=[customer(tenant_id, cid, 1)]))
    assert store.list_customers(tenant_id, status="ON_HOLD").items[0].version == 2
    store.commit(WriteBatch(rate_cards=[rate_card(tenant_id, rid, r) for r in (1, 2)]))
    with pytest.raises(ConcurrencyConflict):
        store.commit(WriteBatch(rate_cards=[rate_card(tenant_id, rid, 2)]))
    latest = store.get_rate_card(tenant_id, rid)
    assert latest is not None and latest.revision == 2
    first = store.get_rate_card(tenant_id, rid, 1)
    assert first is not None and first.data == {"id": rid, "revision": 1}
    assert [r.revision for r in store.get_rate_card_revisions(tenant_id, rid)] == [1, 2]
    assert list(store.get_rate_cards(tenant_id, [rid, "nope"])) == [rid]
