"""DeliveryConfig: where the downstream systems are and how hard to try (picklable for Ray)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from q2c_core.app.delivery.model import RetryPolicy


class DeliveryConfig(BaseModel):
    """The delivery worker's settings (``q2c serve --erp-url ... --psa-url ...``)."""

    model_config = ConfigDict(frozen=True)

    erp_url: str | None = None
    psa_url: str | None = None
    max_attempts: int = Field(10, ge=1)
    base_seconds: float = Field(1.0, ge=0)
    cap_seconds: float = Field(300.0, ge=0)
    erp_concurrency: int = Field(8, ge=1)
    psa_concurrency: int = Field(4, ge=1)
    timeout_seconds: float = Field(10.0, gt=0)
    poll_seconds: float = Field(0.25, gt=0)
    plan_batch: int = Field(1000, ge=1)

    @property
    def enabled(self) -> bool:
        """Whether there is anything to deliver to."""
        return bool(self.erp_url or self.psa_url)

    @property
    def policy(self) -> RetryPolicy:
        """The retry policy of every item."""
        return RetryPolicy(self.max_attempts, self.base_seconds, max(self.cap_seconds, self.base_seconds))
