"""ExceptionService and AuditService: the exception queue and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from q2c.v1 import audit_pb2, audit_pb2_grpc, exception_pb2, exception_pb2_grpc
from q2c_core.app.audit.anchor import CheckpointSigner
from q2c_core.app.audit.ledger import AuditLedger
from q2c_core.app.clock import utc_now
from q2c_core.app.reads import Queries
from q2c_core.domain.errors import PermissionDeniedError, ValidationError
from q2c_core.edge.auth.scopes import ADMIN
from q2c_core.edge.context import current_caller, current_identity
from q2c_core.edge.converters import convert
from q2c_core.edge.converters.convert_audit import checkpoint_in, checkpoint_out, security_event_out
from q2c_core.edge.deadlines import AUDIT_CHECKPOINT_SECONDS, VERIFY_AUDIT_PAGE_SECONDS, require_time
from q2c_core.edge.servicers import Context, blocking, engagement_of, lister

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime


class ExceptionServicer(exception_pb2_grpc.ExceptionServiceServicer):
    """q2c.v1.ExceptionService: reads from the query side, resolution through the runtime.

    `clock` is the "now" of the computed age and sla_breached fields.
    """

    def __init__(self, runtime: Runtime, clock: Callable[[], datetime] = utc_now) -> None:
        self.runtime = runtime
        self.queries = runtime.queries
        self.clock = clock

    async def ListExceptions(
        self, request: exception_pb2.ListExceptionsRequest, context: Context
    ) -> exception_pb2.ListExceptionsResponse:
        """A page of the exception queue."""
        wanted = convert.exception_filters(request)
        page = await blocking(
            self.queries.list_exceptions,
            current_caller().tenant_id,
            wanted.state,
            wanted.severity,
            wanted.engagement_id,
            convert.check_page_size(request.page_size),
            request.page_token,
            owner_queue=wanted.owner_queue,
            newest_first=wanted.newest_first,
        )
        now = self.clock()
        return exception_pb2.ListExceptionsResponse(
            exceptions=[convert.exception_out(x, now) for x in page.items],
            next_page_token=page.next_page_token,
        )

    async def GetException(
        self, request: exception_pb2.GetExceptionRequest, context: Context
    ) -> exception_pb2.BusinessException:
        """One business exception."""
        exception_id = convert.require_id(request.exception_id, "exception_id")
        found = await blocking(self.queries.get_exception, current_caller().tenant_id, exception_id)
        return convert.exception_out(found, self.clock())

    async def ResolveException(
        self, request: exception_pb2.ResolveExceptionRequest, context: Context
    ) -> exception_pb2.BusinessException:
        """Resolve an exception on its engagement; return it as resolved (a slim reply: the
        result carries the exception, not the engagement)."""
        command = convert.resolve_exception(request)
        caller = current_caller()
        found = await blocking(self.queries.get_exception, caller.tenant_id, command.exception_id)
        resolved = (
            await self.runtime.run(caller, found.engagement_id, request.request_id, command, slim=True)
        ).exception
        if resolved is None:  # a replay of a reply recorded without its exception
            result = await self.runtime.run(caller, found.engagement_id, request.request_id, command)
            resolved = engagement_of(result).exceptions[command.exception_id]
        return convert.exception_out(resolved, self.clock())


def _include_unauthenticated(request: audit_pb2.ListSecurityEventsRequest) -> tuple[bool]:
    if request.include_unauthenticated and ADMIN not in current_identity().scopes:
        raise PermissionDeniedError(
            "SCOPE_MISSING",
            "include_unauthenticated needs scope admin: refusals without a tenant belong to no tenant",
            {"scope": ADMIN, "field": "include_unauthenticated"},
        )
    return (request.include_unauthenticated,)


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    """q2c.v1.AuditService: read and verify the hash-chained audit log, sign checkpoints of it,
    list refused calls.

    `audit_signer` signs checkpoints and is trusted (with its retired keys) when verifying
    them; without one CreateAuditCheckpoint fails with AUDIT_SIGNING_DISABLED.
    """

    def __init__(self, runtime: Runtime, audit_signer: CheckpointSigner | None = None) -> None:
        self.queries = runtime.queries
        self.ledger = self.reads = runtime.queries.audit_ledger(audit_signer)

    ListAuditRecords = lister(
        "One stream's audit records in chain order.",
        Queries.list_audit,
        audit_pb2.ListAuditRecordsResponse,
        convert.audit_record_out,
        lambda request: (convert.require_id(request.stream_id, "stream_id"),),
        reads="queries",
    )

    async def VerifyAuditLog(
        self, request: audit_pb2.VerifyAuditLogRequest, context: Context
    ) -> audit_pb2.VerifyAuditLogResponse:
        """Recompute one stream's hash chain, or every stream of the tenant, a bounded page at a
        time, and on the last page compare the heads with the given or the latest stored
        checkpoint."""
        checkpoint = checkpoint_in(request.checkpoint) if request.HasField("checkpoint") else None
        require_time("audit verification", VERIFY_AUDIT_PAGE_SECONDS)
        result, next_page_token = await blocking(
            self.ledger.verify_page,
            current_caller().tenant_id,
            request.stream_id or None,
            checkpoint,
            request.page_token,
            request.max_records,
        )
        response = convert.verify_out(result)
        response.next_page_token = next_page_token
        return response

    async def CreateAuditCheckpoint(
        self, request: audit_pb2.CreateAuditCheckpointRequest, context: Context
    ) -> audit_pb2.AuditCheckpoint:
        """Sign the tenant's current stream heads as its next checkpoint."""
        require_time("an audit checkpoint", AUDIT_CHECKPOINT_SECONDS)
        created = await blocking(
            self.ledger.create_checkpoint, current_caller().tenant_id, request.request_id or None
        )
        return checkpoint_out(created)

    async def GetAuditCheckpoint(
        self, request: audit_pb2.GetAuditCheckpointRequest, context: Context
    ) -> audit_pb2.AuditCheckpoint:
        """One checkpoint by sequence, or the latest."""
        if request.sequence < 0:
            raise ValidationError.one("sequence", "must not be negative")
        found = await blocking(
            self.ledger.get_checkpoint, current_caller().tenant_id, request.sequence or None
        )
        return checkpoint_out(found)

    ListAuditCheckpoints = lister(
        "The tenant's checkpoints, newest first.",
        AuditLedger.list_checkpoints,
        audit_pb2.ListAuditCheckpointsResponse,
        checkpoint_out,
    )
    ListSecurityEvents = lister(
        "Refused calls of the caller's tenant (and, for `admin`, those without a verified tenant).",
        AuditLedger.list_security_events,
        audit_pb2.ListSecurityEventsResponse,
        security_event_out,
        _include_unauthenticated,
    )
