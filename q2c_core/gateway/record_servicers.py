"""ExceptionService and AuditService: the exception queue and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from q2c.v1 import audit_pb2, audit_pb2_grpc, exception_pb2, exception_pb2_grpc
from q2c_core.api import convert
from q2c_core.gateway.context import current_caller
from q2c_core.gateway.runner import CommandRunner, blocking

if TYPE_CHECKING:
    from q2c_core.runtime import Runtime

Context = Any


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class ExceptionServicer(exception_pb2_grpc.ExceptionServiceServicer):
    """q2c.v1.ExceptionService: reads from the query side, resolution through the runtime.

    `clock` is the "now" of the computed age and sla_breached fields.
    """

    def __init__(self, runtime: Runtime, clock: Callable[[], datetime] = utc_now) -> None:
        self.queries = runtime.queries
        self.runner = CommandRunner(runtime)
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
        """Resolve an exception on its engagement; return it as resolved."""
        command = convert.resolve_exception(request)
        found = await blocking(self.queries.get_exception, current_caller().tenant_id, command.exception_id)
        engagement = await self.runner.run(found.engagement_id, request.request_id, command)
        return convert.exception_out(engagement.exceptions[command.exception_id], self.clock())


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    """q2c.v1.AuditService: read and verify the hash-chained audit log."""

    def __init__(self, runtime: Runtime) -> None:
        self.queries = runtime.queries

    async def ListAuditRecords(
        self, request: audit_pb2.ListAuditRecordsRequest, context: Context
    ) -> audit_pb2.ListAuditRecordsResponse:
        """One stream's audit records in chain order."""
        stream_id = convert.require_id(request.stream_id, "stream_id")
        page = await blocking(
            self.queries.list_audit,
            current_caller().tenant_id,
            stream_id,
            convert.check_page_size(request.page_size),
            request.page_token,
        )
        return audit_pb2.ListAuditRecordsResponse(
            audit_records=[convert.audit_record_out(r) for r in page.items],
            next_page_token=page.next_page_token,
        )

    async def VerifyAuditLog(
        self, request: audit_pb2.VerifyAuditLogRequest, context: Context
    ) -> audit_pb2.VerifyAuditLogResponse:
        """Recompute one stream's hash chain, or every stream of the tenant."""
        result = await blocking(
            self.queries.verify_audit, current_caller().tenant_id, request.stream_id or None
        )
        return convert.verify_out(result)
