"""The small steps of one q2c.v1 call at the edge, and what is worked out once per RPC.

Used by the one wrapper every q2c.v1 handler gets (`edge/interceptors.py`): reading the call's
metadata, aborting with the correlation id echoed, and at the end of the call its metrics and
its "rpc handled" line (`edge/request_log.py`), with the log fields of the call unbound.
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import Token
from dataclasses import dataclass
from typing import Any

import grpc
from grpc import aio

from q2c_core.domain.errors import Q2cError
from q2c_core.edge.auth.authenticator import PRINCIPAL_KEY, TENANT_KEY, Authorize
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.context import CALL_FIELDS, CORRELATION_ID
from q2c_core.edge.limits import Kind
from q2c_core.edge.metrics import RouteMetrics
from q2c_core.edge.rejections import is_mutation
from q2c_core.edge.request_log import RPC_LOG, log_handled, outcome

CORRELATION_KEY = "x-correlation-id"
PEER_CERTIFICATE_KEY = "x509_pem_cert"
_ASSERTED_KEYS = frozenset({TENANT_KEY, PRINCIPAL_KEY})
_CANCELLED = grpc.StatusCode.CANCELLED


def read_metadata(context: aio.ServicerContext[Any, Any]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """One pass over the call's metadata: the first text value of each key, and every
    x-tenant-id / x-principal value (a repeated hint is still checked in full)."""
    found: dict[str, str] = {}
    asserted: list[tuple[str, str]] = []
    for key, value in context.invocation_metadata() or ():
        if isinstance(value, str):
            if key not in found:
                found[key] = value
            if key in _ASSERTED_KEYS:
                asserted.append((key, value))
    return found, asserted


def peer_certificate(context: aio.ServicerContext[Any, Any]) -> bytes | None:
    """The client certificate the TLS layer verified (mTLS), if any."""
    certificates = (context.auth_context() or {}).get(PEER_CERTIFICATE_KEY) or []
    return certificates[0] if certificates else None


async def abort(context: aio.ServicerContext[Any, Any], status: grpc.Status) -> None:
    """Abort with `status`, echoing the correlation id in the trailing metadata too.

    Before admission no initial metadata has been sent, so a refused call's only echo of its
    correlation id is here (and in the ErrorInfo metadata).
    """
    echo = ((CORRELATION_KEY, CORRELATION_ID.get()),)
    await context.abort_with_status(status._replace(trailing_metadata=(*status.trailing_metadata, *echo)))


def code_of(context: aio.ServicerContext[Any, Any]) -> Any:
    """The status the call was aborted with; None when it was not (OK). Stand-in contexts of
    tests and benchmarks may have no code()."""
    code = getattr(context, "code", None)
    return code() if code is not None else None


@dataclass(slots=True)
class Route:
    """What the edge needs of one RPC, worked out once: its scope check, its metric children
    and, at its first request, which budget (read or mutation) its calls spend."""

    method: str
    authorize: Authorize
    metrics: RouteMetrics
    streaming: bool = False
    """Server-streaming: the correlation id is echoed in initial metadata, not trailing."""
    kind: Kind | None = None

    def kind_of(self, request: Any) -> Kind:
        """Mutation or read (an RPC's request type never changes)."""
        if self.kind is None:
            self.kind = "mutation" if is_mutation(request) else "read"
        return self.kind

    def finish(
        self,
        code: grpc.StatusCode | None,
        error: BaseException | None,
        started: float,
        fields: Token[tuple[str, str] | None],
    ) -> None:
        """The call is over with `code` (None: OK): count it, write its "rpc handled" line,
        unbind its log fields. A failed call is finished before its status is sent, so a
        client that has the status finds the call counted."""
        self.metrics.done(_CANCELLED if isinstance(error, asyncio.CancelledError) else code, started)
        if RPC_LOG.isEnabledFor(logging.INFO):
            log_handled(outcome(code, error), started)
        try:
            CALL_FIELDS.reset(fields)
        except ValueError:  # an async generator closed from another context
            CALL_FIELDS.set(None)


class SecurityRefusal(Exception):
    """Credentials or scope refused: the wrapped error is reported and logged as a security event."""

    def __init__(self, error: Q2cError, identity: Identity | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.identity = identity
