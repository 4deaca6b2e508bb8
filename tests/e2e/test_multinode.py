"""q2c on a two-node Ray cluster (`ray start` head + worker on this machine, PostgreSQL, auth on):
shards spread over both nodes; the worker node is killed in the middle of a bill run.

The cluster, gateway and database are the test's own (own ports, own Ray temp dir, a fresh
database dropped afterwards), beside the session's shared Ray; bench/multinode_run.py is the
same scenario at a larger size, recording its output under bench/results/.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.multinode_run import NodeLoss, run

pytestmark = pytest.mark.multinode
SUCCEEDED = "BILL_RUN_STATE_SUCCEEDED"


@pytest.fixture(scope="module")
def node_loss() -> dict[str, Any]:
    """The scenario at test size: 60 engagements billed while node_b dies, tenant B loading."""
    lines: list[str] = []
    result = run(NodeLoss(engagements=60, entries=4, clients=8), lines.append)
    print("\n".join(lines))
    return result


def test_spread_places_shards_on_both_nodes(node_loss: dict[str, Any]) -> None:
    nodes = {label for label, state, _ in node_loss["shards_before"].values() if state == "ALIVE"}
    assert nodes == {"node_a", "node_b"}, node_loss["shards_before"]


def test_the_shards_of_the_lost_node_restart_on_the_surviving_node(node_loss: dict[str, Any]) -> None:
    moved = node_loss["moved_shards"]
    assert moved and node_loss["killed_node"] == "node_b"
    for name in moved:
        label, state, restarts = node_loss["shards_after"][name]
        assert (label, state) == ("node_a", "ALIVE") and restarts >= 1, (name, label, state, restarts)


def test_the_bill_run_under_way_when_the_node_died_succeeds_and_invoices_everyone(
    node_loss: dict[str, Any],
) -> None:
    at_kill, run_a = node_loss["at_kill"], node_loss["run_a"]
    assert 0 < at_kill["processed"] < at_kill["total"] == 60  # the node died mid-run
    assert run_a["state"] == SUCCEEDED, run_a
    assert (run_a["invoices_created"], run_a["engagements_failed"]) == (60, 0)
    assert node_loss["run_b"]["state"] == SUCCEEDED, node_loss["run_b"]


def test_no_acknowledged_command_is_lost_and_nothing_is_billed_twice(node_loss: dict[str, Any]) -> None:
    for tenant, verdict in node_loss["checks"].items():
        assert verdict["acknowledged_items_lost"] == 0, (tenant, verdict)
        assert verdict["engagements_invoiced_twice"] == 0, (tenant, verdict)
        assert verdict["engagements_not_invoiced"] == 0, (tenant, verdict)
        assert verdict["approved_items_unbilled"] == 0, (tenant, verdict)
    assert node_loss["failed_plans"] == {"A": 0, "B": 0}, node_loss["final_errors"]
    assert node_loss["checks"]["B"]["engagements_checked"] > 0
    # B kept sending while node_b was down: commands for its shards waited for their restart
    assert node_loss["slowest_ack_s"]["B"] > 1.0, node_loss["slowest_ack_s"]


def test_every_invoice_total_equals_the_oracle_to_the_cent(node_loss: dict[str, Any]) -> None:
    for tenant, verdict in node_loss["checks"].items():
        assert verdict["totals_mismatched"] == 0, (tenant, verdict)
        assert verdict["oracle_total"] == verdict["invoiced_total"], (tenant, verdict)
        assert verdict["ok"], (tenant, verdict)


def test_the_coordinator_runs_on_the_gateways_node_so_a_lost_worker_never_takes_it(
    node_loss: dict[str, Any],
) -> None:
    # The gateway joined the cluster through node_a's raylet; coordinators are pinned to its node.
    assert node_loss["coordinator_at_kill"], node_loss
    assert {node for _, node, _ in node_loss["coordinator_at_kill"]} == {"node_a"}, node_loss
    assert {node for _, node, _ in node_loss["coordinators_at_end"]} == {"node_a"}, node_loss
