"""DeliveryControl over SQLite and PostgreSQL: tenant scoping, the audited and idempotent retry
(the move and its audit record commit together), paging errors and the outbox lag."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from q2c_core.adapters.store import Store, WriteBatch
from q2c_core.adapters.store.deliveries import DeliveryStore
from q2c_core.app.delivery import worker
from q2c_core.app.delivery.control import (
    AUDIT_STREAM,
    OUTBOX_CONSUMER,
    DeliveryControl,
    DeliveryFilter,
    RetryFilter,
)
from q2c_core.app.delivery.model import DeliveryItem, DeliveryStatus, Destination, Operation, Outcome
from q2c_core.app.messages import Caller
from q2c_core.domain.errors import NotFoundError, PreconditionError, RequestIdReusedError, ValidationError
from tests.store.helpers import T0, ev, idem, uid
from tests.store.test_delivery_store import planned, plant

LATER = T0 + timedelta(minutes=1)


class Wakes:
    """Counts the worker nudges."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def control(store: Store, wakes: Wakes) -> Iterator[DeliveryControl]:
    """A DeliveryControl on the module's database with a fixed clock."""
    yield DeliveryControl(DeliveryStore(store.engine), wakes, clock=lambda: LATER)


def caller(tenant_id: str) -> Caller:
    return Caller(tenant_id=tenant_id, principal="ops", correlation_id="corr-dl")


def dead_letters(control: DeliveryControl, tenant_id: str, count: int) -> list[DeliveryItem]:
    """`count` ERP dead letters of the tenant, one engagement each."""
    items = plant(control.store, *(planned(tenant_id, f"e-{n}") for n in range(count)))
    control.store.record(
        [
            Outcome(i.delivery_id, False, "PERMANENT", "422 refused", http_status=422, dead=True)
            for i in items
        ],
        T0,
    )
    return items


def test_the_outbox_consumer_is_the_workers_cursor() -> None:
    assert OUTBOX_CONSUMER == worker.CONSUMER


def test_reads_are_scoped_to_the_tenant(control: DeliveryControl, tenant_id: str) -> None:
    [item] = dead_letters(control, tenant_id, 1)
    found, attempts = control.detail(tenant_id, item.delivery_id)
    assert found.delivery_id == item.delivery_id and [a.outcome for a in attempts] == ["PERMANENT"]
    with pytest.raises(NotFoundError) as missing:
        control.get(uid("other-tenant"), item.delivery_id)
    assert missing.value.reason == "DELIVERY_NOT_FOUND" and missing.value.metadata["id"] == str(
        item.delivery_id
    )
    with pytest.raises(NotFoundError):
        control.attempts(uid("other-tenant"), item.delivery_id)


def test_listing_dead_letters_ignores_other_statuses(control: DeliveryControl, tenant_id: str) -> None:
    [dead] = dead_letters(control, tenant_id, 1)
    plant(control.store, planned(tenant_id, "e-pending"))
    page = control.list_dead_letters(tenant_id, DeliveryFilter(status=DeliveryStatus.PENDING))
    assert [i.delivery_id for i in page.items] == [dead.delivery_id]
    assert len(control.list_deliveries(tenant_id, DeliveryFilter()).items) == 2


def test_bad_page_size_and_token_are_validation_errors(control: DeliveryControl, tenant_id: str) -> None:
    with pytest.raises(ValidationError) as bad_size:
        control.list_deliveries(tenant_id, DeliveryFilter(), page_size=-1)
    assert [v.field for v in bad_size.value.field_violations] == ["page_size"]
    with pytest.raises(ValidationError) as bad_token:
        control.list_dead_letters(tenant_id, DeliveryFilter(), page_token="garbage")
    assert [v.field for v in bad_token.value.field_violations] == ["page_token"]


def test_retry_one_moves_it_audits_it_and_wakes_the_worker(
    control: DeliveryControl, store: Store, tenant_id: str, wakes: Wakes
) -> None:
    [item] = dead_letters(control, tenant_id, 1)
    moved = control.retry(caller(tenant_id), "req-1", RetryFilter(delivery_id=item.delivery_id), "ERP fixed")
    assert moved == [item.delivery_id] and wakes.count == 1
    assert control.get(tenant_id, item.delivery_id).status is DeliveryStatus.PENDING
    [record] = store.list_audit(tenant_id, AUDIT_STREAM).items
    assert (record.command_type, record.outcome, record.request_id, record.principal) == (
        "RetryDeadLetter",
        "ACCEPTED",
        "req-1",
        "ops",
    )
    assert record.comment == f"ERP fixed; retried {item.delivery_id}"
    assert record.correlation_id == "corr-dl"


def test_a_replayed_request_id_returns_the_first_reply_and_moves_nothing(
    control: DeliveryControl, store: Store, tenant_id: str, wakes: Wakes
) -> None:
    first, second = dead_letters(control, tenant_id, 2)
    everything = RetryFilter(destination=Destination.ERP)
    assert control.retry(caller(tenant_id), "req-all", everything) == [first.delivery_id, second.delivery_id]
    control.store.record([Outcome(first.delivery_id, False, "PERMANENT", "again", dead=True)], LATER)
    assert control.retry(caller(tenant_id), "req-all", everything) == [first.delivery_id, second.delivery_id]
    assert control.get(tenant_id, first.delivery_id).status is DeliveryStatus.DEAD  # not moved again
    assert wakes.count == 1
    assert len(store.list_audit(tenant_id, AUDIT_STREAM).items) == 1
    with pytest.raises(RequestIdReusedError):
        control.retry(caller(tenant_id), "req-all", RetryFilter(delivery_id=first.delivery_id))


def test_a_request_id_used_by_another_command_is_reused(
    control: DeliveryControl, store: Store, tenant_id: str
) -> None:
    store.commit(WriteBatch(idempotency=[idem(tenant_id, "req-x")]))
    with pytest.raises(RequestIdReusedError):
        control.retry(caller(tenant_id), "req-x", RetryFilter(destination=Destination.PSA))


def test_retry_of_an_unknown_or_live_item_is_refused_and_writes_nothing(
    control: DeliveryControl, store: Store, tenant_id: str, wakes: Wakes
) -> None:
    [pending] = plant(control.store, planned(tenant_id, "e-a"))
    with pytest.raises(NotFoundError):
        control.retry(caller(uid("other-tenant")), "r-1", RetryFilter(delivery_id=pending.delivery_id))
    with pytest.raises(PreconditionError) as refused:
        control.retry(caller(tenant_id), "r-2", RetryFilter(delivery_id=pending.delivery_id))
    assert refused.value.reason == "NOT_A_DEAD_LETTER"
    assert refused.value.metadata == {"delivery_id": str(pending.delivery_id), "status": "PENDING"}
    assert store.list_audit(tenant_id, AUDIT_STREAM).items == [] and wakes.count == 0
    assert store.find_idempotency(tenant_id, ["r-2"]) == {}


def test_retry_all_matching_nothing_is_accepted_and_audited(
    control: DeliveryControl, store: Store, tenant_id: str, wakes: Wakes
) -> None:
    assert control.retry(caller(tenant_id), None, RetryFilter(operation=Operation.RECORD_PAYMENT)) == []
    assert wakes.count == 0
    [record] = store.list_audit(tenant_id, AUDIT_STREAM).items
    assert record.comment == "retried none" and record.request_id is None


def test_concurrent_retries_move_each_dead_letter_once_with_an_intact_audit_chain(
    control: DeliveryControl, store: Store, tenant_id: str
) -> None:
    items = dead_letters(control, tenant_id, 6)
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(
            pool.map(lambda n: control.retry(caller(tenant_id), f"r-{n}", RetryFilter()), range(4))
        )
    moved = sorted(i for reply in replies for i in reply)
    assert moved == [i.delivery_id for i in items]
    assert len(store.list_audit(tenant_id, AUDIT_STREAM).items) == 4
    assert store.verify_audit(tenant_id, AUDIT_STREAM).ok


def test_stats_report_the_outbox_lag(control: DeliveryControl, store: Store, tenant_id: str) -> None:
    store.commit(WriteBatch(events=[ev(tenant_id, uid("stream"), 1)]))
    lag = control.stats(tenant_id).outbox_lag
    assert lag == control.store.last_position() - control.store.cursor(OUTBOX_CONSUMER) and lag > 0
    overview = control.stats(tenant_id)
    assert [s.destination for s in overview.destinations] == ["ERP", "PSA"] and overview.read_time == LATER
