"""Lose a Ray node in the middle of a bill run, and show that nothing is lost or billed twice.

    python -m bench.multinode_run --engagements 200   # appends to bench/results/multinode-<date>.txt

A head (node_a) and a worker (node_b) started with `ray start` on this machine; a gateway with 4
shards (SPREAD) on a fresh PostgreSQL database, auth on (development key, minted tokens).
Tenant A's month is loaded, its bill run started (paced), and once part of it is done node_b is
killed (SIGKILL of every process of the node: a machine loss) while tenant B keeps sending
commands. Then: the shards that were on node_b are alive again on node_a, A's run SUCCEEDED,
B's run (started after the loss) SUCCEEDED, and for both tenants every acknowledged item is in
the store and billed, no engagement has two invoices, and every invoice total equals the
oracle's to the cent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.lifecycle import DEFAULT_PG, RESULTS, fresh_database
from bench.multinode import RayCluster, ray_cluster
from bench.multinode_check import Verdict, check, codes
from bench.multinode_gateway import gateway
from bench.multinode_load import MonthEnd, plans
from q2c.v1 import billing_pb2
from q2c_core.edge.auth.devkey import create_dev_key

DEPLOYMENT = "mn"


@dataclass(frozen=True)
class NodeLoss:
    """Sizes of the scenario (the test runs it small)."""

    engagements: int = 120
    background: int = 2000
    entries: int = 6
    clients: int = 8
    shards: int = 4
    seed: int = 15
    pacing: tuple[int, float] = (2, 0.3)
    kill_after: float = 0.25


async def _poll(what: str, check: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def placement(cluster: RayCluster, prefix: str) -> dict[str, tuple[str, str, int]]:
    """Actor name -> (node label, state, restarts)."""
    return {
        name: (cluster.label_of(a["node_id"]), a["state"], a["restarts"])
        for name, a in cluster.actors(prefix).items()
    }


async def _finished(client: MonthEnd, run_id: str, timeout: float) -> billing_pb2.BillRun:
    async def done() -> billing_pb2.BillRun | None:
        run = await client.bill_run(run_id)
        return (
            run
            if run.state not in (billing_pb2.BILL_RUN_STATE_PENDING, billing_pb2.BILL_RUN_STATE_RUNNING)
            else None
        )

    result: billing_pb2.BillRun = await _poll(f"bill run {run_id} to finish", done, timeout)
    return result


def _slowest(client: MonthEnd) -> float:
    """The longest wait for one acknowledgement (a command held while its shard restarted)."""
    return round(max(client.ledger.latencies, default=0.0), 2)


def _run_summary(run: billing_pb2.BillRun) -> dict[str, Any]:
    return {
        "state": billing_pb2.BillRunState.Name(run.state),
        "engagements_total": run.engagements_total,
        "invoices_created": run.invoices_created,
        "engagements_failed": run.engagements_failed,
        "failure_message": run.failure_message,
    }


async def node_loss(
    cluster: RayCluster, url: str, key_dir: Path, cfg: NodeLoss, say: Callable[[str], None]
) -> dict[str, Any]:
    """The scenario on a running cluster and an empty database; the result record."""
    key = create_dev_key(key_dir)
    result: dict[str, Any] = {"config": cfg.__dict__ | {"pacing": list(cfg.pacing)}}
    head, worker = cluster.nodes[0], cluster.nodes[1]
    with gateway(
        cluster.address, url, key.directory, cfg.shards, pacing=cfg.pacing, deployment=DEPLOYMENT
    ) as gw:
        before = await asyncio.to_thread(placement, cluster, f"{DEPLOYMENT}-shard-")
        say(f"shards before: {json.dumps(before, sort_keys=True)}")
        result["shards_before"] = before
        a = MonthEnd(gw.target, key, f"tenant-a-{uuid.uuid4().hex[:8]}")
        b = MonthEnd(gw.target, key, f"tenant-b-{uuid.uuid4().hex[:8]}")
        await a.setup()
        await b.setup()
        work_a = plans(cfg.seed, cfg.engagements, cfg.entries)
        work_b = plans(cfg.seed + 1, cfg.background, cfg.entries)
        stop_b = asyncio.Event()
        wall = await a.load(work_a, cfg.clients)
        say(f"tenant A loaded: {a.ledger.commands} commands acknowledged in {wall:.1f}s")
        run_id = await a.start_bill_run()
        background = asyncio.create_task(b.load(work_b, max(1, cfg.clients // 2), stop_b))

        async def under_way() -> bool:
            run = await a.bill_run(run_id)
            return run.engagements_processed >= cfg.kill_after * cfg.engagements

        await _poll("the bill run to get under way", under_way, 60, every=0.05)
        at_kill = await a.bill_run(run_id)
        killed = await asyncio.to_thread(cluster.kill_node, worker)
        t_kill = time.monotonic()
        coordinator = await asyncio.to_thread(cluster.actor_history, f"{DEPLOYMENT}-billrun-")
        say(
            f"killed {worker.label} ({killed} processes) at {at_kill.engagements_processed}/"
            f"{at_kill.engagements_total} engagements processed; coordinator: {coordinator}"
        )
        doomed = sorted(name for name, (label, _, _) in before.items() if label == worker.label)

        async def moved() -> dict[str, tuple[str, str, int]] | None:
            now = await asyncio.to_thread(placement, cluster, f"{DEPLOYMENT}-shard-")
            back = all(now[n][0] == head.label and now[n][1] == "ALIVE" for n in doomed)
            return now if back else None

        after = await _poll("the lost shards to restart on the surviving node", moved, 90, every=0.5)
        restart_s = time.monotonic() - t_kill
        say(f"shards after ({restart_s:.1f}s): {json.dumps(after, sort_keys=True)}")
        run_a = await _finished(a, run_id, 120)
        say(f"tenant A bill run: {_run_summary(run_a)}")
        coordinators = await asyncio.to_thread(cluster.actor_history, f"{DEPLOYMENT}-billrun-")
        say(f"coordinators of the run (name, node, state): {coordinators}")
        stop_b.set()  # B has sent commands from before the loss until after the recovery
        await background
        retried, slowest = codes(b.ledger.retries), _slowest(b)
        say(
            f"tenant B loaded across the loss: {b.ledger.commands} commands acknowledged, "
            f"retries {retried}, slowest acknowledgement {slowest}s"
        )
        run_b = await _finished(b, await b.start_bill_run(), 120)
        say(f"tenant B bill run: {_run_summary(run_b)}")
        verdicts: dict[str, Verdict] = {"A": await check(a, work_a), "B": await check(b, work_b)}
        for name, verdict in verdicts.items():
            say(f"tenant {name} check: {json.dumps(verdict.summary(), sort_keys=True)}")
        result |= {
            "coordinator_at_kill": coordinator,
            "coordinators_at_end": coordinators,
            "killed_node": worker.label,
            "killed_processes": killed,
            "at_kill": {"processed": at_kill.engagements_processed, "total": at_kill.engagements_total},
            "moved_shards": doomed,
            "shards_after": after,
            "restart_seconds": round(restart_s, 1),
            "run_a": _run_summary(run_a),
            "run_b": _run_summary(run_b),
            "checks": {name: v.summary() for name, v in verdicts.items()},
            "acked": {"A": a.ledger.commands, "B": b.ledger.commands},
            "retries": {"A": codes(a.ledger.retries), "B": codes(b.ledger.retries)},
            "final_errors": {"A": codes(a.ledger.errors), "B": codes(b.ledger.errors)},
            "failed_plans": {"A": len(a.ledger.failed_plans), "B": len(b.ledger.failed_plans)},
            "slowest_ack_s": {"A": _slowest(a), "B": _slowest(b)},
        }
        await a.close()
        await b.close()
    return result


def run(cfg: NodeLoss, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Start the cluster and a fresh PostgreSQL database, run the scenario, tear all down."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="q2c-mn-") as work, ray_cluster(workers=1) as cluster:
        say(
            f"cluster up in {time.monotonic() - started:.1f}s at {cluster.address}: "
            + ", ".join(f"{n.label}={n.node_id[:8]}" for n in cluster.nodes)
        )
        with fresh_database("postgresql", DEFAULT_PG) as url:
            result = asyncio.run(node_loss(cluster, url, Path(work) / "key", cfg, say))
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    say(f"done in {result['wall_seconds']}s")
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the scenario and write its output to bench/results/multinode-<date>.txt."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.multinode_run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--engagements", type=int, default=200, help="tenant A's engagements (billed while a node dies)"
    )
    parser.add_argument(
        "--background",
        type=int,
        default=2000,
        help="tenant B: engagements at most (loaded from run start to recovery)",
    )
    parser.add_argument("--entries", type=int, default=6, help="time entries per engagement at most")
    parser.add_argument("--seed", type=int, default=15, help="seed of the generated month")
    args = parser.parse_args(argv)
    cfg = NodeLoss(
        engagements=args.engagements, background=args.background, entries=args.entries, seed=args.seed
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"multinode-{datetime.now(UTC):%Y-%m-%d}.txt"
    command = " ".join(["python -m bench.multinode_run", *sys.argv[1:]])
    lines = [f"# {datetime.now(UTC).isoformat(timespec='seconds')} {command}"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    result = run(cfg, say)
    ok = (
        all(v["ok"] for v in result["checks"].values())
        and result["run_a"]["state"] == "BILL_RUN_STATE_SUCCEEDED"
    )
    say(f"verdict: {'PASS' if ok else 'FAIL'}")
    lines.append("result: " + json.dumps(result, sort_keys=True))
    with path.open("a") as out:
        out.write("\n".join(lines) + "\n\n")
    print(f"written to {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
