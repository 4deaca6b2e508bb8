"""A server interceptor that loses replies: the call runs (and commits), the caller sees UNAVAILABLE."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc import aio


class ReplyLost(aio.ServerInterceptor):  # type: ignore[misc]
    """Arm a method: its next calls run to completion, then abort with UNAVAILABLE, not the reply.

    Installed after the gateway's own interceptor (`start_server(..., interceptors=[...])`), so
    the servicer has committed the command before the reply is dropped, exactly as when a
    connection breaks between commit and response.
    """

    def __init__(self) -> None:
        self.armed: dict[str, int] = {}
        self.dropped: list[Any] = []

    def arm(self, method: str, times: int = 1) -> None:
        """Drop the replies of the next `times` calls of `method` ("/q2c.v1.Service/Method")."""
        self.armed[method] = times

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """Wrap the armed method's unary handler; pass everything else through."""
        handler = await continuation(handler_call_details)
        method = str(getattr(handler_call_details, "method", ""))
        if handler is None or handler.unary_unary is None or not self.armed.get(method):
            return handler
        behaviour = handler.unary_unary

        async def lose_reply(request: Any, context: aio.ServicerContext[Any, Any]) -> Any:
            response = await behaviour(request, context)
            if self.armed.get(method, 0) > 0:
                self.armed[method] -= 1
                self.dropped.append(request)
                await context.abort(grpc.StatusCode.UNAVAILABLE, "injected fault: reply lost after commit")
            return response

        return grpc.unary_unary_rpc_method_handler(
            lose_reply,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
