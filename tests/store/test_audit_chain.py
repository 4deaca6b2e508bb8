"""Hash-chain unit tests (no database)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from q2c_core.adapters.store import (
    GENESIS_HASH,
    AuditRecord,
    canonical,
    chain_hash,
    format_utc,
    verify,
)
from tests.store.helpers import audit


def _chain(stream: str, n: int, tenant: str = "t") -> list[AuditRecord]:
    """n correctly chained records of one stream."""
    out: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        entry = audit(tenant, stream, f"Cmd{seq}")
        digest = chain_hash(prev, canonical(entry, seq))
        fields = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
        out.append(AuditRecord(**fields, record_id=seq, seq=seq, prev_hash=prev, hash=digest))
        prev = digest
    return out


def test_canonical_is_stable_and_timezone_insensitive() -> None:
    entry = audit("t", "s")
    plus2 = entry.recorded_at.astimezone(timezone(timedelta(hours=2)))
    naive = entry.recorded_at.replace(tzinfo=None)
    for other in (plus2, naive):
        assert canonical(dataclasses.replace(entry, recorded_at=other), 1) == canonical(entry, 1)
    assert b" " not in canonical(entry, 1)
    assert format_utc(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"


def test_verify_multiple_streams_ok() -> None:
    result = verify(_chain("a", 3) + _chain("b", 4))
    assert result.ok and result.records_checked == 7 and result.first_invalid is None


def test_edit_delete_reorder_are_detected() -> None:
    recs = _chain("a", 5)
    edited = [*recs[:2], dataclasses.replace(recs[2], principal="mallory"), *recs[3:]]
    r = verify(edited)
    assert not r.ok and r.first_invalid is not None and r.first_invalid.seq == 3

    r = verify(recs[:2] + recs[3:])
    assert not r.ok and r.first_invalid == recs[3] and "missing" in r.problem

    r = verify(recs[1:])
    assert not r.ok and r.first_invalid == recs[1]

    swapped = [recs[0], recs[2], recs[1], *recs[3:]]
    r = verify(swapped)
    assert not r.ok and r.first_invalid == recs[2]

    # renumbering rows to hide a deletion breaks the hash or the prev_hash link
    renumbered = [*recs[:2], dataclasses.replace(recs[3], seq=3)]
    r = verify(renumbered)
    assert not r.ok and r.first_invalid is not None and r.first_invalid.seq == 3

    # re-hashing an edited row breaks the next link
    forged = dataclasses.replace(recs[1], principal="mallory")
    forged = dataclasses.replace(forged, hash=chain_hash(forged.prev_hash, canonical(forged, 2)))
    r = verify([recs[0], forged, *recs[2:]])
    assert not r.ok and r.first_invalid == recs[2] and "prev_hash" in r.problem


@given(st.integers(min_value=1, max_value=12), st.data())
def test_any_single_field_edit_is_detected(n: int, data: st.DataObject) -> None:
    recs = _chain("s", n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    name = data.draw(
        st.sampled_from(
            [
                "tenant_id",
                "principal",
                "command_type",
                "correlation_id",
                "payload_digest",
                "comment",
                "rejection_reason",
            ]
        )
    )
    changes: dict[str, Any] = {name: "tampered"}
    recs[i] = dataclasses.replace(recs[i], **changes)
    result = verify(recs)
    assert not result.ok and result.first_invalid is recs[i]
