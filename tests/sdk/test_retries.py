"""Retries, request ids, deadlines and correlation ids, against a scripted grpc_testing server."""

from __future__ import annotations

import queue

import grpc
import pytest

from q2c.v1 import billing_pb2, customer_pb2, event_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_sdk import NO_RETRIES, InvalidStateError, RetryPolicy, StoreUnavailableError, UnavailableError
from tests.sdk.fake_server import FakeQ2c, bare, rich_failure

ENGAGEMENTS = "EngagementService"
WAIT = 10.0


def _submit() -> pb.SubmitTimeEntriesRequest:
    return pb.SubmitTimeEntriesRequest(
        engagement_id="e-1", entries=[pb.TimeEntryInput(entry_id="T1", billing_line_id="TM-1", hours="8")]
    )


def test_mutation_retried_after_unavailable_sends_the_same_request_id(fake: FakeQ2c) -> None:
    client = fake.client()
    result = fake.run(lambda: client.submit_time_entries(_submit()))
    first = fake.take(ENGAGEMENTS, "SubmitTimeEntries")
    first.fail(rich_failure(grpc.StatusCode.UNAVAILABLE, "SHARD_UNAVAILABLE", "shard restarting"))
    second = fake.take(ENGAGEMENTS, "SubmitTimeEntries")
    second.answer(pb.Engagement(engagement_id="e-1", version=7))

    assert result.result(WAIT).version == 7
    assert first.request.request_id and len(first.request.request_id) == 32
    assert second.request.request_id == first.request.request_id
    assert second.request.entries == first.request.entries
    assert first.metadata["x-correlation-id"] == second.metadata["x-correlation-id"]


def test_request_id_is_generated_without_touching_the_callers_message(fake: FakeQ2c) -> None:
    client = fake.client()
    request = _submit()
    result = fake.run(lambda: client.submit_time_entries(request))
    fake.take(ENGAGEMENTS, "SubmitTimeEntries").answer(pb.Engagement())
    result.result(WAIT)
    assert request.request_id == ""


def test_each_mutation_gets_a_fresh_request_id(fake: FakeQ2c) -> None:
    client = fake.client()
    seen = []
    for _ in range(2):
        result = fake.run(lambda: client.submit_time_entries(_submit()))
        taken = fake.take(ENGAGEMENTS, "SubmitTimeEntries")
        taken.answer(pb.Engagement())
        result.result(WAIT)
        seen.append(taken.request.request_id)
    assert seen[0] != seen[1]


def test_callers_request_id_is_kept_and_reused(fake: FakeQ2c) -> None:
    client = fake.client()
    result = fake.run(lambda: client.submit_time_entries(_submit(), request_id="mine-1"))
    fake.take(ENGAGEMENTS, "SubmitTimeEntries").fail(bare(grpc.StatusCode.UNAVAILABLE))
    retried = fake.take(ENGAGEMENTS, "SubmitTimeEntries")
    retried.answer(pb.Engagement())
    result.result(WAIT)
    assert retried.request.request_id == "mine-1"


def test_mutation_without_request_id_is_not_retried(fake: FakeQ2c) -> None:
    client = fake.client()
    result = fake.run(lambda: client.submit_time_entries(_submit(), request_id=None))
    taken = fake.take(ENGAGEMENTS, "SubmitTimeEntries")
    taken.fail(rich_failure(grpc.StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE"))

    # A retry would block the worker on a second call nobody answers: the call is over at once.
    with pytest.raises(StoreUnavailableError) as raised:
        result.result(WAIT)
    assert taken.request.request_id == ""
    assert raised.value.request_id == ""
    assert len(fake.recording.timeouts) == 1


def test_reads_are_retried_on_unavailable(fake: FakeQ2c) -> None:
    client = fake.client()
    result = fake.run(lambda: client.get_customer(customer_pb2.GetCustomerRequest(customer_id="c-1")))
    fake.take("CustomerService", "GetCustomer").fail(bare(grpc.StatusCode.UNAVAILABLE))
    fake.take("CustomerService", "GetCustomer").answer(customer_pb2.Customer(customer_id="c-1"))
    assert result.result(WAIT).customer_id == "c-1"


def test_retries_stop_after_max_attempts(fake: FakeQ2c) -> None:
    client = fake.client(retries=RetryPolicy(max_attempts=3, initial_backoff=0.001))
    result = fake.run(lambda: client.submit_time_entries(_submit()))
    ids = set()
    for _ in range(3):
        taken = fake.take(ENGAGEMENTS, "SubmitTimeEntries")
        ids.add(taken.request.request_id)
        taken.fail(bare(grpc.StatusCode.UNAVAILABLE))
    with pytest.raises(UnavailableError):
        result.result(WAIT)
    assert len(ids) == 1


def test_domain_errors_are_not_retried(fake: FakeQ2c) -> None:
    client = fake.client()
    result = fake.run(lambda: client.submit_time_entries(_submit()))
    fake.take(ENGAGEMENTS, "SubmitTimeEntries").fail(
        rich_failure(grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE", "not active", {"state": "DRAFT"})
    )
    with pytest.raises(InvalidStateError) as raised:
        result.result(WAIT)
    assert raised.value.metadata["state"] == "DRAFT"
    assert len(fake.recording.timeouts) == 1


def test_every_call_has_a_deadline_and_retries_share_it(fake: FakeQ2c) -> None:
    client = fake.client(deadline=12.0)
    result = fake.run(lambda: client.submit_time_entries(_submit()))
    fake.take(ENGAGEMENTS, "SubmitTimeEntries").fail(bare(grpc.StatusCode.UNAVAILABLE))
    fake.take(ENGAGEMENTS, "SubmitTimeEntries").answer(pb.Engagement())
    result.result(WAIT)
    read = fake.run(lambda: client.get_engagement(pb.GetEngagementRequest(engagement_id="e-1"), timeout=3.0))
    fake.take(ENGAGEMENTS, "GetEngagement").answer(pb.Engagement())
    read.result(WAIT)

    first, retry, custom = fake.recording.timeouts
    assert first is not None and 11.0 < first <= 12.0
    assert retry is not None and retry <= first
    assert custom is not None and 2.0 < custom <= 3.0


def test_tenant_principal_and_correlation_id_are_sent(fake: FakeQ2c) -> None:
    client = fake.client(correlation_id="flow-42", metadata=(("x-extra", "1"),))
    result = fake.run(lambda: client.get_customer(customer_pb2.GetCustomerRequest(customer_id="c")))
    taken = fake.take("CustomerService", "GetCustomer")
    taken.answer(customer_pb2.Customer())
    result.result(WAIT)
    assert taken.metadata["x-tenant-id"] == "acme"
    assert taken.metadata["x-principal"] == "alice"
    assert taken.metadata["x-correlation-id"] == "flow-42"
    assert taken.metadata["x-extra"] == "1"

    override = fake.run(
        lambda: client.get_customer(customer_pb2.GetCustomerRequest(customer_id="c"), correlation_id="call-7")
    )
    per_call = fake.take("CustomerService", "GetCustomer")
    per_call.answer(customer_pb2.Customer())
    override.result(WAIT)
    assert per_call.metadata["x-correlation-id"] == "call-7"


def test_the_servers_correlation_id_is_on_the_exception(fake: FakeQ2c) -> None:
    client = fake.client(retries=NO_RETRIES)
    result = fake.run(lambda: client.get_customer(customer_pb2.GetCustomerRequest(customer_id="c")))
    fake.take("CustomerService", "GetCustomer").fail(
        rich_failure(grpc.StatusCode.NOT_FOUND, "CUSTOMER_NOT_FOUND"),
        initial=(("x-correlation-id", "srv-9"),),
    )
    with pytest.raises(Exception) as raised:
        result.result(WAIT)
    assert getattr(raised.value, "correlation_id", None) == "srv-9"


def test_watch_bill_run_reopens_the_stream_after_unavailable(fake: FakeQ2c) -> None:
    client = fake.client()
    seen: queue.Queue[billing_pb2.BillRun] = queue.Queue()

    def follow() -> None:
        for run in client.watch_bill_run(billing_pb2.WatchBillRunRequest(bill_run_id="b-1")):
            seen.put(run)

    result = fake.run(follow)
    first = fake.take_stream("BillingService", "WatchBillRun")
    first.rpc.send_response(billing_pb2.BillRun(bill_run_id="b-1", state=billing_pb2.BILL_RUN_STATE_RUNNING))
    assert seen.get(timeout=WAIT).state == billing_pb2.BILL_RUN_STATE_RUNNING
    first.rpc.terminate((), grpc.StatusCode.UNAVAILABLE, "gone")
    second = fake.take_stream("BillingService", "WatchBillRun")
    second.rpc.send_response(
        billing_pb2.BillRun(bill_run_id="b-1", state=billing_pb2.BILL_RUN_STATE_SUCCEEDED)
    )
    assert seen.get(timeout=WAIT).state == billing_pb2.BILL_RUN_STATE_SUCCEEDED
    second.rpc.terminate((), grpc.StatusCode.OK, "")

    result.result(WAIT)
    assert seen.empty()
    assert second.request.bill_run_id == "b-1"
    assert len(fake.recording.timeouts) == 2 and all(t is not None for t in fake.recording.timeouts)


def test_subscribe_events_resumes_after_the_last_event_it_delivered(fake: FakeQ2c) -> None:
    client = fake.client()
    seen: queue.Queue[event_pb2.Event] = queue.Queue()

    def follow() -> None:
        for event in client.subscribe_events(
            event_pb2.SubscribeEventsRequest(after_position=10, follow=True)
        ):
            seen.put(event)

    result = fake.run(follow)
    first = fake.take_stream("EventService", "SubscribeEvents")
    assert first.request.after_position == 10
    first.rpc.send_response(event_pb2.Event(position=11, event_type="EngagementCreated"))
    first.rpc.send_response(event_pb2.Event(position=14, event_type="EngagementQualified"))
    assert [seen.get(timeout=WAIT).position for _ in range(2)] == [11, 14]
    first.rpc.terminate((), grpc.StatusCode.UNAVAILABLE, "gone")
    second = fake.take_stream("EventService", "SubscribeEvents")
    assert second.request.after_position == 14  # neither skips nor repeats what was delivered
    assert second.request.follow
    second.rpc.send_response(event_pb2.Event(position=15, event_type="EngagementWon"))
    assert seen.get(timeout=WAIT).position == 15
    second.rpc.terminate((), grpc.StatusCode.OK, "")
    result.result(WAIT)
