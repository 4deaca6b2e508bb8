"""An authenticated caller: tenant, principal and scopes, and how they were proven."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a verified credential says the caller is."""

    tenant_id: str
    principal: str
    scopes: frozenset[str]
    method: str  # "jwt", "mtls" or "none"
    expires_at: float | None = None  # POSIX seconds; None for certificates and --auth none
