"""The call engine with a fake clock: backoff bounds and the deadline shared by all attempts."""

from __future__ import annotations

import random
from typing import Any, Unpack

import grpc
import pytest

from q2c.v1 import customer_pb2
from q2c_sdk import DeadlineExceededError, RetryPolicy, UnavailableError
from q2c_sdk.transport import CallOptions, Transport


class Unavailable(grpc.RpcError, grpc.Call):  # type: ignore[misc]
    """A bare UNAVAILABLE failure, as the channel raises it."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection refused"

    def initial_metadata(self) -> tuple[()]:
        return ()

    def trailing_metadata(self) -> tuple[()]:
        return ()

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> None:
        return None

    def cancel(self) -> bool:
        return False

    def add_callback(self, callback: Any) -> bool:
        return False


class Clock:
    """Time that moves only when the transport sleeps (or a call takes `call_cost`)."""

    def __init__(self, call_cost: float = 0.0) -> None:
        self.now = 100.0
        self.call_cost = call_cost
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class AlwaysUnavailable:
    """A unary multi-callable that always fails, recording the timeouts it was given."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.timeouts: list[float] = []

    def with_call(self, request: Any, timeout: float, metadata: Any) -> Any:
        self.timeouts.append(timeout)
        self.clock.now += self.clock.call_cost
        raise Unavailable()


def _transport(clock: Clock, policy: RetryPolicy, deadline: float = 10.0) -> Transport:
    return Transport(
        tenant_id="t",
        principal="p",
        deadline=deadline,
        retries=policy,
        correlation_id=None,
        metadata=(),
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )


def _read(transport: Transport, method: AlwaysUnavailable, **options: Unpack[CallOptions]) -> None:
    transport.read(method, customer_pb2.GetCustomerRequest(customer_id="c"), customer_pb2.Customer, options)


def test_every_attempt_gets_only_the_time_left() -> None:
    clock = Clock(call_cost=1.0)
    method = AlwaysUnavailable(clock)
    policy = RetryPolicy(max_attempts=3, initial_backoff=0.5, max_backoff=0.5, multiplier=1.0)
    with pytest.raises(UnavailableError):
        _read(_transport(clock, policy), method)
    assert len(method.timeouts) == 3
    assert method.timeouts[0] == 10.0
    assert method.timeouts[1] == pytest.approx(10.0 - 1.0 - clock.sleeps[0])
    assert method.timeouts[2] < method.timeouts[1]


def test_no_retry_when_the_backoff_would_outlive_the_deadline() -> None:
    clock = Clock(call_cost=1.9)
    method = AlwaysUnavailable(clock)
    policy = RetryPolicy(max_attempts=10, initial_backoff=5.0, max_backoff=5.0)
    with pytest.raises(UnavailableError):
        _read(_transport(clock, policy, deadline=2.0), method)
    # Whatever the jitter drew, one attempt at most plus retries that fit in the 0.1 s left.
    assert sum(clock.sleeps) < 0.1
    assert len(method.timeouts) == len(clock.sleeps) + 1


def test_a_spent_deadline_raises_deadline_exceeded_without_calling() -> None:
    clock = Clock()
    method = AlwaysUnavailable(clock)
    readings = iter([100.0, 111.0])  # the deadline is set at 100 + 10; the first attempt starts at 111
    transport = Transport(
        tenant_id="t",
        principal="p",
        deadline=10.0,
        retries=RetryPolicy(),
        correlation_id="c-1",
        metadata=(),
        clock=lambda: next(readings),
    )
    with pytest.raises(DeadlineExceededError) as raised:
        _read(transport, method)
    assert method.timeouts == []
    assert raised.value.correlation_id == "c-1"


def test_timeout_option_and_invalid_values() -> None:
    clock = Clock()
    method = AlwaysUnavailable(clock)
    with pytest.raises(UnavailableError):
        _read(_transport(clock, RetryPolicy(max_attempts=1)), method, timeout=2.5)
    assert method.timeouts == [2.5]
    with pytest.raises(ValueError):
        _read(_transport(clock, RetryPolicy()), method, timeout=0)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)


def test_backoff_is_jittered_below_an_exponential_cap() -> None:
    policy = RetryPolicy(initial_backoff=0.1, max_backoff=2.0, multiplier=2.0)
    rng = random.Random(7)
    for attempt, bound in [(1, 0.1), (2, 0.2), (3, 0.4), (5, 1.6), (6, 2.0), (12, 2.0)]:
        draws = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0.0 <= d <= bound for d in draws)
        assert max(draws) > bound * 0.8
    assert not policy.retries(grpc.StatusCode.UNAVAILABLE, 4)
    assert policy.retries(grpc.StatusCode.UNAVAILABLE, 3)
    assert not policy.retries(grpc.StatusCode.ABORTED, 1)
