"""AuditService methods of the q2c client (one per RPC; see `q2c/v1/audit.proto`)."""

from __future__ import annotations

from typing import Unpack

from q2c.v1 import audit_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import CallOptions, MutationOptions


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

        One bounded page per call: while `next_page_token` is set, call again with it as
        `page_token` (same stream_id and checkpoint) to continue.
        `AuditService.VerifyAuditLog`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.audit.VerifyAuditLog, request, audit_pb2.VerifyAuditLogResponse, options
        )

    def create_audit_checkpoint(
        self, request: audit_pb2.CreateAuditCheckpointRequest, **options: Unpack[MutationOptions]
    ) -> audit_pb2.AuditCheckpoint:
        """Signs every stream head of the tenant as its next checkpoint.

        `AuditService.CreateAuditCheckpoint`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.audit.CreateAuditCheckpoint, request, audit_pb2.AuditCheckpoint, options
        )

    def get_audit_checkpoint(
        self, request: audit_pb2.GetAuditCheckpointRequest, **options: Unpack[CallOptions]
    ) -> audit_pb2.AuditCheckpoint:
        """One checkpoint by sequence, or the latest (sequence 0).

        `AuditService.GetAuditCheckpoint`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.audit.GetAuditCheckpoint, request, audit_pb2.AuditCheckpoint, options
        )

    def list_audit_checkpoints(
        self, request: audit_pb2.ListAuditCheckpointsRequest, **options: Unpack[CallOptions]
    ) -> audit_pb2.ListAuditCheckpointsResponse:
        """The tenant's checkpoints, newest first.

        `AuditService.ListAuditCheckpoints`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.audit.ListAuditCheckpoints, request, audit_pb2.ListAuditCheckpointsResponse, options
        )

    def list_security_events(
        self, request: audit_pb2.ListSecurityEventsRequest, **options: Unpack[CallOptions]
    ) -> audit_pb2.ListSecurityEventsResponse:
        """Refused calls of the tenant (and, with include_unauthenticated, those with no verified tenant).

        `AuditService.ListSecurityEvents`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.audit.ListSecurityEvents, request, audit_pb2.ListSecurityEventsResponse, options
        )
