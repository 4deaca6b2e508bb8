"""`q2c dead-letters list|show|retry` and `q2c deliveries list|stats` against a real server
hosting q2c.v1.DeliveryService; items are planted with DeliveryStore in the seeded tenant (each
test under engagements of its own). A server without the service exits 8."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from datetime import UTC, datetime

import grpc
import pytest

from clients.cli import main
from q2c_core.adapters.store import Store
from q2c_core.adapters.store.deliveries import DeliveryStore
from q2c_core.app.delivery.model import DeliveryItem, Destination, Operation, Outcome, PlannedDelivery
from tests.cli.conftest import Cli, Server

NOW = datetime(2026, 2, 2, 8, 30, tzinfo=UTC)
Plant = Callable[..., DeliveryItem]


@pytest.fixture(scope="module")
def planter(server: Server, database_url: str) -> Iterator[DeliveryStore]:
    """DeliveryStore on the CLI server's database."""
    store = Store.open(database_url, migrate=False)
    yield DeliveryStore(store.engine)
    store.close()


@pytest.fixture
def plant(server: Server, planter: DeliveryStore) -> Plant:
    """Plant one item in the seeded tenant: PENDING, or (dead=True) a dead letter."""

    def make(
        engagement: str,
        destination: Destination = Destination.ERP,
        operation: Operation = Operation.POST_INVOICE,
        *,
        dead: bool = True,
    ) -> DeliveryItem:
        tenant, subject = server.data.tenant_id, uuid.uuid4().hex[:10]
        item = PlannedDelivery(
            tenant, destination, operation, f"q2c:cli:{subject}", engagement, subject, None, 1
        )
        planter.enqueue(f"cli-{subject}", 0, 1, [item], NOW)
        [stored] = [
            i for i in planter.list_items(tenant, engagement_id=engagement).items if i.key == item.key
        ]
        if dead:
            reply = Outcome(
                stored.delivery_id,
                False,
                "MALFORMED",
                "unreadable reply",
                http_status=200,
                payload="<xml/>",
                dead=True,
            )
            planter.record([reply], NOW)
        return stored

    return make


def engagement() -> str:
    return f"e-{uuid.uuid4().hex[:8]}"


def test_list_shows_dead_letters_filtered_by_destination_and_operation(cli: Cli, plant: Plant) -> None:
    eng = engagement()
    invoice = plant(eng)
    project = plant(eng, Destination.PSA, Operation.PROVISION_PROJECT)
    plant(eng, Destination.ERP, Operation.CREATE_JOB, dead=False)

    run = cli("dead-letters", "list", "--engagement", eng)
    assert run.code == 0, run.err
    assert str(invoice.delivery_id) in run.out and str(project.delivery_id) in run.out
    assert "post_invoice" in run.out and "MALFORMED" in run.out and "create_job" not in run.out

    psa = cli("--json", "dead-letters", "list", "--engagement", eng, "--destination", "PSA").json()
    assert [d["delivery_id"] for d in psa["dead_letters"]] == [project.delivery_id]
    assert psa["dead_letters"][0]["status"] == "DELIVERY_STATUS_DEAD"
    invoices = cli(
        "--json", "dead-letters", "list", "--engagement", eng, "--operation", "post_invoice"
    ).json()
    assert [d["delivery_id"] for d in invoices["dead_letters"]] == [invoice.delivery_id]


def test_show_has_the_attempt_history_in_table_and_json(cli: Cli, plant: Plant) -> None:
    item = plant(engagement())
    run = cli("dead-letters", "show", str(item.delivery_id))
    assert run.code == 0, run.err
    assert "attempts" in run.out and "unreadable reply" in run.out and "<xml/>" in run.out
    data = cli("--json", "dead-letters", "get", str(item.delivery_id)).json()
    assert data["delivery_id"] == item.delivery_id
    assert [(a["attempt"], a["failure_kind"], a["http_status"]) for a in data["attempt_history"]] == [
        (1, "DELIVERY_FAILURE_KIND_MALFORMED", 200)
    ]


def test_show_unknown_and_invalid_ids(cli: Cli) -> None:
    missing = cli("dead-letters", "show", "987654321")
    assert missing.code == 4 and "DELIVERY_NOT_FOUND" in missing.err
    invalid = cli("--json", "dead-letters", "show", "0").error()["error"]
    assert (invalid["exit_code"], [v["field"] for v in invalid["field_violations"]]) == (3, ["delivery_id"])
    assert cli("dead-letters", "show", "abc").code == 2


def test_retry_one_moves_it_and_the_audit_log_shows_it(cli: Cli, plant: Plant) -> None:
    item = plant(engagement())
    run = cli("dead-letters", "retry", str(item.delivery_id), "--reason", "ERP fixed")
    assert run.code == 0, run.err
    assert "moved to PENDING" in run.out and str(item.delivery_id) in run.out
    shown = cli("--json", "dead-letters", "show", str(item.delivery_id)).json()
    assert shown["status"] == "DELIVERY_STATUS_PENDING"
    audit = cli("--json", "audit", "list", "deliveries").json()["audit_records"]
    assert any(r["comment"] == f"ERP fixed; retried {item.delivery_id}" for r in audit)

    again = cli("dead-letters", "retry", str(item.delivery_id))
    assert again.code == 5 and "NOT_A_DEAD_LETTER" in again.err


def test_retry_all_moves_the_matching_dead_letters(cli: Cli, plant: Plant) -> None:
    eng = engagement()
    erp = plant(eng)
    psa = plant(eng, Destination.PSA, Operation.PROVISION_PROJECT)
    run = cli("--json", "dead-letters", "retry", "--all", "--engagement", eng, "--destination", "psa")
    assert run.code == 0, run.err
    assert run.json()["delivery_ids"] == [psa.delivery_id]
    left = cli("--json", "dead-letters", "list", "--engagement", eng).json()["dead_letters"]
    assert [d["delivery_id"] for d in left] == [erp.delivery_id]
    nothing = cli("--json", "dead-letters", "retry", "--all", "--engagement", engagement()).json()
    assert nothing["delivery_ids"] == []


def test_retry_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("dead-letters", "retry").code == 2
    both = cli("dead-letters", "retry", "7", "--all")
    assert both.code == 2 and "--all" in both.err
    assert cli("dead-letters", "retry", "7", "--destination", "erp").code == 2
    assert cli("dead-letters", "retry", "--all", "--destination", "mainframe").code == 2


def test_deliveries_list_and_stats(cli: Cli, plant: Plant) -> None:
    eng = engagement()
    pending = plant(eng, Destination.PSA, Operation.PROVISION_PROJECT, dead=False)
    listed = cli("--json", "deliveries", "list", "--engagement", eng, "--status", "pending").json()
    assert [d["delivery_id"] for d in listed["deliveries"]] == [pending.delivery_id]

    table = cli("deliveries", "stats")
    assert table.code == 0, table.err
    assert "ERP" in table.out and "PSA" in table.out and "outbox lag" in table.out
    stats = cli("--json", "deliveries", "stats").json()
    psa = next(d for d in stats["destinations"] if d["destination"] == "DELIVERY_DESTINATION_PSA")
    assert psa["pending"] >= 1 and "outbox_lag" in stats


@pytest.fixture(scope="module")
def bare_target() -> Iterator[str]:
    """A gRPC server hosting nothing: every method is UNIMPLEMENTED."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(grace=None)


def test_a_server_without_delivery_service_is_not_available(
    bare_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--target", bare_target, "dead-letters", "list"]) == 8
    err = capsys.readouterr().err
    assert "not available on this server" in err and "q2c.v1.DeliveryService" in err
    assert main(["--target", bare_target, "deliveries", "stats"]) == 8
