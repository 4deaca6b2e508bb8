"""ExceptionService methods of the q2c client (one per RPC; see `q2c/v1/exception.proto`)."""

from __future__ import annotations

from typing import Unpack

from q2c.v1 import exception_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import CallOptions, MutationOptions


class ExceptionMethods(Bound):
    """ExceptionService: every RPC as a typed method taking the request message and per-call options."""

    def list_exceptions(
        self, request: exception_pb2.ListExceptionsRequest, **options: Unpack[CallOptions]
    ) -> exception_pb2.ListExceptionsResponse:
        """Lists business exceptions, oldest raise_time first unless `order_by` says otherwise.

        Filters: state, severity, engagement_id, owner_queue. Each exception carries its
        owner_queue, sla_due_time, and age / sla_breached computed when read.

        `ExceptionService.ListExceptions`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.exceptions.ListExceptions, request, exception_pb2.ListExceptionsResponse, options
        )

    def get_exception(
        self, request: exception_pb2.GetExceptionRequest, **options: Unpack[CallOptions]
    ) -> exception_pb2.BusinessException:
        """Returns one business exception.

        `ExceptionService.GetException`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.exceptions.GetException, request, exception_pb2.BusinessException, options
        )

    def resolve_exception(
        self, request: exception_pb2.ResolveExceptionRequest, **options: Unpack[MutationOptions]
    ) -> exception_pb2.BusinessException:
        """OPEN -> RESOLVED.

        `ExceptionService.ResolveException`. Mutation: idempotent by request_id (set automatically; retried
        on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.exceptions.ResolveException, request, exception_pb2.BusinessException, options
        )
