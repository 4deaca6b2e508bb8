"""Bounded VerifyAuditLog (SQLite and PostgreSQL): a large tenant is verified a page at a time,
each page resuming the chain where the previous one stopped, and tampering on a later page, at
a page boundary or after the last page (against the checkpoint) is still found."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from q2c_core.adapters.store import Store, VerifyResult, WriteBatch
from q2c_core.app.audit.anchor import CheckpointSigner
from q2c_core.app.audit.ledger import AuditLedger
from q2c_core.domain.errors import ValidationError
from tests.store.helpers import T0, audit, ev, uid

STREAMS = 4
PER_STREAM = 300
PAGE = 500


@pytest.fixture
def ledger(store: Store) -> AuditLedger:
    """A ledger that signs checkpoints, stamped T0."""
    return AuditLedger(store, CheckpointSigner(Ed25519PrivateKey.generate()), clock=lambda: T0)


def _large_tenant(store: Store, tenant: str) -> list[str]:
    """STREAMS streams of PER_STREAM records (each with one event), written in few commits."""
    streams = sorted(uid("eng") for _ in range(STREAMS))
    for stream in streams:
        for first in range(1, PER_STREAM + 1, 100):
            seqs = range(first, first + 100)
            store.commit(
                WriteBatch(
                    events=[ev(tenant, stream, seq) for seq in seqs],
                    audit=[
                        audit(tenant, stream, f"Cmd{seq}", event_ids=(f"{stream}:{seq}",)) for seq in seqs
                    ],
                )
            )
    return streams


def _pages(ledger: AuditLedger, tenant: str, stream: str | None = None) -> list[tuple[VerifyResult, str]]:
    """Follow the tokens to the end (or the first failure)."""
    pages = [ledger.verify_page(tenant, stream, max_records=PAGE)]
    while pages[-1][1]:
        pages.append(ledger.verify_page(tenant, stream, page_token=pages[-1][1], max_records=PAGE))
    return pages


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_large_tenant_is_verified_in_several_pages_and_then_against_its_checkpoint(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    _large_tenant(store, tenant_id)
    checkpoint = ledger.create_checkpoint(tenant_id)
    pages = _pages(ledger, tenant_id)
    assert len(pages) == 3
    assert all(result.ok for result, _ in pages)
    assert [r.records_checked for r, _ in pages] == [500, 1000, 1200]
    assert pages[-1][0].checkpoint == checkpoint and pages[-1][1] == ""


def test_tampering_on_the_second_page_is_found(store: Store, ledger: AuditLedger, tenant_id: str) -> None:
    streams = _large_tenant(store, tenant_id)
    # record 700 in (stream, seq) order is on page 2: the third stream's 100th
    _sql(
        store,
        "UPDATE audit_records SET principal = 'mallory' "
        "WHERE tenant_id = :t AND stream_id = :s AND seq = 100",
        t=tenant_id,
        s=streams[2],
    )
    pages = _pages(ledger, tenant_id)
    assert len(pages) == 2 and pages[0][0].ok
    bad = pages[1][0]
    assert not bad.ok and bad.reason == "RECORD_MODIFIED"
    assert bad.first_invalid is not None and (bad.first_invalid.stream_id, bad.first_invalid.seq) == (
        streams[2],
        100,
    )
    assert bad.records_checked == 700 and pages[1][1] == ""


def test_a_record_deleted_just_after_a_page_boundary_is_found(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    streams = _large_tenant(store, tenant_id)
    first, token = ledger.verify_page(tenant_id, None, max_records=PAGE)
    assert first.ok and token
    # page 1 ended inside the second stream at seq 200: delete seq 201
    _sql(
        store,
        "DELETE FROM audit_records WHERE tenant_id = :t AND stream_id = :s AND seq = 201",
        t=tenant_id,
        s=streams[1],
    )
    second, _ = ledger.verify_page(tenant_id, None, page_token=token, max_records=PAGE)
    assert not second.ok and second.reason == "RECORDS_MISSING"


def test_a_deleted_tail_is_found_on_the_last_page_against_the_checkpoint(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    streams = _large_tenant(store, tenant_id)
    ledger.create_checkpoint(tenant_id)
    _sql(
        store,
        "DELETE FROM audit_records WHERE tenant_id = :t AND stream_id = :s AND seq > 250",
        t=tenant_id,
        s=streams[0],
    )
    pages = _pages(ledger, tenant_id)
    assert all(r.ok for r, _ in pages[:-1])
    last = pages[-1][0]
    assert not last.ok and last.reason == "TAIL_DELETED" and last.stream_id == streams[0]


def test_one_stream_is_paged_too(store: Store, ledger: AuditLedger, tenant_id: str) -> None:
    streams = _large_tenant(store, tenant_id)
    ledger.create_checkpoint(tenant_id)
    pages = [ledger.verify_page(tenant_id, streams[3], max_records=120)]
    while pages[-1][1]:
        pages.append(ledger.verify_page(tenant_id, streams[3], page_token=pages[-1][1], max_records=120))
    assert len(pages) == 3 and pages[-1][0].ok and pages[-1][0].records_checked == PER_STREAM


def test_a_token_is_refused_for_another_stream_or_when_malformed(
    store: Store, ledger: AuditLedger, tenant_id: str
) -> None:
    streams = _large_tenant(store, tenant_id)
    _, token = ledger.verify_page(tenant_id, streams[0], max_records=10)
    with pytest.raises(ValidationError):
        ledger.verify_page(tenant_id, streams[1], page_token=token)
    with pytest.raises(ValidationError):
        ledger.verify_page(tenant_id, None, page_token=token)
    with pytest.raises(ValidationError):
        ledger.verify_page(tenant_id, None, page_token="not-a-token")
    with pytest.raises(ValidationError):
        ledger.verify_page(tenant_id, None, max_records=-1)


def test_a_time_budget_also_ends_a_page(store: Store, ledger: AuditLedger, tenant_id: str) -> None:
    _large_tenant(store, tenant_id)
    ledger.verify_seconds = 0.0  # stop after the first chunk
    first, token = ledger.verify_page(tenant_id, None)
    assert first.ok and token and first.records_checked == 1000
    ledger.verify_seconds = 60.0
    rest, more = ledger.verify_page(tenant_id, None, page_token=token)
    assert rest.ok and not more and rest.records_checked == STREAMS * PER_STREAM
