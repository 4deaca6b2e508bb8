"""The six q2c.v1 servicers (one module per resource family), gathered for wiring."""

from __future__ import annotations

from q2c_core.gateway.billing_servicer import BillingServicer
from q2c_core.gateway.engagement_servicer import EngagementServicer
from q2c_core.gateway.record_servicers import AuditServicer, ExceptionServicer
from q2c_core.gateway.reference_servicers import CustomerServicer, RateCardServicer

__all__ = [
    "AuditServicer",
    "BillingServicer",
    "CustomerServicer",
    "EngagementServicer",
    "ExceptionServicer",
    "RateCardServicer",
]
