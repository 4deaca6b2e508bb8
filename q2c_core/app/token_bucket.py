"""The one token bucket: the arithmetic behind rate limits, the security log and the rejection throttle."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """`per_second` tokens a second, at most `burst` held. Not locked: its owner serialises use."""

    per_second: float
    burst: float
    tokens: float
    updated: float

    @classmethod
    def full(cls, per_second: float, burst: float, now: float) -> TokenBucket:
        """A bucket holding its whole burst at `now`."""
        return cls(per_second, burst, burst, now)

    def refill(self, now: float) -> None:
        """Add what accrued since the last refill, up to the burst."""
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.burst, self.tokens + elapsed * self.per_second)
        self.updated = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one now (after refilling); False when there is none."""
        self.refill(now)
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def wait_seconds(self) -> float:
        """How long until one token is there (0 when one is there now)."""
        return max(0.0, (1.0 - self.tokens) / self.per_second)
