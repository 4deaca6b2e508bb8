"""Poison never sticks (LocalRuntime over SQLite and PostgreSQL): an engagement holding the
largest values the API accepts stays readable, billable and replayable, and a stored event or
snapshot that no longer decodes fails clearly — FAILED_PRECONDITION naming the engagement and
the event's seq, never INTERNAL — while the rest of the tenant stays readable and writable."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal

import grpc
import pytest
from sqlalchemy import text

from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store
from q2c_core.app.decoding import REASON, fold_stored
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain.limits import HOURS, MONEY
from q2c_core.edge.app import start_server
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.service import flows
from tests.service.billing_flows import NO_TAX, active_on, approved_time, entry, invoice_for, tm_line
from tests.service.client import Api, Stubs, error_info, rich_error

MAX_RATE = "9" * MONEY.integer_digits + "." + "9" * MONEY.places
"""The largest money amount the wire grammar accepts (q2c_core.domain.limits.MONEY)."""
MAX_HOURS = str(HOURS.maximum)


@dataclass
class Local:
    """A gateway over LocalRuntime, with the runtime and store at hand."""

    runtime: LocalRuntime
    store: Store
    channel: grpc.aio.Channel

    def api(self) -> Api:
        return Api(Stubs.on(self.channel), tenant_id=new_tenant_id(), principal="alice")


@pytest.fixture(scope="module")
async def local(database_url: str) -> AsyncIterator[Local]:
    store = Store.open(database_url)
    runtime = LocalRuntime(store)
    gateway = await start_server(runtime, security=credentials.security(store))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            yield Local(runtime, store, channel)
    finally:
        await gateway.stop(grace=1.0)
        await runtime.close()
        store.close()


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


BILLABLE_RATE = str(
    ((Decimal(10) ** MONEY.integer_digits - 1) / HOURS.maximum).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
)
"""The largest rate whose day at MAX_HOURS is still a representable money amount."""
WORST_RATES = [pytest.param(BILLABLE_RATE, id="largest-billable-rate")]


@pytest.mark.parametrize("rate", WORST_RATES)
async def test_the_largest_accepted_values_stay_readable_billable_and_replayable(
    local: Local, rate: str
) -> None:
    api = local.api()
    billable = await active_on(
        api, lambda card: [tm_line(card)], rates={"engineer": rate}, tax_profile=NO_TAX
    )
    eid = billable.engagement_id
    await approved_time(api, eid, entry(1, date(2026, 3, 2), hours=MAX_HOURS))

    invoice = await invoice_for(api, eid, "2026-03")

    expected = (Decimal(rate) * Decimal(MAX_HOURS)).quantize(Decimal("0.01"))
    assert Decimal(invoice.lines[0].amount.amount) == expected
    assert Decimal(invoice.total.amount) == expected
    read = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid))
    assert read.engagement_id == eid
    local.runtime.host.evict_all()  # the next command re-activates it from the store
    again = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid))
    assert again == read
    state = local.runtime.queries.get_engagement(api.tenant_id, eid)
    replayed = fold_stored(eid, local.store.read_events(api.tenant_id, eid), None)  # no snapshot
    assert replayed == state


async def test_an_invoice_whose_amounts_would_pass_the_money_limit_is_refused_not_internal(
    local: Local,
) -> None:
    api = local.api()
    billable = await active_on(
        api, lambda card: [tm_line(card)], rates={"engineer": MAX_RATE}, tax_profile=NO_TAX
    )
    eid = billable.engagement_id
    await approved_time(api, eid, entry(1, date(2026, 3, 2), hours=MAX_HOURS))

    code, status = await rich_error(invoice_for(api, eid, "2026-03"))

    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(status).reason == "AMOUNT_OUT_OF_RANGE"
    read = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid))
    assert list(read.invoice_ids) == [] and read.time_entries[0].status == pb.TIME_ENTRY_STATUS_APPROVED


async def test_an_event_that_no_longer_decodes_names_the_engagement_and_seq(local: Local) -> None:
    api = local.api()
    bad = await flows.qualified(api)
    good = await flows.qualified(api)
    _sql(
        local.store,
        "UPDATE events SET payload = :payload WHERE tenant_id = :t AND stream_id = :s AND seq = 2",
        payload=json.dumps({"type": "EngagementQualified", "hours": "1e999999999"}),
        t=api.tenant_id,
        s=bad.engagement_id,
    )
    _sql(  # and the snapshot too, so reading has to fold every event
        local.store,
        "UPDATE engagements SET snapshot = :snap WHERE tenant_id = :t AND engagement_id = :e",
        snap=json.dumps({"bogus": 1}),
        t=api.tenant_id,
        e=bad.engagement_id,
    )
    local.runtime.host.evict_all()

    code, status = await rich_error(
        api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=bad.engagement_id))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert info.reason == REASON
    assert (info.metadata["engagement_id"], info.metadata["seq"]) == (bad.engagement_id, "2")
    code, status = await rich_error(
        api.engagements.CloseWonEngagement(
            pb.CloseWonEngagementRequest(request_id=str(uuid.uuid4()), engagement_id=bad.engagement_id)
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION and error_info(status).reason == REASON

    won = await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=str(uuid.uuid4()), engagement_id=good.engagement_id)
    )
    assert won.state == pb.ENGAGEMENT_STATE_WON
    listed = await api.engagements.ListEngagements(pb.ListEngagementsRequest())
    assert [e.engagement_id for e in listed.engagements] == [good.engagement_id]


async def test_a_snapshot_that_no_longer_decodes_is_rebuilt_from_the_events(local: Local) -> None:
    api = local.api()
    engagement = await flows.qualified(api)
    _sql(
        local.store,
        "UPDATE engagements SET snapshot = :snap WHERE tenant_id = :t AND engagement_id = :e",
        snap=json.dumps({"engagement_id": engagement.engagement_id, "version": "NaN", "garbage": True}),
        t=api.tenant_id,
        e=engagement.engagement_id,
    )
    local.runtime.host.evict_all()

    read = await api.engagements.GetEngagement(
        pb.GetEngagementRequest(engagement_id=engagement.engagement_id)
    )
    assert read.state == pb.ENGAGEMENT_STATE_QUALIFIED
    won = await api.engagements.CloseWonEngagement(
        pb.CloseWonEngagementRequest(request_id=str(uuid.uuid4()), engagement_id=engagement.engagement_id)
    )
    assert won.state == pb.ENGAGEMENT_STATE_WON
