"""Audit anchoring against the real database (SQLite and PostgreSQL): each kind of tampering,
done with SQL behind the store's back, fails verification with its own reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, text, update

from q2c.v1 import audit_pb2
from q2c_core.adapters.store import (
    GENESIS_HASH,
    Store,
    WriteBatch,
    canonical,
    chain_hash,
    make_engine,
    migrate,
    record_hash,
)
from q2c_core.adapters.store import schema as s
from q2c_core.adapters.store.schema import AUDIT
from q2c_core.app.audit.anchor import Checkpoint, CheckpointSigner, StreamHead
from q2c_core.app.audit.ledger import AuditLedger
from q2c_core.app.messages import Caller
from q2c_core.app.reads import Queries
from q2c_core.edge.context import CALLER
from q2c_core.edge.record_servicers import AuditServicer
from tests.conftest_db import _pg_database
from tests.store.helpers import T0, audit, ev, uid

STREAM_RECORDS = 4


@pytest.fixture(scope="module")
def signer() -> CheckpointSigner:
    """The server's checkpoint signing key."""
    return CheckpointSigner(Ed25519PrivateKey.generate())


@pytest.fixture
def ledger(store: Store, signer: CheckpointSigner) -> AuditLedger:
    """Checkpoints over the module's store, all stamped T0."""
    return AuditLedger(store, signer, clock=lambda: T0)


def _record_commands(store: Store, tenant: str, stream: str, n: int, first_seq: int = 1) -> None:
    """n commands on `stream`, each producing one event and its audit record."""
    for seq in range(first_seq, first_seq + n):
        store.commit(
            WriteBatch(
                events=[ev(tenant, stream, seq, amount="10.00")],
                audit=[audit(tenant, stream, f"Cmd{seq}", event_ids=(f"{stream}:{seq}",))],
            )
        )


def _two_streams(store: Store, tenant: str) -> tuple[str, str]:
    """Streams a < b, each with STREAM_RECORDS commands."""
    a, b = sorted([uid("eng"), uid("eng")])
    for stream in (a, b):
        _record_commands(store, tenant, stream, STREAM_RECORDS)
    return a, b


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_untampered_log_verifies_against_its_latest_checkpoint(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    a, b = _two_streams(store, tenant_id)
    checkpoint = ledger.create_checkpoint(tenant_id)
    assert [(h.stream_id, h.seq) for h in checkpoint.heads] == [(a, 4), (b, 4)]
    _record_commands(store, tenant_id, a, 2, first_seq=5)  # appending after a checkpoint is fine

    result = ledger.verify(tenant_id, None)

    assert result.ok and result.reason == "" and result.records_checked == 10, result
    assert result.checkpoint == checkpoint
    records = store.list_audit(tenant_id, a).items
    assert {r.chain_version for r in records} == {2} and all(r.events_digest for r in records)


def test_rewritten_and_rehashed_record_passes_the_chain_but_not_the_checkpoint(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    _, b = _two_streams(store, tenant_id)
    ledger.create_checkpoint(tenant_id)
    t = s.audit_records
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE audit_records SET principal = 'mallory'"
                " WHERE tenant_id = :t AND stream_id = :s AND seq = 2"
            ),
            {"t": tenant_id, "s": b},
        )
        rows = conn.execute(select(t).where(t.c.tenant_id == tenant_id, t.c.stream_id == b).order_by(t.c.seq))
        prev = ""
        for rec in map(AUDIT.record, rows.all()):
            if rec.seq >= 2:
                rehashed = record_hash(dataclasses.replace(rec, prev_hash=prev or rec.prev_hash))
                conn.execute(
                    text("UPDATE audit_records SET prev_hash = :p, hash = :h WHERE record_id = :r"),
                    {"p": prev or rec.prev_hash, "h": rehashed, "r": rec.record_id},
                )
                prev = rehashed
            else:
                prev = rec.hash

    assert store.verify_audit(tenant_id).ok  # an unkeyed chain alone cannot tell
    result = ledger.verify(tenant_id, None)

    assert not result.ok and result.reason == "HEAD_REWRITTEN" and result.stream_id == b
    assert "rewritten" in result.problem and f"seq {STREAM_RECORDS}" in result.problem


def test_deleted_tail_is_detected(store: Store, ledger: AuditLedger, tenant_id: str) -> None:
    _, b = _two_streams(store, tenant_id)
    ledger.create_checkpoint(tenant_id)
    _sql(
        store,
        "DELETE FROM audit_records WHERE tenant_id = :t AND stream_id = :s AND seq > 2",
        t=tenant_id,
        s=b,
    )

    assert store.verify_audit(tenant_id).ok
    result = ledger.verify(tenant_id, None)

    assert not result.ok and result.reason == "TAIL_DELETED" and result.stream_id == b
    assert "ends at seq 2" in result.problem and "deleted" in result.problem


def test_deleted_stream_is_detected(store: Store, ledger: AuditLedger, tenant_id: str) -> None:
    a, _ = _two_streams(store, tenant_id)
    ledger.create_checkpoint(tenant_id)
    _sql(store, "DELETE FROM audit_records WHERE tenant_id = :t AND stream_id = :s", t=tenant_id, s=a)

    assert store.verify_audit(tenant_id).ok
    result = ledger.verify(tenant_id, None)
    one = ledger.verify(tenant_id, a)

    assert not result.ok and result.reason == "STREAM_DELETED" and result.stream_id == a
    assert not one.ok and one.reason == "STREAM_DELETED" and one.records_checked == 0


def test_reordered_records_are_detected(store: Store, ledger: AuditLedger, tenant_id: str) -> None:
    a, _ = _two_streams(store, tenant_id)
    ledger.create_checkpoint(tenant_id)
    where = "tenant_id = :t AND stream_id = :s AND seq = "
    _sql(store, f"UPDATE audit_records SET seq = -1 WHERE {where} 2", t=tenant_id, s=a)
    _sql(store, f"UPDATE audit_records SET seq = 2 WHERE {where} 3", t=tenant_id, s=a)
    _sql(store, f"UPDATE audit_records SET seq = 3 WHERE {where} -1", t=tenant_id, s=a)

    result = ledger.verify(tenant_id, None)

    assert not result.ok and result.reason == "RECORD_REORDERED", result
    assert result.first_invalid is not None and (
        result.first_invalid.stream_id,
        result.first_invalid.seq,
    ) == (a, 2)
    assert result.first_invalid.command_type == "Cmd3" and "reordered" in result.problem


def test_replaced_event_payload_is_detected(store: Store, ledger: AuditLedger, tenant_id: str) -> None:
    _, b = _two_streams(store, tenant_id)
    ledger.create_checkpoint(tenant_id)
    e = s.events
    with store.engine.begin() as conn:
        conn.execute(
            update(e)
            .where(e.c.tenant_id == tenant_id, e.c.stream_id == b, e.c.seq == 3)
            .values(payload={"n": 3, "amount": "1000000.00"})
        )

    result = ledger.verify(tenant_id, None)

    assert not result.ok and result.reason == "EVENT_PAYLOAD_MODIFIED", result
    assert result.first_invalid is not None and (
        result.first_invalid.stream_id,
        result.first_invalid.seq,
    ) == (b, 3)
    assert f"{b}:3" in result.problem


def test_deleted_event_is_detected(store: Store, ledger: AuditLedger, tenant_id: str) -> None:
    a, _ = _two_streams(store, tenant_id)
    _sql(store, "DELETE FROM events WHERE tenant_id = :t AND stream_id = :s AND seq = 1", t=tenant_id, s=a)

    result = store.verify_audit(tenant_id, a)

    assert not result.ok and result.reason == "EVENT_PAYLOAD_MODIFIED"
    assert result.first_invalid is not None and result.first_invalid.seq == 1


def test_edited_record_without_rehash_is_detected(store: Store, tenant_id: str) -> None:
    a, _ = _two_streams(store, tenant_id)
    _sql(
        store,
        "UPDATE audit_records SET events_digest = :d WHERE tenant_id = :t AND stream_id = :s AND seq = 2",
        d="0" * 64,
        t=tenant_id,
        s=a,
    )

    result = store.verify_audit(tenant_id)

    assert not result.ok and result.reason == "RECORD_MODIFIED" and "hash mismatch" in result.problem


def test_checkpoint_altered_in_the_database_is_refused(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    _, b = _two_streams(store, tenant_id)
    ledger.create_checkpoint(tenant_id)
    _sql(
        store,
        "DELETE FROM audit_records WHERE tenant_id = :t AND stream_id = :s AND seq > 2",
        t=tenant_id,
        s=b,
    )
    # the attacker also lowers the checkpoint's head to hide the truncation
    c = s.audit_checkpoints
    with store.engine.begin() as conn:
        stored = ledger.get_checkpoint(tenant_id, None)
        heads = [[h.stream_id, 2 if h.stream_id == b else h.seq, h.hash] for h in stored.heads]
        conn.execute(update(c).where(c.c.tenant_id == tenant_id).values(heads=heads))

    result = ledger.verify(tenant_id, None)

    assert not result.ok and result.reason == "CHECKPOINT_SIGNATURE_INVALID", result


def test_checkpoint_signed_by_another_key_is_refused(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    _two_streams(store, tenant_id)
    mallory = AuditLedger(store, CheckpointSigner(Ed25519PrivateKey.generate()), clock=lambda: T0)
    mallory.create_checkpoint(tenant_id)

    result = ledger.verify(tenant_id, None)

    assert not result.ok and result.reason == "CHECKPOINT_KEY_UNKNOWN"


def test_exported_checkpoint_catches_deletion_of_later_checkpoints(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    _, b = _two_streams(store, tenant_id)
    ledger.create_checkpoint(tenant_id)
    _record_commands(store, tenant_id, b, 2, first_seq=5)
    exported: Checkpoint = ledger.create_checkpoint(tenant_id)
    _sql(
        store,
        "DELETE FROM audit_records WHERE tenant_id = :t AND stream_id = :s AND seq > 4",
        t=tenant_id,
        s=b,
    )
    _sql(store, "DELETE FROM audit_checkpoints WHERE tenant_id = :t AND sequence = 2", t=tenant_id)

    assert ledger.verify(tenant_id, None).ok  # the database's own latest checkpoint is now #1
    result = ledger.verify(tenant_id, None, exported)

    assert not result.ok and result.reason == "TAIL_DELETED" and result.checkpoint == exported


def test_checkpoint_of_another_tenant_is_refused(store: Store, ledger: AuditLedger, tenant_id: str) -> None:
    _two_streams(store, tenant_id)
    checkpoint = ledger.create_checkpoint(tenant_id)

    result = ledger.verify("someone-else", None, checkpoint)

    assert not result.ok and result.reason == "CHECKPOINT_TENANT_MISMATCH"


def test_checkpoints_are_numbered_listed_newest_first_and_idempotent_by_request_id(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    a, _ = _two_streams(store, tenant_id)
    first = ledger.create_checkpoint(tenant_id, "req-1")
    again = ledger.create_checkpoint(tenant_id, "req-1")
    unchanged = ledger.create_checkpoint(tenant_id, if_changed=True)
    _record_commands(store, tenant_id, a, 1, first_seq=5)
    second = ledger.create_checkpoint(tenant_id, if_changed=True)

    page = ledger.list_checkpoints(tenant_id, 1, "")
    rest = ledger.list_checkpoints(tenant_id, 1, page.next_page_token)

    assert (first.sequence, again.sequence, unchanged.sequence, second.sequence) == (1, 1, 1, 2)
    assert [c.sequence for c in page.items + rest.items] == [2, 1] and rest.next_page_token == ""
    assert ledger.get_checkpoint(tenant_id, 1) == first and ledger.get_checkpoint(tenant_id, None) == second
    assert StreamHead(a, 5, store.list_audit(tenant_id, a).items[-1].hash) in second.heads


def test_tenants_with_audit_records_are_listed(store: Store, tenant_id: str) -> None:
    _record_commands(store, tenant_id, uid("eng"), 1)
    assert tenant_id in store.audit_tenants()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database per test (to migrate step by step)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        yield from _pg_database()


def test_records_written_before_migration_0007_stay_verifiable(fresh_url: str) -> None:
    engine = make_engine(fresh_url)
    migrate(engine, "0006")
    prev = GENESIS_HASH
    with engine.begin() as conn:
        for seq in (1, 2):
            entry = audit("t", "legacy", f"Old{seq}")
            digest = chain_hash(prev, canonical(entry, seq))  # the version 1 hash
            row = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
            conn.execute(
                insert(s.audit_records).values(  # only the columns revision 0006 has
                    **{**row, "event_ids": list(entry.event_ids)}, seq=seq, prev_hash=prev, hash=digest
                )
            )
            prev = digest
    migrate(engine)
    store = Store(engine)
    try:
        _record_commands(store, "t", "legacy", 2, first_seq=3)
        records = store.list_audit("t", "legacy").items
        result = store.verify_audit("t")
        assert [r.chain_version for r in records] == [1, 1, 2, 2]
        assert result.ok and result.records_checked == 4, result
    finally:
        store.close()


async def test_audit_servicer_creates_exports_and_verifies_against_a_supplied_checkpoint(
    store: Store, signer: CheckpointSigner, tenant_id: str
) -> None:
    _, b = _two_streams(store, tenant_id)
    servicer = AuditServicer(SimpleNamespace(queries=Queries(store)), audit_signer=signer)  # type: ignore[arg-type]
    token = CALLER.set(Caller(tenant_id=tenant_id, principal="auditor"))
    try:
        created = await servicer.CreateAuditCheckpoint(
            audit_pb2.CreateAuditCheckpointRequest(request_id="r"), None
        )
        latest = await servicer.GetAuditCheckpoint(audit_pb2.GetAuditCheckpointRequest(), None)
        _sql(
            store,
            "DELETE FROM audit_records WHERE tenant_id = :t AND stream_id = :s AND seq > 2",
            t=tenant_id,
            s=b,
        )
        _sql(store, "DELETE FROM audit_checkpoints WHERE tenant_id = :t", t=tenant_id)
        unanchored = await servicer.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(), None)
        anchored = await servicer.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(checkpoint=latest), None)
    finally:
        CALLER.reset(token)

    assert created == latest and created.sequence == 1 and len(created.stream_heads) == 2
    assert unanchored.ok and not unanchored.HasField("checkpoint")
    assert not anchored.ok and anchored.reason == audit_pb2.AUDIT_PROBLEM_TAIL_DELETED
    assert anchored.problem_stream_id == b and anchored.checkpoint == latest
