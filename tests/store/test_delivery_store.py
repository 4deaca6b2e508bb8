"""DeliveryStore contract (SQLite and PostgreSQL): the outbox cursor, FIFO dispatch per
engagement, attempt recording, dead-letter retry and statistics.

The module shares one database: every test works in its own tenant and cursor name, and
filters `due()` to its tenant (due() looks across tenants, as the worker does).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from q2c_core.adapters.store import ConcurrencyConflict, Store
from q2c_core.adapters.store.deliveries import DeliveryStore
from q2c_core.app.delivery.model import (
    DeliveryItem,
    DeliveryStatus,
    Destination,
    Operation,
    Outcome,
    PlannedDelivery,
)
from tests.store.helpers import T0, uid

ERP, PSA = Destination.ERP, Destination.PSA
NOW = T0
LATER = T0 + timedelta(minutes=5)


@pytest.fixture(scope="module")
def deliveries(store: Store) -> Iterator[DeliveryStore]:
    """A DeliveryStore on the module's database."""
    yield DeliveryStore(store.engine)


def planned(
    tenant: str,
    engagement: str,
    destination: Destination = ERP,
    operation: Operation = Operation.POST_INVOICE,
    position: int = 1,
) -> PlannedDelivery:
    """One item to plan, with a unique key."""
    subject = uid("subject")
    return PlannedDelivery(
        tenant_id=tenant,
        destination=destination,
        operation=operation,
        key=f"q2c:test:{subject}",
        engagement_id=engagement,
        subject_id=subject,
        invoice_id=subject if operation is Operation.POST_INVOICE else None,
        source_position=position,
    )


def plant(deliveries: DeliveryStore, *items: PlannedDelivery) -> list[DeliveryItem]:
    """Enqueue the items (on a cursor of their own) and return them as stored, in order."""
    deliveries.enqueue(uid("consumer"), 0, 1, list(items), NOW)
    tenant = items[0].tenant_id
    stored = {i.key: i for i in deliveries.list_items(tenant, page_size=1000).items}
    return [stored[p.key] for p in items]


def failed(item: DeliveryItem, *, dead: bool = False, kind: str = "RETRYABLE", **extra: object) -> Outcome:
    """A failed attempt of the item (due again LATER unless dead)."""
    return Outcome(
        item.delivery_id,
        False,
        kind,
        f"{kind} failure",
        dead=dead,
        next_attempt_time=None if dead else LATER,
        **extra,  # type: ignore[arg-type]
    )


def delivered(item: DeliveryItem, number: str | None = None) -> Outcome:
    """A successful attempt of the item."""
    return Outcome(item.delivery_id, True, "DELIVERED", "accepted", document_number=number)


def due_ids(deliveries: DeliveryStore, tenant: str, destination: Destination = ERP) -> list[int]:
    """The tenant's items due now at a destination, in dispatch order."""
    return [i.delivery_id for i in deliveries.due(destination, NOW, 1000) if i.tenant_id == tenant]


# -- planning ------------------------------------------------------------------------------------


def test_enqueue_inserts_new_items_ignores_repeats_and_moves_the_cursor(
    deliveries: DeliveryStore, tenant_id: str
) -> None:
    consumer = uid("consumer")
    first, second, third = (planned(tenant_id, "e-1", position=n) for n in (3, 7, 12))
    assert deliveries.cursor(consumer) == 0
    deliveries.enqueue(consumer, 0, 10, [first, second], NOW)
    assert deliveries.cursor(consumer) == 10
    deliveries.enqueue(consumer, 10, 20, [second, third], NOW)  # second is a repeat
    assert deliveries.cursor(consumer) == 20
    items = deliveries.list_items(tenant_id).items
    assert [(i.key, i.status, i.attempts, i.source_position) for i in items] == [
        (first.key, DeliveryStatus.PENDING, 0, 3),
        (second.key, DeliveryStatus.PENDING, 0, 7),
        (third.key, DeliveryStatus.PENDING, 0, 12),
    ]


def test_enqueue_returns_how_many_items_were_new(deliveries: DeliveryStore, tenant_id: str) -> None:
    consumer = uid("consumer")
    first, second, third = (planned(tenant_id, "e-1") for _ in range(3))
    assert deliveries.enqueue(consumer, 0, 10, [first, second], NOW) == 2
    assert deliveries.enqueue(consumer, 10, 20, [second, third], NOW) == 1


def test_enqueue_from_a_stale_position_conflicts_and_writes_nothing(
    deliveries: DeliveryStore, tenant_id: str
) -> None:
    consumer = uid("consumer")
    deliveries.enqueue(consumer, 0, 10, [], NOW)
    with pytest.raises(ConcurrencyConflict):
        deliveries.enqueue(consumer, 5, 30, [planned(tenant_id, "e-1")], NOW)
    assert deliveries.cursor(consumer) == 10
    assert deliveries.list_items(tenant_id).items == []


def test_a_second_planner_starting_from_zero_conflicts(deliveries: DeliveryStore, tenant_id: str) -> None:
    consumer = uid("consumer")
    deliveries.enqueue(consumer, 0, 4, [planned(tenant_id, "e-1")], NOW)
    with pytest.raises(ConcurrencyConflict):
        deliveries.enqueue(consumer, 0, 4, [planned(tenant_id, "e-2")], NOW)
    assert [i.engagement_id for i in deliveries.list_items(tenant_id).items] == ["e-1"]


# -- dispatching ---------------------------------------------------------------------------------


def test_only_the_first_undelivered_item_of_an_engagement_and_destination_is_due(
    deliveries: DeliveryStore, tenant_id: str
) -> None:
    job, invoice, _payment, other, project = plant(
        deliveries,
        planned(tenant_id, "e-a", operation=Operation.CREATE_JOB),
        planned(tenant_id, "e-a", operation=Operation.POST_INVOICE),
        planned(tenant_id, "e-a", operation=Operation.RECORD_PAYMENT),
        planned(tenant_id, "e-b", operation=Operation.CREATE_JOB),
        planned(tenant_id, "e-a", PSA, Operation.PROVISION_PROJECT),
    )
    assert due_ids(deliveries, tenant_id) == [job.delivery_id, other.delivery_id]
    assert due_ids(deliveries, tenant_id, PSA) == [project.delivery_id]  # not held back by the ERP

    deliveries.record([failed(job)], NOW)  # still PENDING, due LATER: holds back the invoice
    assert due_ids(deliveries, tenant_id) == [other.delivery_id]

    deliveries.record([delivered(job)], NOW)
    assert due_ids(deliveries, tenant_id) == [invoice.delivery_id, other.delivery_id]


def test_a_dead_letter_holds_back_its_engagement_until_retried(
    deliveries: DeliveryStore, tenant_id: str
) -> None:
    invoice, payment, other = plant(
        deliveries,
        planned(tenant_id, "e-a", operation=Operation.POST_INVOICE),
        planned(tenant_id, "e-a", operation=Operation.RECORD_PAYMENT),
        planned(tenant_id, "e-b"),
    )
    deliveries.record([failed(invoice, dead=True, kind="PERMANENT")], NOW)
    assert due_ids(deliveries, tenant_id) == [other.delivery_id]

    assert deliveries.retry_dead(tenant_id, NOW, delivery_id=invoice.delivery_id) == [invoice.delivery_id]
    assert due_ids(deliveries, tenant_id) == [invoice.delivery_id, other.delivery_id]
    assert payment.delivery_id not in due_ids(deliveries, tenant_id)


def test_due_skips_busy_items_and_their_engagements(deliveries: DeliveryStore, tenant_id: str) -> None:
    first, second = plant(deliveries, planned(tenant_id, "e-a"), planned(tenant_id, "e-b"))
    busy = [i.delivery_id for i in deliveries.due(ERP, NOW, 1000, busy=[first.delivery_id])]
    assert first.delivery_id not in busy and second.delivery_id in busy


# -- recording -----------------------------------------------------------------------------------


def test_record_keeps_the_last_failure_and_every_attempt(deliveries: DeliveryStore, tenant_id: str) -> None:
    [item] = plant(deliveries, planned(tenant_id, "e-a"))
    deliveries.record([failed(item, http_status=503)], NOW)
    after_one = deliveries.get(tenant_id, item.delivery_id)
    assert after_one is not None
    assert (after_one.status, after_one.attempts, after_one.failure_kind) == (
        DeliveryStatus.PENDING,
        1,
        "RETRYABLE",
    )
    assert after_one.last_http_status == 503 and after_one.next_attempt_time == LATER

    deliveries.record([failed(item, dead=True, kind="MALFORMED", http_status=200, payload="<html>")], LATER)
    dead = deliveries.get(tenant_id, item.delivery_id)
    assert dead is not None
    assert (dead.status, dead.attempts, dead.dead_time) == (DeliveryStatus.DEAD, 2, LATER)
    assert (dead.failure_kind, dead.last_payload, dead.last_error) == (
        "MALFORMED",
        "<html>",
        "MALFORMED failure",
    )

    history = deliveries.attempts(item.delivery_id)
    assert [(a.attempt, a.outcome, a.http_status, a.payload) for a in history] == [
        (1, "RETRYABLE", 503, None),
        (2, "MALFORMED", 200, "<html>"),
    ]
    assert history[1].attempt_time == LATER


def test_an_outcome_for_an_item_no_longer_pending_only_joins_the_history(
    deliveries: DeliveryStore, tenant_id: str
) -> None:
    [item] = plant(deliveries, planned(tenant_id, "e-a"))
    deliveries.record([failed(item, dead=True, kind="PERMANENT")], NOW)
    deliveries.record([delivered(item, "ERP-1")], LATER)  # a late reply of another worker
    stored = deliveries.get(tenant_id, item.delivery_id)
    assert stored is not None and stored.status is DeliveryStatus.DEAD and stored.document_number is None
    assert [a.outcome for a in deliveries.attempts(item.delivery_id)] == ["PERMANENT", "DELIVERED"]


def test_delivered_items_keep_their_document_number(deliveries: DeliveryStore, tenant_id: str) -> None:
    [item] = plant(deliveries, planned(tenant_id, "e-a"))
    deliveries.record([delivered(item, "INV-0042")], LATER)
    stored = deliveries.get(tenant_id, item.delivery_id)
    assert stored is not None
    assert (stored.status, stored.delivered_time, stored.attempts) == (DeliveryStatus.DELIVERED, LATER, 1)
    assert deliveries.document_number(tenant_id, ERP, item.key) == "INV-0042"
    assert deliveries.document_number(tenant_id, PSA, item.key) is None


# -- operations ----------------------------------------------------------------------------------


def test_retry_dead_moves_one_or_all_matching_and_keeps_history(
    deliveries: DeliveryStore, tenant_id: str
) -> None:
    a, b, c, pending = plant(
        deliveries,
        planned(tenant_id, "e-a"),
        planned(tenant_id, "e-b"),
        planned(tenant_id, "e-c", PSA, Operation.PROVISION_PROJECT),
        planned(tenant_id, "e-d"),
    )
    deliveries.record([failed(x, dead=True, kind="PERMANENT") for x in (a, b, c)], NOW)

    assert deliveries.retry_dead("another-tenant", LATER, delivery_id=a.delivery_id) == []
    assert deliveries.retry_dead(tenant_id, LATER, delivery_id=pending.delivery_id) == []
    assert deliveries.retry_dead(tenant_id, LATER, delivery_id=a.delivery_id) == [a.delivery_id]
    retried = deliveries.get(tenant_id, a.delivery_id)
    assert retried is not None
    assert (retried.status, retried.attempts, retried.dead_time, retried.next_attempt_time) == (
        DeliveryStatus.PENDING,
        0,
        None,
        LATER,
    )
    assert len(deliveries.attempts(a.delivery_id)) == 1  # the history survives the retry

    assert deliveries.retry_dead(tenant_id, LATER, destination=ERP) == [b.delivery_id]
    assert deliveries.retry_dead(tenant_id, LATER, engagement_id="e-c") == [c.delivery_id]
    assert deliveries.retry_dead(tenant_id, LATER) == []


def test_list_items_filters_and_pages(deliveries: DeliveryStore, tenant_id: str) -> None:
    items = plant(
        deliveries,
        *(planned(tenant_id, f"e-{n}") for n in range(3)),
        planned(tenant_id, "e-9", PSA, Operation.PROVISION_PROJECT),
    )
    deliveries.record([failed(items[1], dead=True, kind="PERMANENT")], NOW)
    first = deliveries.list_items(tenant_id, destination=ERP, page_size=2)
    assert [i.delivery_id for i in first.items] == [i.delivery_id for i in items[:2]]
    rest = deliveries.list_items(tenant_id, destination=ERP, page_size=2, page_token=first.next_page_token)
    assert [i.delivery_id for i in rest.items] == [items[2].delivery_id] and rest.next_page_token == ""
    dead = deliveries.list_items(tenant_id, status=DeliveryStatus.DEAD)
    assert [i.delivery_id for i in dead.items] == [items[1].delivery_id]
    assert [
        i.delivery_id for i in deliveries.list_items(tenant_id, operation=Operation.PROVISION_PROJECT).items
    ] == [items[3].delivery_id]
    with pytest.raises(ValueError, match="page_token"):
        deliveries.list_items(tenant_id, page_token="not-a-token")


def test_stats_count_each_destination_of_the_tenant(deliveries: DeliveryStore, tenant_id: str) -> None:
    done, dead, waiting, _due, _project = plant(
        deliveries,
        planned(tenant_id, "e-a"),
        planned(tenant_id, "e-b"),
        planned(tenant_id, "e-c"),
        planned(tenant_id, "e-d"),
        planned(tenant_id, "e-a", PSA, Operation.PROVISION_PROJECT),
    )
    deliveries.record([delivered(done), failed(dead, dead=True, kind="PERMANENT"), failed(waiting)], NOW)
    erp, psa = deliveries.stats(tenant_id, NOW)
    assert (erp.destination, erp.pending, erp.due, erp.delivered, erp.dead, erp.attempts) == (
        "ERP",
        2,
        1,
        1,
        1,
        3,
    )
    assert erp.oldest_pending_time == NOW
    assert (psa.destination, psa.pending, psa.due, psa.delivered, psa.dead, psa.attempts) == (
        "PSA",
        1,
        1,
        0,
        0,
        0,
    )
    assert deliveries.stats(uid("empty-tenant"), NOW)[0].oldest_pending_time is None
