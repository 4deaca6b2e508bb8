"""One log line per q2c.v1 call ("rpc handled"), and the call's rpc and engagement id on every
line written while it runs.

The one wrapper every q2c.v1 handler gets (`edge/interceptors.py`) binds the call's rpc and
engagement id (`edge/context.py::CALL_FIELDS`, read by the logs' context source) as the call
arrives, so refusals carry them too, and writes the line when the call is over, timing the
whole call. The caller's tenant, principal and correlation id come from `edge/context.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import grpc
from grpc import aio

from q2c_core.edge.context import call_log_fields

RPC_LOG = logging.getLogger("q2c.rpc")
"""The logger of the "rpc handled" lines."""

_CODES = {code.value[0]: code for code in grpc.StatusCode}


def engagement_of(request: Any) -> str:
    """The engagement id a request names ('' when it names none)."""
    value = getattr(request, "engagement_id", "")
    return value if isinstance(value, str) else ""


def outcome(code: Any, error: BaseException | None) -> str:
    """The call's gRPC code name from the code it was aborted with (or set), and what ended it."""
    if isinstance(error, asyncio.CancelledError | GeneratorExit):  # the client went away
        return "CANCELLED"
    if isinstance(code, int):
        code = _CODES.get(code)
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    return "OK" if error is None else "UNKNOWN"


def outcome_of(context: aio.ServicerContext[Any, Any], error: BaseException | None) -> str:
    """The call's gRPC code name: what the handler set or aborted with, else OK or UNKNOWN."""
    return outcome(context.code(), error)


def log_handled(outcome: str, started: float) -> None:
    """The "rpc handled" line of a call that began at perf_counter() `started`; tenant and
    principal always present ("": nobody verified)."""
    duration_ms = round((time.perf_counter() - started) * 1000, 3)
    who = call_log_fields()
    extra = {
        "tenant": who.get("tenant", ""),
        "principal": who.get("principal", ""),
        "outcome": outcome,
        "duration_ms": duration_ms,
    }
    RPC_LOG.info("rpc handled", extra=extra)
