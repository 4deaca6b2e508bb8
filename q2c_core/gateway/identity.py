"""Who is calling: resolved from call metadata behind a protocol a token resolver can replace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from q2c_core.domain.errors import UnauthenticatedError
from q2c_core.messages import DEFAULT_TENANT, Caller

TENANT_KEY = "x-tenant-id"
PRINCIPAL_KEY = "x-principal"
CORRELATION_KEY = "x-correlation-id"


class IdentityResolver(Protocol):
    """Turns call metadata into a Caller (tenant, principal; the correlation id is set later)."""

    def resolve(self, metadata: Mapping[str, str]) -> Caller:
        """The caller, or raise UnauthenticatedError."""
        ...


class MetadataIdentityResolver:
    """Trusts `x-tenant-id` / `x-principal` metadata (behind an authenticating proxy, or in tests)."""

    def __init__(
        self,
        *,
        required: bool = False,
        default_tenant: str = DEFAULT_TENANT,
        default_principal: str = "anonymous",
    ) -> None:
        self.required = required
        self.default_tenant = default_tenant
        self.default_principal = default_principal

    def resolve(self, metadata: Mapping[str, str]) -> Caller:
        """Tenant and principal from metadata; defaults unless `required`."""
        tenant = metadata.get(TENANT_KEY, "").strip()
        principal = metadata.get(PRINCIPAL_KEY, "").strip()
        missing = [key for key, value in ((TENANT_KEY, tenant), (PRINCIPAL_KEY, principal)) if not value]
        if missing and self.required:
            raise UnauthenticatedError(
                "METADATA_MISSING",
                f"call metadata missing: {', '.join(missing)}",
                {"missing": ",".join(missing)},
            )
        return Caller(tenant_id=tenant or self.default_tenant, principal=principal or self.default_principal)
