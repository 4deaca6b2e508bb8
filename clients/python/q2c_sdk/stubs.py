"""The generated stubs of every q2c.v1 service over one channel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from q2c.v1 import (
    audit_pb2_grpc,
    billing_pb2_grpc,
    customer_pb2_grpc,
    delivery_pb2_grpc,
    engagement_pb2_grpc,
    event_pb2_grpc,
    exception_pb2_grpc,
    rate_card_pb2_grpc,
    reconciliation_pb2_grpc,
    reporting_pb2_grpc,
)
from q2c_sdk.transport import Transport


@dataclass(frozen=True)
class Stubs:
    """One generated stub per q2c.v1 service (the generated code is untyped, hence Any)."""

    customers: Any
    rate_cards: Any
    engagements: Any
    exceptions: Any
    audit: Any
    billing: Any
    events: Any
    deliveries: Any
    reconciliation: Any
    reporting: Any

    @classmethod
    def on(cls, channel: grpc.Channel) -> Stubs:
        """Stubs over one channel."""
        return cls(*(factory(channel) for factory in _FACTORIES))


_FACTORIES: tuple[Any, ...] = (
    customer_pb2_grpc.CustomerServiceStub,
    rate_card_pb2_grpc.RateCardServiceStub,
    engagement_pb2_grpc.EngagementServiceStub,
    exception_pb2_grpc.ExceptionServiceStub,
    audit_pb2_grpc.AuditServiceStub,
    billing_pb2_grpc.BillingServiceStub,
    event_pb2_grpc.EventServiceStub,
    delivery_pb2_grpc.DeliveryServiceStub,
    reconciliation_pb2_grpc.ReconciliationServiceStub,
    reporting_pb2_grpc.ReportingServiceStub,
)
"""The generated stub classes, in the field order of `Stubs` (untyped generated code)."""


class Bound:
    """What every service mixin needs: the stubs and the call engine (set by the client)."""

    _stubs: Stubs
    _transport: Transport
