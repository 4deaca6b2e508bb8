"""DeliveryService over the wire (LocalRuntime and Ray, SQLite and PostgreSQL): dead letters
planted with DeliveryStore are listed, shown, retried (idempotent, audited) and counted; every
bad input is INVALID_ARGUMENT with field violations, never INTERNAL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc
import pytest
from google.rpc import error_details_pb2

from q2c.v1 import audit_pb2, delivery_pb2_grpc
from q2c.v1 import delivery_pb2 as pb
from q2c_core.adapters.store import Store
from q2c_core.adapters.store.deliveries import DeliveryStore
from q2c_core.app.delivery.model import DeliveryItem, Destination, Operation, Outcome, PlannedDelivery
from q2c_core.edge.app import GatewayServer
from tests import credentials
from tests.service.client import Api, Bound, error_info, field_paths, rich_error, rid, unpack

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ERP = pb.DELIVERY_DESTINATION_ERP
PSA = pb.DELIVERY_DESTINATION_PSA


@pytest.fixture(scope="module")
def planter(server: GatewayServer, database_url: str) -> Iterator[DeliveryStore]:
    """DeliveryStore on the server's database (migrated by the server fixture)."""
    store = Store.open(database_url, migrate=False)
    yield DeliveryStore(store.engine)
    store.close()


@dataclass
class Tenant:
    """One tenant's DeliveryService stub and a way to plant items in it."""

    api: Api
    deliveries: Bound
    planter: DeliveryStore

    def plant(self, destination: Destination, operation: Operation, engagement: str) -> DeliveryItem:
        """One PENDING item of this tenant."""
        subject = uuid.uuid4().hex[:12]
        item = PlannedDelivery(
            self.api.tenant_id, destination, operation, f"q2c:t:{subject}", engagement, subject, None, 1
        )
        self.planter.enqueue(f"test-{subject}", 0, 1, [item], NOW)
        page = self.planter.list_items(self.api.tenant_id, engagement_id=engagement, page_size=1000)
        return next(i for i in page.items if i.key == item.key)

    def dead(
        self,
        destination: Destination = Destination.ERP,
        operation: Operation = Operation.POST_INVOICE,
        engagement: str = "e-1",
    ) -> DeliveryItem:
        """A dead letter: a retryable failure, then a MALFORMED reply that used up the attempts."""
        item = self.plant(destination, operation, engagement)
        self.planter.record([Outcome(item.delivery_id, False, "RETRYABLE", "503", http_status=503)], NOW)
        last = Outcome(
            item.delivery_id, False, "MALFORMED", "bad json", http_status=200, payload="{oops", dead=True
        )
        self.planter.record([last], NOW)
        return item


@pytest.fixture(scope="module")
def delivery_stub(channel: grpc.aio.Channel) -> delivery_pb2_grpc.DeliveryServiceStub:
    return delivery_pb2_grpc.DeliveryServiceStub(channel)


@pytest.fixture
def tenant(api: Api, planter: DeliveryStore, delivery_stub: delivery_pb2_grpc.DeliveryServiceStub) -> Tenant:
    return Tenant(api, Bound(delivery_stub, api.metadata), planter)


def retry_one(delivery_id: int, request_id: str = "") -> pb.RetryDeadLetterRequest:
    return pb.RetryDeadLetterRequest(request_id=request_id or rid(), delivery_id=delivery_id)


# -- reads ---------------------------------------------------------------------------------------


async def test_dead_letters_are_listed_with_filters_and_pages(tenant: Tenant) -> None:
    invoice = tenant.dead(engagement="e-1")
    project = tenant.dead(Destination.PSA, Operation.PROVISION_PROJECT, "e-2")
    tenant.plant(Destination.ERP, Operation.CREATE_JOB, "e-3")  # pending: not a dead letter

    everything = await tenant.deliveries.ListDeadLetters(pb.ListDeadLettersRequest())
    assert [d.delivery_id for d in everything.dead_letters] == [invoice.delivery_id, project.delivery_id]
    assert {d.status for d in everything.dead_letters} == {pb.DELIVERY_STATUS_DEAD}
    assert everything.dead_letters[0].attempt_history == []  # lists leave the history out

    psa = await tenant.deliveries.ListDeadLetters(pb.ListDeadLettersRequest(destination=PSA))
    assert [d.delivery_id for d in psa.dead_letters] == [project.delivery_id]
    by_operation = pb.ListDeadLettersRequest(
        operation=pb.DELIVERY_OPERATION_POST_INVOICE, engagement_id="e-1"
    )
    assert [d.delivery_id for d in (await tenant.deliveries.ListDeadLetters(by_operation)).dead_letters] == [
        invoice.delivery_id
    ]
    first = await tenant.deliveries.ListDeadLetters(pb.ListDeadLettersRequest(page_size=1))
    rest = await tenant.deliveries.ListDeadLetters(
        pb.ListDeadLettersRequest(page_size=1, page_token=first.next_page_token)
    )
    assert [d.delivery_id for d in [*first.dead_letters, *rest.dead_letters]] == [
        invoice.delivery_id,
        project.delivery_id,
    ]
    assert rest.next_page_token == ""


async def test_get_dead_letter_has_the_whole_attempt_history(tenant: Tenant) -> None:
    item = tenant.dead()
    letter = await tenant.deliveries.GetDeadLetter(pb.GetDeadLetterRequest(delivery_id=item.delivery_id))
    assert (letter.delivery_id, letter.destination, letter.operation, letter.status) == (
        item.delivery_id,
        ERP,
        pb.DELIVERY_OPERATION_POST_INVOICE,
        pb.DELIVERY_STATUS_DEAD,
    )
    assert (letter.failure_kind, letter.last_http_status, letter.last_payload) == (
        pb.DELIVERY_FAILURE_KIND_MALFORMED,
        200,
        "{oops",
    )
    assert letter.attempts == 2 and letter.etag and letter.dead_time.ToDatetime(tzinfo=UTC) == NOW
    assert not letter.HasField("next_attempt_time")
    history = [
        (a.attempt, a.delivered, a.failure_kind, a.http_status, a.payload) for a in letter.attempt_history
    ]
    assert history == [
        (1, False, pb.DELIVERY_FAILURE_KIND_RETRYABLE, 503, ""),
        (2, False, pb.DELIVERY_FAILURE_KIND_MALFORMED, 200, "{oops"),
    ]
    assert letter.attempt_history[1].message == "bad json"


async def test_list_deliveries_shows_every_status(tenant: Tenant) -> None:
    dead = tenant.dead()
    pending = tenant.plant(Destination.PSA, Operation.PROVISION_PROJECT, "e-9")
    every = await tenant.deliveries.ListDeliveries(pb.ListDeliveriesRequest())
    assert [d.delivery_id for d in every.deliveries] == [dead.delivery_id, pending.delivery_id]
    waiting = await tenant.deliveries.ListDeliveries(
        pb.ListDeliveriesRequest(status=pb.DELIVERY_STATUS_PENDING)
    )
    assert [(d.delivery_id, d.HasField("next_attempt_time")) for d in waiting.deliveries] == [
        (pending.delivery_id, True)
    ]


async def test_stats_count_the_tenants_items_per_destination(tenant: Tenant) -> None:
    tenant.dead()
    tenant.plant(Destination.PSA, Operation.PROVISION_PROJECT, "e-2")
    stats = await tenant.deliveries.GetDeliveryStats(pb.GetDeliveryStatsRequest())
    erp, psa = stats.destinations
    assert (erp.destination, erp.pending, erp.dead, erp.attempts) == (ERP, 0, 1, 2)
    assert (psa.destination, psa.pending, psa.due, psa.dead) == (PSA, 1, 1, 0)
    assert psa.oldest_pending_time.ToDatetime(tzinfo=UTC) == NOW and not erp.HasField("oldest_pending_time")
    assert stats.outbox_lag >= 0 and stats.HasField("read_time")


# -- retry ---------------------------------------------------------------------------------------


async def test_retry_one_moves_it_back_to_pending_and_is_audited(tenant: Tenant) -> None:
    item = tenant.dead()
    request = retry_one(item.delivery_id)
    request.reason = "ERP schema fixed"
    reply = await tenant.deliveries.RetryDeadLetter(request)
    assert list(reply.delivery_ids) == [item.delivery_id]
    letter = await tenant.deliveries.GetDeadLetter(pb.GetDeadLetterRequest(delivery_id=item.delivery_id))
    assert (letter.status, letter.attempts, len(letter.attempt_history)) == (pb.DELIVERY_STATUS_PENDING, 0, 2)

    records = await tenant.api.audit.ListAuditRecords(
        audit_pb2.ListAuditRecordsRequest(stream_id="deliveries")
    )
    [record] = records.audit_records
    assert (record.command_type, record.outcome, record.request_id, record.principal) == (
        "RetryDeadLetter",
        audit_pb2.AUDIT_OUTCOME_ACCEPTED,
        request.request_id,
        "alice",
    )
    assert record.comment == f"ERP schema fixed; retried {item.delivery_id}"


async def test_retry_all_matching_moves_only_the_matches(tenant: Tenant) -> None:
    erp_one, erp_two = tenant.dead(engagement="e-1"), tenant.dead(engagement="e-2")
    psa = tenant.dead(Destination.PSA, Operation.PROVISION_PROJECT, "e-1")
    request = pb.RetryDeadLetterRequest(request_id=rid(), all_matching=True, destination=ERP)
    reply = await tenant.deliveries.RetryDeadLetter(request)
    assert list(reply.delivery_ids) == [erp_one.delivery_id, erp_two.delivery_id]
    left = await tenant.deliveries.ListDeadLetters(pb.ListDeadLettersRequest())
    assert [d.delivery_id for d in left.dead_letters] == [psa.delivery_id]
    nothing = pb.RetryDeadLetterRequest(request_id=rid(), all_matching=True, engagement_id="e-none")
    assert list((await tenant.deliveries.RetryDeadLetter(nothing)).delivery_ids) == []


async def test_a_replayed_request_id_returns_the_same_reply(tenant: Tenant) -> None:
    item = tenant.dead()
    request = retry_one(item.delivery_id)
    first = await tenant.deliveries.RetryDeadLetter(request)
    tenant.planter.record([Outcome(item.delivery_id, False, "PERMANENT", "again", dead=True)], NOW)
    again = await tenant.deliveries.RetryDeadLetter(request)
    assert again == first
    letter = await tenant.deliveries.GetDeadLetter(pb.GetDeadLetterRequest(delivery_id=item.delivery_id))
    assert letter.status == pb.DELIVERY_STATUS_DEAD  # the replay moved nothing

    other = pb.RetryDeadLetterRequest(request_id=request.request_id, all_matching=True)
    code, status = await rich_error(tenant.deliveries.RetryDeadLetter(other))
    assert code == grpc.StatusCode.ALREADY_EXISTS and error_info(status).reason == "REQUEST_ID_REUSED"


async def test_retry_of_a_live_item_is_not_a_dead_letter(tenant: Tenant) -> None:
    item = tenant.plant(Destination.ERP, Operation.CREATE_JOB, "e-1")
    code, status = await rich_error(tenant.deliveries.RetryDeadLetter(retry_one(item.delivery_id)))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert info.reason == "NOT_A_DEAD_LETTER"
    assert (info.metadata["delivery_id"], info.metadata["status"]) == (str(item.delivery_id), "PENDING")
    [failure] = unpack(status, error_details_pb2.PreconditionFailure)
    assert failure.violations[0].subject == f"deliveries/{item.delivery_id}"

    records = await tenant.api.audit.ListAuditRecords(
        audit_pb2.ListAuditRecordsRequest(stream_id="deliveries")
    )
    [record] = records.audit_records
    assert (record.outcome, record.rejection_reason) == (
        audit_pb2.AUDIT_OUTCOME_REJECTED,
        "NOT_A_DEAD_LETTER",
    )


async def test_another_tenants_delivery_is_not_found(
    tenant: Tenant, delivery_stub: delivery_pb2_grpc.DeliveryServiceStub
) -> None:
    item = tenant.dead()
    theirs = Bound(delivery_stub, credentials.bearer(f"tenant-{uuid.uuid4().hex}", "mallory"))
    for call in (
        theirs.GetDeadLetter(pb.GetDeadLetterRequest(delivery_id=item.delivery_id)),
        theirs.RetryDeadLetter(retry_one(item.delivery_id)),
    ):
        code, status = await rich_error(call)
        assert code == grpc.StatusCode.NOT_FOUND
        assert error_info(status).reason == "DELIVERY_NOT_FOUND"
        assert error_info(status).metadata["id"] == str(item.delivery_id)
    assert (await theirs.ListDeadLetters(pb.ListDeadLettersRequest())).dead_letters == []


# -- bad input -----------------------------------------------------------------------------------

BAD_REQUESTS = [
    (
        "ListDeadLetters",
        pb.ListDeadLettersRequest(page_size=-1, destination=9, operation=7),
        [
            "page_size",
            "destination",
            "operation",
        ],
    ),
    ("ListDeadLetters", pb.ListDeadLettersRequest(page_token="not-a-token"), ["page_token"]),
    ("ListDeliveries", pb.ListDeliveriesRequest(status=42, page_size=-5), ["page_size", "status"]),
    ("GetDeadLetter", pb.GetDeadLetterRequest(), ["delivery_id"]),
    ("GetDeadLetter", pb.GetDeadLetterRequest(delivery_id=-3), ["delivery_id"]),
    ("RetryDeadLetter", pb.RetryDeadLetterRequest(request_id="r"), ["delivery_id"]),
    ("RetryDeadLetter", pb.RetryDeadLetterRequest(delivery_id=-1), ["delivery_id"]),
    ("RetryDeadLetter", pb.RetryDeadLetterRequest(delivery_id=4, all_matching=True), ["all_matching"]),
    (
        "RetryDeadLetter",
        pb.RetryDeadLetterRequest(delivery_id=4, destination=ERP, engagement_id="e"),
        [
            "destination",
            "engagement_id",
        ],
    ),
    ("RetryDeadLetter", pb.RetryDeadLetterRequest(all_matching=True, operation=99), ["operation"]),
]


@pytest.mark.parametrize(("method", "request_message", "fields"), BAD_REQUESTS)
async def test_bad_input_is_invalid_argument_naming_each_field(
    tenant: Tenant, method: str, request_message: object, fields: list[str]
) -> None:
    code, status = await rich_error(getattr(tenant.deliveries, method)(request_message))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(status).reason == "VALIDATION_FAILED"
    assert field_paths(status) == fields
