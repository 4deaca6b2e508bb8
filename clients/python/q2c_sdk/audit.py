"""AuditService methods of the q2c client (one per RPC; see `q2c/v1/audit.proto`)."""

from __future__ import annotations

from typing import Unpack

from q2c.v1 import audit_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import CallOptions


class AuditMethods(Bound):
    """AuditService: every RPC as a typed method taking the request message and per-call options."""

    def list_audit_records(
        self, request: audit_pb2.ListAuditRecordsRequest, **options: Unpack[CallOptions]
    ) -> audit_pb2.ListAuditRecordsResponse:
        """Lists one stream's audit records in chain order (sequence ascending).

        `AuditService.ListAuditRecords`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.audit.ListAuditRecords, request, audit_pb2.ListAuditRecordsResponse, options
        )

    def verify_audit_log(
        self, request: audit_pb2.VerifyAuditLogRequest, **options: Unpack[CallOptions]
    ) -> audit_pb2.VerifyAuditLogResponse:
        """Recomputes the hash chain of one stream (or all of the tenant's) and reports the first bad record.

        `AuditService.VerifyAuditLog`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.audit.VerifyAuditLog, request, audit_pb2.VerifyAuditLogResponse, options
        )
