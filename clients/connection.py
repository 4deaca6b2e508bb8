"""A thin, typed handle on a q2c server: stubs, credentials, metadata, request ids and deadlines."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import grpc
from google.type import date_pb2

from q2c.v1 import (
    audit_pb2_grpc,
    billing_pb2_grpc,
    common_pb2,
    customer_pb2_grpc,
    engagement_pb2_grpc,
    exception_pb2_grpc,
    rate_card_pb2_grpc,
)
from q2c_sdk.credentials import TokenProvider, authorization_metadata, tls_credentials, token_source

DEFAULT_DEADLINE_SECONDS = 30.0
SERVICE_CONFIG = Path(__file__).resolve().parent.parent / "protos" / "q2c" / "v1" / "service_config.json"


def service_config() -> str:
    """The published retry policy (UNAVAILABLE only), as a JSON string for channel options."""
    return json.dumps(json.loads(SERVICE_CONFIG.read_text())) if SERVICE_CONFIG.exists() else "{}"


def money(amount: str, currency: str) -> common_pb2.Money:
    """A Money message from a decimal string."""
    return common_pb2.Money(currency_code=currency, amount=amount)


def pb_date(value: date) -> date_pb2.Date:
    """A google.type.Date from a datetime.date."""
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


@dataclass
class Q2c:
    """Stubs for every q2c service over one channel, with the bearer token attached to each call.

    The server takes tenant and principal from the token (`token`, `token_file` re-read when it
    changes, or `token_provider`); `tenant_id` / `principal` are optional hints, sent only when
    given, that must agree with it. `tls_ca_file` (and for mTLS `tls_cert_file` /
    `tls_key_file`) switch the channel to TLS.
    """

    target: str
    tenant_id: str | None = None
    principal: str | None = None
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    deadline: float = DEFAULT_DEADLINE_SECONDS
    token: str | None = None
    token_file: str | Path | None = None
    token_provider: TokenProvider | None = None
    tls_ca_file: str | Path | None = None
    tls_cert_file: str | Path | None = None
    tls_key_file: str | Path | None = None

    def __post_init__(self) -> None:
        self._token = token_source(self.token, self.token_file, self.token_provider)
        options = [("grpc.service_config", service_config()), ("grpc.enable_retries", 1)]
        tls = tls_credentials(
            tls_ca_file=self.tls_ca_file, tls_cert_file=self.tls_cert_file, tls_key_file=self.tls_key_file
        )
        if tls is not None:
            self.channel = grpc.secure_channel(self.target, tls, options=options)
        else:
            self.channel = grpc.insecure_channel(self.target, options=options)
        self.customers = customer_pb2_grpc.CustomerServiceStub(self.channel)
        self.rate_cards = rate_card_pb2_grpc.RateCardServiceStub(self.channel)
        self.engagements = engagement_pb2_grpc.EngagementServiceStub(self.channel)
        self.exceptions = exception_pb2_grpc.ExceptionServiceStub(self.channel)
        self.audit = audit_pb2_grpc.AuditServiceStub(self.channel)
        self.billing = billing_pb2_grpc.BillingServiceStub(self.channel)

    @property
    def metadata(self) -> list[tuple[str, str]]:
        """Call metadata: the bearer token, the tenant / principal hints if given, correlation id."""
        hints = [("x-tenant-id", self.tenant_id), ("x-principal", self.principal)]
        return [
            *authorization_metadata(self._token),
            *((key, value) for key, value in hints if value),
            ("x-correlation-id", self.correlation_id),
        ]

    def call(self, method: Any, request: Any) -> Any:
        """Call with metadata and a deadline; mutations get a fresh request_id if unset."""
        if hasattr(request, "request_id") and not request.request_id:
            request.request_id = uuid.uuid4().hex
        return method(request, metadata=self.metadata, timeout=self.deadline)

    def close(self) -> None:
        """Close the channel."""
        self.channel.close()
