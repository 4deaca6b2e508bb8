"""A thin, typed handle on a q2c server: stubs, metadata, request ids and deadlines."""

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
    """Stubs for every q2c service over one channel, with tenant/principal metadata attached."""

    target: str
    tenant_id: str = "default"
    principal: str = "demo"
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    deadline: float = DEFAULT_DEADLINE_SECONDS

    def __post_init__(self) -> None:
        options = [("grpc.service_config", service_config()), ("grpc.enable_retries", 1)]
        self.channel = grpc.insecure_channel(self.target, options=options)
        self.customers = customer_pb2_grpc.CustomerServiceStub(self.channel)
        self.rate_cards = rate_card_pb2_grpc.RateCardServiceStub(self.channel)
        self.engagements = engagement_pb2_grpc.EngagementServiceStub(self.channel)
        self.exceptions = exception_pb2_grpc.ExceptionServiceStub(self.channel)
        self.audit = audit_pb2_grpc.AuditServiceStub(self.channel)
        self.billing = billing_pb2_grpc.BillingServiceStub(self.channel)

    @property
    def metadata(self) -> list[tuple[str, str]]:
        """Call metadata: tenant, principal, correlation id."""
        return [
            ("x-tenant-id", self.tenant_id),
            ("x-principal", self.principal),
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
