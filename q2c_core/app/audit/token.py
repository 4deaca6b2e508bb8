"""The resume token of a paged audit verification: where the chain stopped, opaque to callers.

It carries the last record checked (stream, seq, hash, chain version) so the next page links its
first record to it, the count so far, the stream filter and the checkpoint the first page chose.
Forging one only misleads the caller's own verification; it grants nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from q2c_core.app.audit.chain import ChainCursor
from q2c_core.domain.errors import ValidationError

FORMAT = 1
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class VerifyToken:
    """Where a bounded VerifyAuditLog resumes: `stream_id` is the request's filter ("" = every
    stream), `checkpoint` the sequence of the checkpoint compared at the end (0 = none)."""

    stream_id: str
    checkpoint: int
    cursor: ChainCursor

    def encode(self) -> str:
        """The opaque wire form (URL-safe base64 of compact JSON)."""
        c = self.cursor
        body = [
            FORMAT,
            self.stream_id,
            self.checkpoint,
            c.stream_id,
            c.seq,
            c.hash,
            c.chain_version,
            c.checked,
        ]
        return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()

    @classmethod
    def parse(cls, token: str, stream_id: str) -> VerifyToken:
        """Decode a token for a request verifying `stream_id`; ValidationError('page_token')."""
        try:
            body = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
            fmt, stream, checkpoint, at, seq, hash_, version, checked = body
            parsed = cls(
                str(stream),
                int(checkpoint),
                ChainCursor(str(at), int(seq), str(hash_), int(version), int(checked)),
            )
            valid = fmt == FORMAT and _HEX64.fullmatch(parsed.cursor.hash) is not None
        except (ValueError, TypeError, UnicodeError, binascii.Error):
            valid = False
        if not valid:
            raise ValidationError.one("page_token", "is not a token VerifyAuditLog issued")
        if parsed.stream_id != stream_id:
            raise ValidationError.one("page_token", "was issued for another stream_id")
        return parsed
