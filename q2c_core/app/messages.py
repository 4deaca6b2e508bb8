"""What travels between the gateway, the runtime and the hosts: envelopes and results."""

from __future__ import annotations

import hashlib
import json
import uuid

from pydantic import BaseModel, ConfigDict

from q2c_core.domain.commands import Command
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.errors import ErrorPayload
from q2c_core.domain.invoices import Invoice

DEFAULT_TENANT = "default"


class Caller(BaseModel):
    """Who is calling, for which tenant, under which correlation id (from metadata or a token)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str = DEFAULT_TENANT
    principal: str = "anonymous"
    correlation_id: str = ""


class CommandEnvelope(BaseModel):
    """One engagement command with its caller and idempotency key; picklable across Ray."""

    model_config = ConfigDict(frozen=True)

    caller: Caller
    engagement_id: str
    request_id: str | None = None
    command: Command
    slim_reply: bool = False  # bulk callers (bill runs) want the outcome, not the whole engagement

    def digest(self) -> str:
        """sha256 of the canonical command payload (what idempotency compares)."""
        return payload_digest(self.command.kind, self.command.model_dump(mode="json"))


class CommandResult(BaseModel):
    """The outcome of one command: the engagement after it, or the error that rejected it."""

    model_config = ConfigDict(frozen=True)

    engagement: Engagement | None = None
    error: ErrorPayload | None = None
    event_ids: list[str] = []
    replayed: bool = False
    version: int = 0  # the engagement's version after the command
    invoice: Invoice | None = None  # the invoice a GenerateInvoice created, if any

    def slim(self) -> CommandResult:
        """The result without the engagement (what idempotency records and bulk callers keep)."""
        return self.model_copy(update={"engagement": None})

    @property
    def ok(self) -> bool:
        """True when the command was accepted."""
        return self.error is None


def payload_digest(kind: str, payload: object) -> str:
    """sha256 over the command type and its canonical JSON payload."""
    canonical = json.dumps({"kind": kind, "payload": payload}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_ID_NAMESPACE = uuid.UUID("6f1c2b2e-8a4d-4c43-9a57-3f1f5b0c9e21")


def new_resource_id(tenant_id: str, request_id: str | None, kind: str) -> str:
    """A resource id: derived from (tenant, request_id) so retries route alike, else random."""
    if request_id:
        return str(uuid.uuid5(_ID_NAMESPACE, f"{tenant_id}/{kind}/{request_id}"))
    return str(uuid.uuid4())
