"""Token buckets with a fake clock: budgets, refill, scopes, kinds, eviction, stream slots."""

from __future__ import annotations

import threading

import pytest

from q2c_core.domain.errors import ErrorKind
from q2c_core.edge.limits import UNLIMITED, Rate, RateLimiter, RateLimits, StreamSlots

UNLIMITED_RATE = Rate(0.0, 0.0)


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limiter(clock: FakeClock, **rates: Rate) -> RateLimiter:
    fields = {
        "tenant_mutations": UNLIMITED_RATE,
        "tenant_reads": UNLIMITED_RATE,
        "principal_mutations": UNLIMITED_RATE,
        "principal_reads": UNLIMITED_RATE,
    }
    fields.update(rates)
    return RateLimiter(RateLimits(**fields), clock=clock)


def admitted(rl: RateLimiter, n: int, tenant: str = "t", principal: str = "p", kind: str = "mutation") -> int:
    return sum(rl.admit(tenant, principal, kind) is None for _ in range(n))  # type: ignore[arg-type]


def test_a_burst_is_admitted_and_the_next_call_is_refused_with_the_wait() -> None:
    clock = FakeClock()
    rl = limiter(clock, tenant_mutations=Rate(10.0, 5.0))
    assert admitted(rl, 5) == 5
    refused = rl.admit("t", "p", "mutation")
    assert refused is not None
    assert (refused.scope, refused.kind) == ("tenant", "mutation")
    assert refused.retry_after == pytest.approx(0.1)


def test_tokens_come_back_at_the_sustained_rate_up_to_the_burst() -> None:
    clock = FakeClock()
    rl = limiter(clock, tenant_mutations=Rate(10.0, 5.0))
    admitted(rl, 5)
    clock.advance(0.25)
    assert admitted(rl, 5) == 2
    clock.advance(60.0)
    assert admitted(rl, 10) == 5


def test_over_a_long_run_the_admitted_rate_is_the_budget() -> None:
    clock = FakeClock()
    rl = limiter(clock, tenant_mutations=Rate(100.0, 10.0))
    total = 0
    for _ in range(1000):  # 10 s of 100 attempts per 10 ms: 10,000 attempts
        total += admitted(rl, 100)
        clock.advance(0.01)
    assert 1000 <= total <= 1000 + 10


def test_reads_and_mutations_have_separate_budgets() -> None:
    clock = FakeClock()
    rl = limiter(clock, tenant_mutations=Rate(1.0, 2.0), tenant_reads=Rate(1.0, 3.0))
    assert admitted(rl, 5, kind="mutation") == 2
    assert admitted(rl, 5, kind="read") == 3


def test_tenants_do_not_share_a_bucket() -> None:
    clock = FakeClock()
    rl = limiter(clock, tenant_mutations=Rate(1.0, 2.0))
    assert admitted(rl, 5, tenant="noisy") == 2
    assert admitted(rl, 5, tenant="quiet") == 2


def test_principals_have_their_own_bucket_and_share_the_tenants() -> None:
    clock = FakeClock()
    rl = limiter(clock, tenant_mutations=Rate(1.0, 5.0), principal_mutations=Rate(1.0, 3.0))
    assert admitted(rl, 10, principal="alice") == 3
    refused = rl.admit("t", "alice", "mutation")
    assert refused is not None and refused.scope == "principal"
    assert admitted(rl, 10, principal="bob") == 2  # the tenant's 5 are spent
    refused = rl.admit("t", "carol", "mutation")
    assert refused is not None and refused.scope == "tenant"


def test_a_refused_call_takes_no_token_from_the_other_bucket() -> None:
    clock = FakeClock()
    rl = limiter(clock, tenant_mutations=Rate(1.0, 5.0), principal_mutations=Rate(1.0, 2.0))
    assert admitted(rl, 20, principal="alice") == 2  # 18 refused by alice's own bucket
    assert admitted(rl, 5, principal="bob") == 2  # the tenant still has 3
    assert admitted(rl, 5, principal="carol") == 1


def test_unlimited_rates_never_refuse_and_keep_no_buckets() -> None:
    rl = RateLimiter(UNLIMITED, clock=FakeClock())
    assert admitted(rl, 10_000) == 10_000
    assert len(rl) == 0


def test_the_default_limits_never_refuse_a_test_suites_worth_of_calls() -> None:
    rl = RateLimiter(clock=FakeClock())
    assert admitted(rl, 1000) == 1000
    assert admitted(rl, 1000, kind="read") == 1000


def test_idle_buckets_are_evicted_so_memory_stays_bounded() -> None:
    clock = FakeClock()
    rl = limiter(clock, tenant_mutations=Rate(10.0, 5.0), principal_mutations=Rate(10.0, 5.0))
    for n in range(100):
        rl.admit(f"tenant-{n}", "p", "mutation")
    assert len(rl) == 200
    clock.advance(1.0)  # every bucket refilled: as good as none
    rl.admit("fresh", "p", "mutation")
    assert len(rl) == 2


def test_buckets_beyond_the_bound_are_dropped_oldest_first() -> None:
    clock = FakeClock()
    rl = RateLimiter(
        RateLimits(Rate(1.0, 1.0), UNLIMITED_RATE, UNLIMITED_RATE, UNLIMITED_RATE),
        clock=clock,
        max_buckets=10,
    )
    for n in range(50):
        rl.admit(f"tenant-{n}", "p", "mutation")
    assert len(rl) == 10
    assert rl.admit("tenant-49", "p", "mutation") is not None  # the newest is still there, empty


def test_concurrent_callers_never_get_more_than_the_burst() -> None:
    rl = limiter(FakeClock(), tenant_mutations=Rate(1.0, 500.0))
    counts: list[int] = []
    workers = [threading.Thread(target=lambda: counts.append(admitted(rl, 200))) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(counts) == 500


def test_a_throttled_call_becomes_rate_limited_with_its_wait_in_milliseconds() -> None:
    clock = FakeClock()
    rl = limiter(clock, principal_reads=Rate(4.0, 1.0))
    rl.admit("t", "p", "read")
    refused = rl.admit("t", "p", "read")
    assert refused is not None
    error = refused.error()
    assert error.kind is ErrorKind.RESOURCE_EXHAUSTED and error.reason == "RATE_LIMITED"
    assert error.metadata == {"scope": "principal", "kind": "read", "retry_after_ms": "250"}


@pytest.mark.parametrize("rate", [(-1.0, 1.0), (1.0, 0.5)])
def test_nonsense_rates_are_refused(rate: tuple[float, float]) -> None:
    with pytest.raises(ValueError):
        Rate(*rate)


def test_stream_slots_cap_each_tenant_and_come_back_on_release() -> None:
    slots = StreamSlots(2)
    slots.acquire("t")
    slots.acquire("t")
    with pytest.raises(Exception) as refused:
        slots.acquire("t")
    assert getattr(refused.value, "reason", "") == "TOO_MANY_STREAMS"
    slots.acquire("other")
    slots.release("t")
    slots.acquire("t")
    assert slots.open("t") == 2
    for tenant in ("t", "t", "other"):
        slots.release(tenant)
    assert slots.open("t") == 0 and not slots._open


def test_zero_stream_slots_means_unlimited() -> None:
    slots = StreamSlots(0)
    for _ in range(1000):
        slots.acquire("t")
    assert slots.open("t") == 1000
