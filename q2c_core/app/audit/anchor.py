"""Signed audit checkpoints: stream heads, a Merkle root over them and an Ed25519 signature.

Pure (json, hashlib, base64 and `cryptography` only) so that an auditor's machine can verify an
exported checkpoint file with a public key and nothing of the server installed.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CHECKPOINT_FORMAT = 1
"""Version of the canonical checkpoint bytes (bumped if what is signed ever changes)."""

SIGNATURE_INVALID = "CHECKPOINT_SIGNATURE_INVALID"
KEY_UNKNOWN = "CHECKPOINT_KEY_UNKNOWN"
ROOT_MISMATCH = "CHECKPOINT_ROOT_MISMATCH"
MALFORMED = "CHECKPOINT_MALFORMED"


def format_utc(value: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SS.ffffffZ` in UTC (naive means UTC)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """Inverse of format_utc."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class StreamHead:
    """The last audit record of one stream when a checkpoint was taken."""

    stream_id: str
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One tenant's audit heads at a moment, signed; `heads` are sorted by stream_id."""

    tenant_id: str
    sequence: int
    created_at: datetime
    heads: tuple[StreamHead, ...]
    root: str
    key_id: str
    signature: str = ""  # base64 Ed25519 signature over canonical_checkpoint(...)
    format: int = CHECKPOINT_FORMAT
    request_id: str | None = field(default=None, compare=False)  # not signed: idempotency only


Sign = Callable[[int, Sequence[StreamHead]], Checkpoint]
"""Makes the signed checkpoint with the given sequence number over the given heads."""


class CheckpointInvalid(Exception):
    """A checkpoint that must not be trusted; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _leaf(head: StreamHead) -> bytes:
    return hashlib.sha256(b"\x00" + _json([head.stream_id, head.seq, head.hash])).digest()


def _tree(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash over already-hashed leaves."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << ((len(leaves) - 1).bit_length() - 1)  # largest power of two below len
    return hashlib.sha256(b"\x01" + _tree(leaves[:split]) + _tree(leaves[split:])).digest()


def merkle_root(heads: Sequence[StreamHead]) -> str:
    """Hex RFC 6962 Merkle root over the heads sorted by stream_id (sha256('') when none)."""
    if not heads:
        return hashlib.sha256(b"").hexdigest()
    ordered = sorted(heads, key=lambda h: h.stream_id)
    return _tree([_leaf(h) for h in ordered]).hex()


def canonical_checkpoint(cp: Checkpoint) -> bytes:
    """The bytes that are signed: every field except the signature, as sorted compact JSON."""
    return _json(
        {
            "format": cp.format,
            "tenant_id": cp.tenant_id,
            "sequence": cp.sequence,
            "created_at": format_utc(cp.created_at),
            "heads": [[h.stream_id, h.seq, h.hash] for h in cp.heads],
            "root": cp.root,
            "key_id": cp.key_id,
        }
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    """Short stable id of a public key: the first 16 hex digits of sha256(raw key)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class CheckpointSigner:
    """Signs checkpoints with the server's Ed25519 private key; trusts older public keys too."""

    def __init__(self, private_key: Ed25519PrivateKey, retired: Sequence[Ed25519PublicKey] = ()) -> None:
        self._private_key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)
        keys = {key_id(k): k for k in retired}
        keys[self.key_id] = self.public_key
        self.trusted: dict[str, Ed25519PublicKey] = keys

    @classmethod
    def from_files(
        cls, private_key_file: Path, retired_public_key_files: Sequence[Path] = ()
    ) -> CheckpointSigner:
        """Load the PEM private key and any retired PEM public keys."""
        private = serialization.load_pem_private_key(private_key_file.read_bytes(), None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError(f"{private_key_file} is not an Ed25519 private key")
        return cls(private, [load_public_key(p) for p in retired_public_key_files])

    def sign(
        self, tenant_id: str, sequence: int, created_at: datetime, heads: Sequence[StreamHead]
    ) -> Checkpoint:
        """A signed checkpoint of `heads`."""
        ordered = tuple(sorted(heads, key=lambda h: h.stream_id))
        unsigned = Checkpoint(tenant_id, sequence, created_at, ordered, merkle_root(ordered), self.key_id)
        signature = self._private_key.sign(canonical_checkpoint(unsigned))
        return replace(unsigned, signature=base64.b64encode(signature).decode())


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file."""
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key


def verify_checkpoint(cp: Checkpoint, keys: Mapping[str, Ed25519PublicKey] | Ed25519PublicKey) -> None:
    """Raise CheckpointInvalid unless `cp` is signed by a trusted key and its root matches its heads."""
    trusted = {key_id(keys): keys} if isinstance(keys, Ed25519PublicKey) else dict(keys)
    public = trusted.get(cp.key_id)
    if public is None:
        known = ", ".join(sorted(trusted)) or "none"
        raise CheckpointInvalid(
            KEY_UNKNOWN, f"checkpoint is signed by key {cp.key_id}; trusted keys: {known}"
        )
    try:
        public.verify(base64.b64decode(cp.signature, validate=True), canonical_checkpoint(cp))
    except (InvalidSignature, ValueError) as exc:
        detail = f"checkpoint {cp.sequence} signature does not verify with key {cp.key_id}: forged or altered"
        raise CheckpointInvalid(SIGNATURE_INVALID, detail) from exc
    if merkle_root(cp.heads) != cp.root:
        raise CheckpointInvalid(
            ROOT_MISMATCH, f"checkpoint {cp.sequence} root does not match its stream heads"
        )


def checkpoint_to_dict(cp: Checkpoint) -> dict[str, Any]:
    """JSON-able form, as exported to a file an operator keeps outside the database."""
    return {
        "format": cp.format,
        "tenant_id": cp.tenant_id,
        "sequence": cp.sequence,
        "created_at": format_utc(cp.created_at),
        "heads": [{"stream_id": h.stream_id, "seq": h.seq, "hash": h.hash} for h in cp.heads],
        "root": cp.root,
        "key_id": cp.key_id,
        "signature": cp.signature,
    }


def checkpoint_from_dict(data: Mapping[str, Any]) -> Checkpoint:
    """Inverse of checkpoint_to_dict; raises CheckpointInvalid(MALFORMED)."""
    try:
        heads = tuple(StreamHead(str(h["stream_id"]), int(h["seq"]), str(h["hash"])) for h in data["heads"])
        return Checkpoint(
            tenant_id=str(data["tenant_id"]),
            sequence=int(data["sequence"]),
            created_at=parse_utc(str(data["created_at"])),
            heads=heads,
            root=str(data["root"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
            format=int(data.get("format", CHECKPOINT_FORMAT)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointInvalid(MALFORMED, f"not a q2c audit checkpoint: {exc}") from exc


def verify_checkpoint_file(checkpoint_file: Path, public_key_file: Path) -> Checkpoint:
    """Offline check of an exported checkpoint: parse it and verify its signature and root."""
    try:
        data = json.loads(checkpoint_file.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointInvalid(MALFORMED, f"{checkpoint_file} is not JSON: {exc}") from exc
    checkpoint = checkpoint_from_dict(data)
    verify_checkpoint(checkpoint, load_public_key(public_key_file))
    return checkpoint
