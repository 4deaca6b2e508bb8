"""Signed audit checkpoints without a database: signing, forging, exporting, verifying offline."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from q2c_core.app.audit.anchor import (
    CheckpointInvalid,
    CheckpointSigner,
    StreamHead,
    canonical_checkpoint,
    checkpoint_from_dict,
    checkpoint_to_dict,
    merkle_root,
    verify_checkpoint,
    verify_checkpoint_file,
)
from q2c_core.app.audit.ledger import AuditLedger, SigningDisabledError, checkpoint_periodically
from q2c_core.edge.auth.devkey import create_dev_key

NOW = datetime(2026, 12, 6, 10, 30, 0, 250000, tzinfo=UTC)
HEADS = [
    StreamHead("eng-b", 3, "b" * 64),
    StreamHead("eng-a", 7, "a" * 64),
    StreamHead("cust-1", 1, "c" * 64),
]


@pytest.fixture
def signer() -> CheckpointSigner:
    """A fresh signing key."""
    return CheckpointSigner(Ed25519PrivateKey.generate())


def _code(call: object) -> str:
    with pytest.raises(CheckpointInvalid) as refused:
        assert callable(call)
        call()
    return refused.value.code


def test_signed_checkpoint_verifies_and_sorts_its_heads(signer: CheckpointSigner) -> None:
    checkpoint = signer.sign("t", 4, NOW, HEADS)
    verify_checkpoint(checkpoint, signer.public_key)
    verify_checkpoint(checkpoint, signer.trusted)
    assert [h.stream_id for h in checkpoint.heads] == ["cust-1", "eng-a", "eng-b"]
    assert checkpoint.root == merkle_root(HEADS) and checkpoint.key_id == signer.key_id


def test_merkle_root_depends_on_every_head_and_not_on_order() -> None:
    assert merkle_root(HEADS) == merkle_root(list(reversed(HEADS)))
    for i in range(len(HEADS)):
        changed = [*HEADS]
        changed[i] = dataclasses.replace(HEADS[i], seq=HEADS[i].seq + 1)
        assert merkle_root(changed) != merkle_root(HEADS)
    assert merkle_root(HEADS[:2]) != merkle_root(HEADS)
    assert len({merkle_root([]), merkle_root(HEADS[:1]), merkle_root(HEADS[:2])}) == 3


def test_altered_head_breaks_the_signature(signer: CheckpointSigner) -> None:
    checkpoint = signer.sign("t", 1, NOW, HEADS)
    lowered = dataclasses.replace(checkpoint.heads[1], seq=2)
    altered = dataclasses.replace(checkpoint, heads=(checkpoint.heads[0], lowered, checkpoint.heads[2]))
    assert _code(lambda: verify_checkpoint(altered, signer.public_key)) == "CHECKPOINT_SIGNATURE_INVALID"
    resequenced = dataclasses.replace(checkpoint, sequence=9)
    assert _code(lambda: verify_checkpoint(resequenced, signer.public_key)) == "CHECKPOINT_SIGNATURE_INVALID"


def test_checkpoint_forged_with_another_key_is_refused(signer: CheckpointSigner) -> None:
    mallory = CheckpointSigner(Ed25519PrivateKey.generate())
    forged = mallory.sign("t", 1, NOW, HEADS)
    assert _code(lambda: verify_checkpoint(forged, signer.public_key)) == "CHECKPOINT_KEY_UNKNOWN"
    claiming = dataclasses.replace(forged, key_id=signer.key_id)  # and pretending to be ours
    assert _code(lambda: verify_checkpoint(claiming, signer.public_key)) == "CHECKPOINT_SIGNATURE_INVALID"
    garbage = dataclasses.replace(signer.sign("t", 1, NOW, HEADS), signature="not base64!")
    assert _code(lambda: verify_checkpoint(garbage, signer.public_key)) == "CHECKPOINT_SIGNATURE_INVALID"


def test_root_not_matching_the_heads_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    signer = CheckpointSigner(key)
    honest = signer.sign("t", 1, NOW, HEADS)
    wrong_root = dataclasses.replace(honest, root="0" * 64, signature="")
    resigned = dataclasses.replace(
        wrong_root, signature=base64.b64encode(key.sign(canonical_checkpoint(wrong_root))).decode()
    )
    assert _code(lambda: verify_checkpoint(resigned, signer.public_key)) == "CHECKPOINT_ROOT_MISMATCH"


def test_rotated_key_keeps_old_checkpoints_verifiable(signer: CheckpointSigner) -> None:
    old = signer.sign("t", 1, NOW, HEADS)
    rotated = CheckpointSigner(Ed25519PrivateKey.generate(), retired=[signer.public_key])
    new = rotated.sign("t", 2, NOW, HEADS)
    verify_checkpoint(old, rotated.trusted)
    verify_checkpoint(new, rotated.trusted)
    assert new.key_id != old.key_id
    assert _code(lambda: verify_checkpoint(new, signer.trusted)) == "CHECKPOINT_KEY_UNKNOWN"


def test_exported_checkpoint_verifies_offline_with_the_dev_public_key(tmp_path: Path) -> None:
    key = create_dev_key(tmp_path / "keys")
    signer = CheckpointSigner.from_files(key.audit_signing_key_file)
    checkpoint = signer.sign("t", 3, NOW, HEADS)
    exported = tmp_path / "checkpoint.json"
    exported.write_text(json.dumps(checkpoint_to_dict(checkpoint), indent=2))

    assert verify_checkpoint_file(exported, key.audit_public_key_file) == checkpoint
    assert checkpoint_from_dict(json.loads(exported.read_text())).created_at == NOW

    data = json.loads(exported.read_text())
    data["heads"][0]["seq"] = 99
    exported.write_text(json.dumps(data))
    with pytest.raises(CheckpointInvalid, match="does not verify"):
        verify_checkpoint_file(exported, key.audit_public_key_file)
    exported.write_text("{}")
    assert (
        _code(lambda: verify_checkpoint_file(exported, key.audit_public_key_file)) == "CHECKPOINT_MALFORMED"
    )


def test_ledger_without_a_signing_key_refuses_to_checkpoint() -> None:
    ledger = AuditLedger(store=None, signer=None)  # type: ignore[arg-type]
    with pytest.raises(SigningDisabledError) as refused:
        ledger.create_checkpoint("t")
    assert refused.value.reason == "AUDIT_SIGNING_DISABLED"


class _Ledger:
    """Stands in for AuditLedger: records the checkpoints asked for."""

    def __init__(self, stop: asyncio.Event, rounds: int) -> None:
        self.calls: list[tuple[str, bool]] = []
        self.stop = stop
        self.rounds = rounds

    def create_checkpoint(
        self, tenant: str, request_id: str | None = None, *, if_changed: bool = False
    ) -> None:
        self.calls.append((tenant, if_changed))
        if tenant == "bad":
            raise RuntimeError("boom")
        if len(self.calls) >= 3 * self.rounds:
            self.stop.set()


async def test_periodic_checkpoints_cover_every_tenant_each_round_and_survive_failures() -> None:
    stop = asyncio.Event()
    fake = _Ledger(stop, rounds=2)
    await asyncio.wait_for(
        checkpoint_periodically(fake, 0.0, stop, tenants=lambda: ["t1", "bad", "t2"]),  # type: ignore[arg-type]
        timeout=10,
    )
    assert fake.calls == [("t1", True), ("bad", True), ("t2", True)] * 2
