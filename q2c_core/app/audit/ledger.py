"""Signed audit checkpoints over the store: create (on demand or periodically), read, verify."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from q2c_core.app.audit.anchor import (
    Checkpoint,
    CheckpointInvalid,
    CheckpointSigner,
    StreamHead,
    verify_checkpoint,
)
from q2c_core.app.audit.chain import VerifyResult
from q2c_core.app.audit.token import VerifyToken
from q2c_core.app.clock import utc_now
from q2c_core.app.paging import paged
from q2c_core.app.ports import Store
from q2c_core.app.records import Page, SecurityEventRow
from q2c_core.app.store_errors import ConcurrencyConflict
from q2c_core.domain.errors import ConflictError, NotFoundError, PreconditionError, ValidationError

log = logging.getLogger("q2c.audit")
T = TypeVar("T")

TENANT_MISMATCH = "CHECKPOINT_TENANT_MISMATCH"
_ATTEMPTS = 3
MAX_VERIFY_RECORDS = 100_000
"""Records one VerifyAuditLog call checks at most (also the default)."""
VERIFY_SECONDS = 10.0
"""Work one VerifyAuditLog call does before it returns a resume token (checked per chunk)."""


def _same(item: T) -> T:
    return item


class SigningDisabledError(PreconditionError):
    """The server has no audit signing key, so it cannot write checkpoints."""

    def __init__(self) -> None:
        super().__init__("AUDIT_SIGNING_DISABLED", "the server has no audit signing key configured")


class AuditLedger:
    """The audit log's anchoring: signs stream heads into checkpoints and verifies against them.

    Without a signer checkpoints cannot be written, and a checkpoint cannot be trusted, so
    verifying against one fails with CHECKPOINT_KEY_UNKNOWN.
    """

    def __init__(
        self, store: Store, signer: CheckpointSigner | None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.store = store
        self.signer = signer
        self.clock = clock
        self.verify_seconds = VERIFY_SECONDS

    def create_checkpoint(
        self, tenant_id: str, request_id: str | None = None, *, if_changed: bool = False
    ) -> Checkpoint:
        """Sign the tenant's current heads as its next checkpoint (same request_id: the same one)."""
        signer = self.signer
        if signer is None:
            raise SigningDisabledError()
        now = self.clock()

        def sign(sequence: int, heads: Sequence[StreamHead]) -> Checkpoint:
            return signer.sign(tenant_id, sequence, now, heads)

        for attempt in range(_ATTEMPTS):
            try:
                return self.store.create_audit_checkpoint(tenant_id, sign, request_id, if_changed=if_changed)
            except ConcurrencyConflict:
                if attempt == _ATTEMPTS - 1:
                    raise ConflictError(
                        "CONCURRENT_MODIFICATION", "concurrent checkpoints of this tenant; retry"
                    ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def get_checkpoint(self, tenant_id: str, sequence: int | None) -> Checkpoint:
        """One checkpoint (None = the latest); NotFoundError when there is none."""
        found = self.store.get_audit_checkpoint(tenant_id, sequence)
        if found is None:
            raise NotFoundError("audit_checkpoint", "latest" if sequence is None else str(sequence))
        return found

    def list_checkpoints(self, tenant_id: str, page_size: int, page_token: str) -> Page[Checkpoint]:
        """The tenant's checkpoints, newest first (page_size 0 = 50, max 500; ValidationError)."""
        return paged(
            lambda size: self.store.list_audit_checkpoints(tenant_id, size, page_token), page_size, _same
        )

    def list_security_events(
        self, tenant_id: str, include_unauthenticated: bool, page_size: int, page_token: str
    ) -> Page[SecurityEventRow]:
        """Refused calls of the tenant, plus those with no verified tenant when asked, newest first."""
        tenants = [tenant_id, ""] if include_unauthenticated else [tenant_id]
        return paged(
            lambda size: self.store.list_security_events(tenants, size, page_token), page_size, _same
        )

    def verify(
        self, tenant_id: str, stream_id: str | None, checkpoint: Checkpoint | None = None
    ) -> VerifyResult:
        """Verify the chain (and the events it covers), then the heads against `checkpoint` (an
        exported one the caller supplies) or else the tenant's latest stored checkpoint."""
        anchor = checkpoint or self.store.get_audit_checkpoint(tenant_id)
        if anchor is not None:
            refused = self.refusal(tenant_id, anchor)
            if refused is not None:
                return refused
        return self.store.verify_audit(tenant_id, stream_id, anchor)

    def verify_page(
        self,
        tenant_id: str,
        stream_id: str | None,
        checkpoint: Checkpoint | None = None,
        page_token: str = "",
        max_records: int = 0,
    ) -> tuple[VerifyResult, str]:
        """One bounded page of `verify` and the token of the next ("" when done or failed).

        At most `max_records` (0 = 100,000, the maximum) records and about VERIFY_SECONDS of
        work per page; later pages use the checkpoint the first one chose. ValidationError for
        a negative max_records or a token that is malformed or of another stream or checkpoint.
        """
        if max_records < 0:
            raise ValidationError.one("max_records", "must not be negative")
        budget = min(max_records or MAX_VERIFY_RECORDS, MAX_VERIFY_RECORDS)
        token = VerifyToken.parse(page_token, stream_id or "") if page_token else None
        anchor = self._anchor(tenant_id, checkpoint, token)
        if anchor is not None:
            refused = self.refusal(tenant_id, anchor)
            if refused is not None:
                return refused, ""
        start = token.cursor if token else None
        result = self.store.verify_audit_page(
            tenant_id, stream_id, anchor, start, budget, self.verify_seconds
        )
        if not result.ok or result.resume is None:
            return result, ""
        following = VerifyToken(stream_id or "", anchor.sequence if anchor else 0, result.resume)
        return replace(result, checkpoint=anchor, resume=None), following.encode()

    def _anchor(
        self, tenant_id: str, supplied: Checkpoint | None, token: VerifyToken | None
    ) -> Checkpoint | None:
        """The checkpoint to verify against: the supplied one, else the one the first page chose."""
        if supplied is not None:
            if token is not None and token.checkpoint != supplied.sequence:
                raise ValidationError.one("page_token", "was issued for another checkpoint")
            return supplied
        if token is None:
            return self.store.get_audit_checkpoint(tenant_id)
        if token.checkpoint == 0:
            return None
        return self.store.get_audit_checkpoint(
            tenant_id, token.checkpoint
        ) or self.store.get_audit_checkpoint(tenant_id)

    def refusal(self, tenant_id: str, checkpoint: Checkpoint) -> VerifyResult | None:
        """A failed result when the checkpoint is not this tenant's or not signed by a trusted key."""
        if checkpoint.tenant_id != tenant_id:
            problem = f"checkpoint is of tenant {checkpoint.tenant_id!r}, not {tenant_id!r}"
            return VerifyResult(False, 0, problem=problem, reason=TENANT_MISMATCH, checkpoint=checkpoint)
        try:
            verify_checkpoint(checkpoint, self.signer.trusted if self.signer else {})
        except CheckpointInvalid as exc:
            return VerifyResult(False, 0, problem=exc.message, reason=exc.code, checkpoint=checkpoint)
        return None


async def checkpoint_periodically(
    ledger: AuditLedger,
    interval: float,
    stop: asyncio.Event,
    tenants: Callable[[], Sequence[str]] | None = None,
) -> None:
    """Every `interval` seconds until `stop` is set, checkpoint each tenant `tenants()` names
    (default: every tenant with audit records) whose heads moved since its latest checkpoint.
    Runs a round at once; a failed round or tenant is logged and tried again next round."""
    list_tenants = tenants or ledger.store.audit_tenants
    while not stop.is_set():
        try:
            for tenant in await asyncio.to_thread(list_tenants):
                if stop.is_set():
                    break
                try:
                    await asyncio.to_thread(ledger.create_checkpoint, tenant, None, if_changed=True)
                except Exception:
                    log.exception("audit checkpoint of tenant %s failed", tenant)
        except Exception:
            log.exception("audit checkpoint round failed; retrying in %ss", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
