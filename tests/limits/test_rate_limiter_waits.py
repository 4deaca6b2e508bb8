"""When both of a call's buckets are dry, the refusal names the one with the longer wait."""

from __future__ import annotations

import pytest

from q2c_core.edge.limits import Rate, RateLimiter, RateLimits

UNLIMITED_RATE = Rate(0.0, 0.0)


class FakeClock:
    """A clock that never moves: buckets refill only when a test says so."""

    def __call__(self) -> float:
        return 1000.0


@pytest.mark.parametrize(
    ("tenant_rate", "principal_rate", "scope", "wait"),
    [(1.0, 4.0, "tenant", 1.0), (4.0, 1.0, "principal", 1.0), (2.0, 2.0, "tenant", 0.5)],
    ids=["tenant-slower", "principal-slower", "equal-waits"],
)
def test_the_longest_wait_of_two_dry_buckets_is_the_refusal(
    tenant_rate: float, principal_rate: float, scope: str, wait: float
) -> None:
    limits = RateLimits(
        tenant_mutations=Rate(tenant_rate, 1.0),
        tenant_reads=UNLIMITED_RATE,
        principal_mutations=Rate(principal_rate, 1.0),
        principal_reads=UNLIMITED_RATE,
    )
    limiter = RateLimiter(limits, clock=FakeClock())
    assert limiter.admit("t", "p", "mutation") is None  # both buckets now empty
    refused = limiter.admit("t", "p", "mutation")
    assert refused is not None
    assert (refused.scope, refused.kind) == (scope, "mutation")
    assert refused.retry_after == pytest.approx(wait)


def test_a_kind_with_no_limited_budget_keeps_no_bucket() -> None:
    limits = RateLimits(Rate(1.0, 1.0), UNLIMITED_RATE, UNLIMITED_RATE, UNLIMITED_RATE)
    limiter = RateLimiter(limits, clock=FakeClock())
    for _ in range(10):
        assert limiter.admit("t", "p", "read") is None
    assert len(limiter) == 0
    assert limiter.admit("t", "p", "mutation") is None
    assert len(limiter) == 1
