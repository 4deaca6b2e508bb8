"""Audit records for mutations refused in the gateway (bad input never reaches a host)."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from q2c_core.app.rejection_log import UNASSIGNED_STREAM, RejectedAttempt, RejectionLog
from q2c_core.domain.errors import Q2cError
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters.convert_invoices import INVOICE_MARKER
from q2c_core.edge.servicers import blocking

log = logging.getLogger(__name__)

_STREAM_FIELDS = ("engagement_id", "exception_id", "rate_card_id", "bill_run_id")


def stream_of(request: Any) -> str:
    """The resource whose audit chain records the attempt (an invoice's is its engagement's)."""
    invoice_id = getattr(request, "invoice_id", "")
    if invoice_id:
        engagement_id, marker, _ = invoice_id.rpartition(INVOICE_MARKER)
        return engagement_id if marker and engagement_id else UNASSIGNED_STREAM
    for name in _STREAM_FIELDS:
        value = getattr(request, name, "")
        if value:
            return str(value)
    customer = getattr(request, "customer", None)
    return getattr(customer, "customer_id", "") or UNASSIGNED_STREAM


def is_mutation(request: Any) -> bool:
    """Mutating requests are exactly those that carry a request_id (API_RULES.md rule 4)."""
    descriptor = getattr(request, "DESCRIPTOR", None)
    return descriptor is not None and "request_id" in descriptor.fields_by_name


class RejectionAuditor:
    """Writes a REJECTED record for refused mutations the host did not already audit: bounded
    fields, the payload only as a digest, repeats and bursts throttled (q2c_core.app.rejection_log)."""

    def __init__(self, rejection_log: RejectionLog) -> None:
        self._log = rejection_log

    async def record(self, method: str, request: Any, error: Q2cError) -> None:
        """Audit the attempt; a failure to audit is logged, never masks the caller's error."""
        if error.audited or not is_mutation(request):
            return
        attempt = RejectedAttempt(
            stream_id=stream_of(request),
            command_type=method.rsplit("/", 1)[-1],
            request_id=request.request_id,
            payload_digest=hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest(),
            reason=error.reason,
        )
        try:
            await blocking(self._log.record, current_caller(), attempt)
        except Exception:
            log.exception("could not audit a rejected %s", attempt.command_type)
