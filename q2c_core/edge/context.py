"""Per-call context set by the interceptor and read by servicers: caller and correlation id."""

from __future__ import annotations

import random
from contextvars import ContextVar

from q2c_core.app.messages import Caller
from q2c_core.edge.auth.identity import Identity
from q2c_core.logs import add_context_source

CORRELATION_ID: ContextVar[str] = ContextVar("q2c_correlation_id", default="")
"""The correlation id of the call being served ('' outside a call)."""

CALLER: ContextVar[Caller | None] = ContextVar("q2c_caller", default=None)
"""The resolved caller of the call being served (None outside a call)."""

IDENTITY: ContextVar[Identity | None] = ContextVar("q2c_identity", default=None)
"""The authenticated identity (with its scopes) of the call being served."""

CALL_FIELDS: ContextVar[tuple[str, str] | None] = ContextVar("q2c_call_fields", default=None)
"""The rpc (full method name) and engagement id ('' for none) of the call being served: bound
as the call arrives, for every line written while it runs (one set, no per-call dict)."""


def current_caller() -> Caller:
    """The caller of the call being served; fails loudly if the interceptor did not run."""
    caller = CALLER.get()
    if caller is None:
        raise RuntimeError("no caller in context: is the CallContextInterceptor installed?")
    return caller


def current_identity() -> Identity:
    """The authenticated identity of the call being served (scopes included)."""
    identity = IDENTITY.get()
    if identity is None:
        raise RuntimeError("no identity in context: is the CallContextInterceptor installed?")
    return identity


def current_correlation_id() -> str:
    """The correlation id of the call being served."""
    return CORRELATION_ID.get()


def new_correlation_id() -> str:
    """A fresh correlation id for a call that brings none: 32 hex digits, 128 random bits.

    Not a secret (it is echoed and logged), only unique: Python's per-process generator (seeded
    from the OS and reseeded in a forked child) costs a fraction of uuid4's read of os.urandom.
    """
    return f"{random.getrandbits(128):032x}"


def call_log_fields() -> dict[str, str]:
    """The log fields of the call being served (empty outside a call): its correlation id, its
    rpc and engagement id, and tenant and principal once known (the admitted caller, else a
    verified identity)."""
    fields = {"correlation_id": CORRELATION_ID.get()}
    call = CALL_FIELDS.get()
    if call is not None:
        fields["rpc"], fields["engagement_id"] = call
    who = CALLER.get() or IDENTITY.get()
    if who is not None:
        fields["tenant"], fields["principal"] = who.tenant_id, who.principal
    return fields


# Every log line written while a call is served carries its caller (see q2c_core/logs.py).
add_context_source(call_log_fields)
