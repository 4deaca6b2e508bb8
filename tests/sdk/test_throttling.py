"""The SDK waits out a server rate limit (RESOURCE_EXHAUSTED with RetryInfo) and tries again."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2

from q2c.v1 import customer_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_sdk import Q2cClient, ResourceExhaustedError, RetryPolicy
from tests.sdk.fake_server import FakeQ2c, bare, rich_failure

WAIT = 10.0
ENGAGEMENTS = "EngagementService"


def throttled(milliseconds: int) -> tuple[tuple[tuple[str, bytes], ...], grpc.StatusCode, str]:
    delay = duration_pb2.Duration(seconds=milliseconds // 1000, nanos=(milliseconds % 1000) * 1_000_000)
    return rich_failure(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "RATE_LIMITED",
        "tenant mutation rate limit exceeded",
        {"scope": "tenant", "kind": "mutation", "retry_after_ms": str(milliseconds)},
        error_details_pb2.RetryInfo(retry_delay=delay),
    )


def recording_sleeps(client: Q2cClient) -> list[float]:
    slept: list[float] = []
    client._transport._sleep = slept.append
    return slept


def _submit() -> pb.SubmitTimeEntriesRequest:
    return pb.SubmitTimeEntriesRequest(
        engagement_id="e-1", entries=[pb.TimeEntryInput(entry_id="T1", billing_line_id="TM-1", hours="8")]
    )


def test_a_throttled_mutation_is_retried_after_the_servers_delay_with_the_same_request_id(
    fake: FakeQ2c,
) -> None:
    client = fake.client()
    slept = recording_sleeps(client)
    result = fake.run(lambda: client.submit_time_entries(_submit()))
    first = fake.take(ENGAGEMENTS, "SubmitTimeEntries")
    first.fail(throttled(250))
    second = fake.take(ENGAGEMENTS, "SubmitTimeEntries")
    second.answer(pb.Engagement(engagement_id="e-1", version=2))

    assert result.result(WAIT).version == 2
    assert second.request.request_id == first.request.request_id != ""
    [delay] = slept
    assert 0.25 <= delay <= 0.25 + 0.005  # the server's delay plus at most the policy's jitter


def test_a_throttled_read_is_retried(fake: FakeQ2c) -> None:
    client = fake.client()
    slept = recording_sleeps(client)
    result = fake.run(lambda: client.get_customer(customer_pb2.GetCustomerRequest(customer_id="c-1")))
    fake.take("CustomerService", "GetCustomer").fail(throttled(40))
    fake.take("CustomerService", "GetCustomer").answer(customer_pb2.Customer(customer_id="c-1"))
    assert result.result(WAIT).customer_id == "c-1"
    assert slept and slept[0] >= 0.04


def test_the_error_carries_the_delay_when_retries_run_out(fake: FakeQ2c) -> None:
    client = fake.client(retries=RetryPolicy(max_attempts=2, initial_backoff=0.001))
    recording_sleeps(client)
    result = fake.run(lambda: client.submit_time_entries(_submit()))
    for _ in range(2):
        fake.take(ENGAGEMENTS, "SubmitTimeEntries").fail(throttled(1500))
    with pytest.raises(ResourceExhaustedError) as raised:
        result.result(WAIT)
    assert raised.value.reason == "RATE_LIMITED"
    assert raised.value.retry_delay == pytest.approx(1.5)


def test_a_delay_longer_than_the_deadline_is_not_waited_for(fake: FakeQ2c) -> None:
    client = fake.client(deadline=1.0)
    slept = recording_sleeps(client)
    result = fake.run(lambda: client.submit_time_entries(_submit()))
    fake.take(ENGAGEMENTS, "SubmitTimeEntries").fail(throttled(60_000))
    with pytest.raises(ResourceExhaustedError):
        result.result(WAIT)
    assert slept == []


@pytest.mark.parametrize(
    "failure",
    [
        rich_failure(grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY_STREAMS", "close one", {"limit": "32"}),
        bare(grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max"),
    ],
    ids=["too-many-streams", "message-too-large"],
)
def test_resource_exhausted_without_a_delay_is_not_retried(fake: FakeQ2c, failure: Any) -> None:
    client = fake.client()
    result = fake.run(lambda: client.submit_time_entries(_submit()))
    fake.take(ENGAGEMENTS, "SubmitTimeEntries").fail(failure)
    with pytest.raises(ResourceExhaustedError) as raised:
        result.result(WAIT)
    assert raised.value.retry_delay is None
    assert len(fake.recording.timeouts) == 1


def test_mutations_without_a_request_id_are_not_retried_even_when_throttled(fake: FakeQ2c) -> None:
    client = fake.client()
    result = fake.run(lambda: client.submit_time_entries(_submit(), request_id=None))
    fake.take(ENGAGEMENTS, "SubmitTimeEntries").fail(throttled(10))
    with pytest.raises(ResourceExhaustedError):
        result.result(WAIT)
    assert len(fake.recording.timeouts) == 1


def test_honouring_retry_info_can_be_turned_off(fake: FakeQ2c) -> None:
    client = fake.client(retries=RetryPolicy(honour_retry_info=False))
    result = fake.run(lambda: client.submit_time_entries(_submit()))
    fake.take(ENGAGEMENTS, "SubmitTimeEntries").fail(throttled(10))
    with pytest.raises(ResourceExhaustedError):
        result.result(WAIT)
    assert len(fake.recording.timeouts) == 1
