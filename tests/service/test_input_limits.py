"""Hostile input through the real gateway: every decimal field, string and repeated bound.

The decimal fields are found from the proto descriptors (tests/unit/wire_fields.py: every string
field reachable from an RPC request whose comment calls it a decimal), not from the server's
registry, so a new decimal field is tested, and refused, without anyone listing it. Each hostile
value must come back INVALID_ARGUMENT with a BadRequest violation naming that field's path, and
the tenant must have nothing written: no event, no ACCEPTED audit record, no resource row.

One LocalRuntime gateway per module and database (SQLite and PostgreSQL): the edge check runs in
the gateway, before any runtime, so Ray adds nothing here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select

from q2c.v1 import common_pb2, customer_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store, schema
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain import items
from q2c_core.domain.limits import ENGAGEMENT_LIMIT_REASON, MAX_BATCH, MAX_NAME_LENGTH, MAX_TEXT_LENGTH
from q2c_core.edge.app import GatewayServer, start_server
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.service import flows
from tests.service.client import Api, Stubs, error_info, field_paths, rich_error, rid, time_entry
from tests.unit.wire_fields import FieldPath, documented_decimals, message_class, request_fields, set_path

HOSTILE = (
    "1E5",
    "1e-7",
    "NaN",
    "Infinity",
    "-Infinity",
    "+1",
    " 1",
    "1 ",
    "1.",
    ".5",
    "0x10",
    "1_000",
    "1" * 40,
    "0." + "1" * 30,
)

DECIMAL_PATHS = [f for f in request_fields() if f.field.full_name in documented_decimals()]


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[Store]:
    """The module's store, read directly to prove nothing was written."""
    opened = Store.open(database_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
async def server(store: Store) -> AsyncIterator[GatewayServer]:
    """A real gateway on LocalRuntime."""
    runtime = LocalRuntime(store)
    gateway = await start_server(runtime, security=credentials.security(store))
    try:
        yield gateway
    finally:
        await gateway.stop(grace=1.0)
        await runtime.close()


@pytest.fixture(scope="module")
async def channel(server: GatewayServer) -> AsyncIterator[grpc.aio.Channel]:
    """One client channel to the gateway."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as chan:
        yield chan


@pytest.fixture
def api(channel: grpc.aio.Channel) -> Api:
    """Stubs bound to a fresh tenant."""
    return Api(Stubs.on(channel), tenant_id=new_tenant_id(), principal="alice")


def _call(channel: grpc.aio.Channel, rpc: str, request: Any, tenant_id: str) -> Any:
    service, method = rpc.rsplit(".", 1)
    stub = channel.unary_unary(f"/{service}/{method}", request_serializer=lambda m: m.SerializeToString())
    return stub(request, metadata=credentials.bearer(tenant_id), timeout=20.0)


_TABLES = {
    "events": schema.events,
    "accepted audit": schema.audit_records,
    "customers": schema.customers,
    "rate_cards": schema.rate_cards,
    "engagements": schema.engagements,
}


def _written(store: Store, tenant_id: str) -> dict[str, int]:
    """Rows the tenant has in each table that a successful call would write (none expected)."""
    found = {}
    with store.engine.connect() as conn:
        for name, table in _TABLES.items():
            query = select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id)
            if name == "accepted audit":
                query = query.where(table.c.outcome == "ACCEPTED")
            count = conn.execute(query).scalar_one()
            if count:
                found[name] = count
    return found


def test_the_descriptors_mark_every_kind_of_decimal_field() -> None:
    names = {f.field.full_name for f in DECIMAL_PATHS}
    assert {"q2c.v1.Money.amount", "q2c.v1.TimeEntryInput.hours", "q2c.v1.TaxProfile.rate"} <= names
    assert "q2c.v1.ExpenseTerms.markup_percent" in names
    assert len(DECIMAL_PATHS) >= 15  # every RPC path to a decimal, e.g. five per contract request


@pytest.mark.parametrize("target", DECIMAL_PATHS, ids=lambda f: f"{f.rpc.rsplit('.', 1)[1]}:{f.path}")
async def test_hostile_decimals_are_refused_naming_the_field_and_write_nothing(
    channel: grpc.aio.Channel, store: Store, target: FieldPath
) -> None:
    tenant_id = new_tenant_id()
    for value in HOSTILE:
        request = message_class(target.request)()
        if "request_id" in target.request.fields_by_name:
            request.request_id = rid()
        set_path(request, target.path, value)
        code, status = await rich_error(_call(channel, target.rpc, request, tenant_id))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (value, status.message)
        assert error_info(status).reason == "VALIDATION_FAILED"
        assert target.path in field_paths(status), (value, field_paths(status))
    assert _written(store, tenant_id) == {}


async def test_a_worst_case_decimal_that_once_poisoned_an_engagement_is_refused(api: Api) -> None:
    engagement, _ = await flows.active(api)
    tiny = "0." + "0" * 30 + "1"
    request = pb.SubmitTimeEntriesRequest(
        request_id=rid(), engagement_id=engagement.engagement_id, entries=[time_entry(1, hours=tiny)]
    )
    code, status = await rich_error(api.engagements.SubmitTimeEntries(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field_paths(status) == ["entries[0].hours"]
    read = await api.engagements.GetEngagement(
        pb.GetEngagementRequest(engagement_id=engagement.engagement_id)
    )
    assert not read.time_entries


async def test_a_batch_at_the_limit_is_accepted_and_one_more_entry_refused(api: Api) -> None:
    engagement, _ = await flows.active(api)
    over = pb.SubmitTimeEntriesRequest(
        request_id=rid(),
        engagement_id=engagement.engagement_id,
        entries=[time_entry(n, hours="0.01") for n in range(MAX_BATCH + 1)],
    )
    code, status = await rich_error(api.engagements.SubmitTimeEntries(over))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field_paths(status) == ["entries"]
    at = pb.SubmitTimeEntriesRequest(
        request_id=rid(), engagement_id=engagement.engagement_id, entries=list(over.entries)[:MAX_BATCH]
    )
    submitted = await api.engagements.SubmitTimeEntries(at)
    assert len(submitted.time_entries) == MAX_BATCH


async def test_strings_at_their_bound_are_accepted_and_one_character_more_refused(api: Api) -> None:
    customer = await flows.new_customer(api)
    for length, accepted in ((MAX_NAME_LENGTH, True), (MAX_NAME_LENGTH + 1, False)):
        request = pb.CreateEngagementRequest(
            request_id="r" * 128, customer_id=customer.customer_id, display_name="n" * length
        )
        if accepted:
            created = await api.engagements.CreateEngagement(request)
            assert len(created.display_name) == length
        else:
            request.request_id = rid()
            code, status = await rich_error(api.engagements.CreateEngagement(request))
            assert (code, field_paths(status)) == (grpc.StatusCode.INVALID_ARGUMENT, ["display_name"])
    over_id = pb.CreateEngagementRequest(
        request_id="r" * 129, customer_id=customer.customer_id, display_name="x"
    )
    code, status = await rich_error(api.engagements.CreateEngagement(over_id))
    assert (code, field_paths(status)) == (grpc.StatusCode.INVALID_ARGUMENT, ["request_id"])
    engagement = created
    qualified = await api.engagements.QualifyEngagement(
        pb.QualifyEngagementRequest(
            request_id=rid(), engagement_id=engagement.engagement_id, comment="c" * MAX_TEXT_LENGTH
        )
    )
    assert qualified.state == pb.ENGAGEMENT_STATE_QUALIFIED
    code, status = await rich_error(
        api.engagements.CloseWonEngagement(
            pb.CloseWonEngagementRequest(
                request_id=rid(), engagement_id=engagement.engagement_id, comment="c" * (MAX_TEXT_LENGTH + 1)
            )
        )
    )
    assert (code, field_paths(status)) == (grpc.StatusCode.INVALID_ARGUMENT, ["comment"])


async def test_a_tax_rate_with_seven_decimals_is_refused_and_six_accepted(api: Api) -> None:
    for rate, accepted in (("0.123456", True), ("0.1234567", False)):
        profile = customer_pb2.TaxProfile(jurisdiction="GB", rate=rate)
        request = customer_pb2.CreateCustomerRequest(
            request_id=rid(),
            customer=customer_pb2.Customer(display_name="A", billing_currency="GBP", tax_profile=profile),
        )
        if accepted:
            created = await api.customers.CreateCustomer(request)
            assert created.tax_profile.rate == rate
        else:
            code, status = await rich_error(api.customers.CreateCustomer(request))
            assert field_paths(status) == ["customer.tax_profile.rate"]
            assert code == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_engagement_full_of_time_entries_refuses_more_and_stays_readable(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(items, "MAX_TIME_ENTRIES_PER_ENGAGEMENT", 3)  # LocalRuntime: decided in process
    engagement, _ = await flows.active(api)
    engagement_id = engagement.engagement_id
    first = [time_entry(n, hours="1") for n in range(3)]
    await api.engagements.SubmitTimeEntries(
        pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=engagement_id, entries=first)
    )
    code, status = await rich_error(
        api.engagements.SubmitTimeEntries(
            pb.SubmitTimeEntriesRequest(
                request_id=rid(), engagement_id=engagement_id, entries=[time_entry(9)]
            )
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert info.reason == ENGAGEMENT_LIMIT_REASON
    assert {k: info.metadata[k] for k in ("limit", "maximum", "held")} == {
        "limit": "time_entries",
        "maximum": "3",
        "held": "3",
    }
    read = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=engagement_id))
    assert len(read.time_entries) == 3


async def test_a_money_amount_with_sixteen_integer_digits_is_refused(api: Api) -> None:
    engagement, _ = await flows.active(api)
    expense = pb.ExpenseInput(
        expense_id="X1",
        billing_line_id="EXP-1",
        category="TRAVEL",
        incurred_date=time_entry(1).work_date,
        amount=common_pb2.Money(currency_code="USD", amount="1" * 16),
    )
    request = pb.SubmitExpensesRequest(
        request_id=rid(), engagement_id=engagement.engagement_id, expenses=[expense]
    )
    code, status = await rich_error(api.engagements.SubmitExpenses(request))
    assert (code, field_paths(status)) == (grpc.StatusCode.INVALID_ARGUMENT, ["expenses[0].amount.amount"])
