"""The six q2c.v1 servicers (one module per resource family), gathered for wiring."""

from __future__ import annotations

from q2c_core.edge.billing_servicer import BillingServicer
from q2c_core.edge.engagement_servicer import EngagementServicer
from q2c_core.edge.record_servicers import AuditServicer, ExceptionServicer
from q2c_core.edge.reference_servicers import CustomerServicer, RateCardServicer

__all__ = [
    "AuditServicer",
    "BillingServicer",
    "CustomerServicer",
    "EngagementServicer",
    "ExceptionServicer",
    "RateCardServicer",
]
