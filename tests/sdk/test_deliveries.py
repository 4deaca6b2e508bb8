"""The SDK's DeliveryService methods: request ids and retries (scripted server), typed errors,
and list / get / retry / stats against the real gateway; and every RPC has an SDK method."""

from __future__ import annotations

import asyncio
import importlib
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from q2c.v1 import delivery_pb2 as pb
from q2c_core.adapters.store import Store
from q2c_core.adapters.store.deliveries import DeliveryStore
from q2c_core.app.delivery.model import Destination, Operation, Outcome, PlannedDelivery
from q2c_sdk import (
    NO_RETRIES,
    DeliveryNotFoundError,
    InvalidArgumentError,
    NotADeadLetterError,
    Q2cClient,
)
from tests.sdk.conftest import RealServer
from tests.sdk.fake_server import FakeQ2c, rich_failure

DELIVERIES = "DeliveryService"
WAIT = 10.0
PROTOS = Path(__file__).resolve().parents[2] / "protos" / "q2c" / "v1"


def test_every_rpc_of_every_service_has_an_sdk_method() -> None:
    missing = []
    for proto in sorted(PROTOS.glob("*.proto")):
        module = importlib.import_module(f"q2c.v1.{proto.stem}_pb2")
        for service in module.DESCRIPTOR.services_by_name.values():
            for rpc in service.methods:
                name = re.sub(r"(?<!^)(?=[A-Z])", "_", rpc.name).lower()
                if not callable(getattr(Q2cClient, name, None)):
                    missing.append(f"{service.name}.{rpc.name} -> {name}")
    assert missing == []


def test_retry_dead_letter_is_retried_with_the_same_request_id(fake: FakeQ2c) -> None:
    client = fake.client()
    result = fake.run(lambda: client.retry_dead_letter(pb.RetryDeadLetterRequest(all_matching=True)))
    first = fake.take(DELIVERIES, "RetryDeadLetter")
    first.fail(rich_failure(grpc.StatusCode.UNAVAILABLE, "STORE_UNAVAILABLE", "database down"))
    second = fake.take(DELIVERIES, "RetryDeadLetter")
    second.answer(pb.RetryDeadLetterResponse(delivery_ids=[3, 5]))
    assert list(result.result(WAIT).delivery_ids) == [3, 5]
    assert first.request.request_id and second.request.request_id == first.request.request_id


def test_delivery_reasons_become_typed_errors(fake: FakeQ2c) -> None:
    client = fake.client(retries=NO_RETRIES)
    result = fake.run(lambda: client.get_dead_letter(pb.GetDeadLetterRequest(delivery_id=9)))
    fake.take(DELIVERIES, "GetDeadLetter").fail(
        rich_failure(grpc.StatusCode.NOT_FOUND, "DELIVERY_NOT_FOUND", "delivery '9' not found", {"id": "9"})
    )
    with pytest.raises(DeliveryNotFoundError):
        result.result(WAIT)

    result = fake.run(lambda: client.retry_dead_letter(pb.RetryDeadLetterRequest(delivery_id=9)))
    metadata = {"delivery_id": "9", "status": "DELIVERED"}
    fake.take(DELIVERIES, "RetryDeadLetter").fail(
        rich_failure(grpc.StatusCode.FAILED_PRECONDITION, "NOT_A_DEAD_LETTER", "delivered", metadata)
    )
    with pytest.raises(NotADeadLetterError) as refused:
        result.result(WAIT)
    assert refused.value.status == "DELIVERED"


@pytest.fixture(scope="module")
def planter(real_server: RealServer, database_url: str) -> Iterator[DeliveryStore]:
    """DeliveryStore on the real server's database."""
    store = Store.open(database_url, migrate=False)
    yield DeliveryStore(store.engine)
    store.close()


def _operate(q2c: Q2cClient, tenant_id: str, planter: DeliveryStore) -> None:
    now = datetime(2026, 2, 1, tzinfo=UTC)
    subject = uuid.uuid4().hex
    planned = PlannedDelivery(
        tenant_id,
        Destination.ERP,
        Operation.POST_INVOICE,
        f"q2c:sdk:{subject}",
        "e-1",
        subject,
        subject,
        1,
    )
    planter.enqueue(f"sdk-{subject}", 0, 1, [planned], now)
    [item] = planter.list_items(tenant_id).items
    planter.record(
        [Outcome(item.delivery_id, False, "PERMANENT", "422 refused", http_status=422, dead=True)], now
    )

    [letter] = q2c.list_dead_letters(pb.ListDeadLettersRequest()).dead_letters
    assert (letter.delivery_id, letter.status) == (item.delivery_id, pb.DELIVERY_STATUS_DEAD)
    shown = q2c.get_dead_letter(pb.GetDeadLetterRequest(delivery_id=item.delivery_id))
    assert [a.http_status for a in shown.attempt_history] == [422]
    stats = q2c.get_delivery_stats(pb.GetDeliveryStatsRequest())
    erp = stats.destinations[0]
    assert (erp.destination, erp.dead) == (pb.DELIVERY_DESTINATION_ERP, 1)

    request = pb.RetryDeadLetterRequest(delivery_id=item.delivery_id)
    assert list(q2c.retry_dead_letter(request, request_id="sdk-retry").delivery_ids) == [item.delivery_id]
    assert list(q2c.retry_dead_letter(request, request_id="sdk-retry").delivery_ids) == [item.delivery_id]
    with pytest.raises(NotADeadLetterError):
        q2c.retry_dead_letter(request)
    with pytest.raises(InvalidArgumentError):
        q2c.retry_dead_letter(pb.RetryDeadLetterRequest())
    pending = q2c.list_deliveries(pb.ListDeliveriesRequest(status=pb.DELIVERY_STATUS_PENDING)).deliveries
    assert [d.delivery_id for d in pending] == [item.delivery_id]


async def test_dead_letters_through_the_sdk(
    client: Q2cClient, tenant_id: str, planter: DeliveryStore
) -> None:
    await asyncio.to_thread(_operate, client, tenant_id, planter)
