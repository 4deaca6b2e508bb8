"""Stable routing of engagement ids to shards (never Python's salted hash())."""

from __future__ import annotations

import hashlib


def shard_for(engagement_id: str, shard_count: int) -> int:
    """The shard index owning the engagement: blake2b of the id, modulo the shard count."""
    digest = hashlib.blake2b(engagement_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shard_count
