"""The SDK's retry policy: which failures are retried, how often, and how long to wait."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import grpc

NEVER_RETRIED = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
"""Refusals of the caller's credentials: retrying cannot help."""


@dataclass(frozen=True)
class RetryPolicy:
    """Retry UNAVAILABLE with exponential backoff and full jitter, within the call's deadline.

    Mirrors `protos/q2c/v1/service_config.json` (4 attempts, 0.1 s doubling to 2 s). Reads are
    always retry-safe; a mutation is retried only when it carries a request_id (API rule 12),
    and every attempt sends the same one, so the server applies it at most once.
    """

    max_attempts: int = 4
    """Attempts in all, the first included; 1 disables retries."""
    initial_backoff: float = 0.1
    """Upper bound, in seconds, of the wait before the first retry."""
    max_backoff: float = 2.0
    """Cap on the upper bound of any wait, in seconds."""
    multiplier: float = 2.0
    """Growth of the upper bound per retry."""
    retryable_codes: frozenset[grpc.StatusCode] = field(
        default_factory=lambda: frozenset({grpc.StatusCode.UNAVAILABLE})
    )
    """Status codes worth another attempt. Only UNAVAILABLE is safe for q2c mutations."""
    honour_retry_info: bool = True
    """Retry RESOURCE_EXHAUSTED that carries a RetryInfo delay (a server rate limit refused the
    call before it ran, so it had no effect) once that delay has passed, within the deadline."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("backoffs must be >= 0 and multiplier >= 1")

    def retries(self, code: grpc.StatusCode, attempt: int) -> bool:
        """Whether a failure with `code` on attempt number `attempt` (from 1) is retried.

        UNAUTHENTICATED and PERMISSION_DENIED never are, whatever `retryable_codes` says: the
        same credentials get the same answer, and every refusal lands in the security log.
        """
        return code in self.retryable_codes and code not in NEVER_RETRIED and attempt < self.max_attempts

    def waits_out(self, code: grpc.StatusCode, retry_delay: float | None, attempt: int) -> bool:
        """Whether a throttled call (RESOURCE_EXHAUSTED naming a retry delay) is tried again.

        A RESOURCE_EXHAUSTED without a delay (an over-size message, too many open streams) is not:
        the same call would meet the same limit.
        """
        throttled = code == grpc.StatusCode.RESOURCE_EXHAUSTED and retry_delay is not None
        return self.honour_retry_info and throttled and attempt < self.max_attempts

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt `attempt` (from 1): uniform in [0, bound]."""
        bound = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return (rng or _RNG).uniform(0.0, bound)


NO_RETRIES = RetryPolicy(max_attempts=1)
"""A policy that never retries."""

_RNG = random.Random()
