"""What `decide` may read besides the state: the clock, the caller and reference data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from q2c_core.domain.reference import Customer, RateCard


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """The clock, the caller, the engagement id, the reference data and the tenant's policies."""

    engagement_id: str
    principal: str
    now: datetime
    customer: Customer | None = None
    rate_cards: Mapping[str, list[RateCard]] = field(default_factory=dict)
    allow_self_approval: bool = False  # the tenant exempts itself from separation of duties
