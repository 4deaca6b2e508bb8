"""Scale-out: the same month-end on 1 Ray node / 2 shards and on 2 Ray nodes / 4 shards.

    python -m bench.scaling --engagements 400 --clients 32 --repeat 2

Each configuration gets a fresh `ray start` cluster (bench/multinode.py: one CPU per node), a
fresh PostgreSQL database and `server.py --ray-address ... --shards N` (auth on, no pacing).
The scenario (bench/multinode_load.py) loads one tenant's month with C concurrent clients
(commands/s acknowledged), then bills it in one bill run (invoices/s from StartBillRun to
SUCCEEDED), then checks invoices against the oracle (not timed). CPU seconds are read from
/proc for the gateway, each node's processes (its session) and this client, per phase.
Configurations alternate (1, 2, 1, 2, ...) so drift on the shared machine hits both alike.
Each run is appended as a JSON line to bench/results/scaling.jsonl; the ratios printed are
2-node figure over 1-node figure, medians over the repeats.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.lifecycle import DEFAULT_PG, RESULTS, fresh_database, machine, process_tree
from bench.multinode import RayCluster, ray_cluster
from bench.multinode_check import check
from bench.multinode_gateway import gateway
from bench.multinode_load import MonthEnd, plans
from bench.scaling_loadtool import load_tool_scenario
from q2c.v1 import billing_pb2
from q2c_core.edge.auth.devkey import create_dev_key

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """user+system CPU seconds of the live processes among `pids`."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all cores since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


class CpuMeter:
    """CPU spent by the gateway tree, each node and this process across one phase."""

    def __init__(self, cluster: RayCluster, gateway_pid: int) -> None:
        self.cluster, self.gateway_pid = cluster, gateway_pid

    def sample(self) -> dict[str, float]:
        """Cumulative CPU seconds now, by part."""
        busy, total = machine_busy()
        parts = {
            "gateway": cpu_seconds(process_tree(self.gateway_pid)),
            "client": time.process_time(),
            "machine_busy": busy / CLK_TCK,
            "machine_total": total / CLK_TCK,
        }
        for node in self.cluster.nodes:
            parts[node.label] = cpu_seconds(node.pids())
        return parts

    async def phase(self, work: Callable[[], Awaitable[Any]]) -> tuple[Any, float, dict[str, float]]:
        """Run `work`; (its result, wall seconds, CPU seconds by part)."""
        before, start = self.sample(), time.perf_counter()
        result = await work()
        wall, after = time.perf_counter() - start, self.sample()
        spent = {k: round(after[k] - before.get(k, 0.0), 2) for k in after}
        # every core's busy share over the phase (all processes: PostgreSQL and other work too)
        spent["machine_busy_share"] = round(spent.pop("machine_busy") / spent.pop("machine_total"), 2)
        return result, wall, spent


async def _billed(client: MonthEnd) -> billing_pb2.BillRun:
    run_id = await client.start_bill_run()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        run = await client.bill_run(run_id)
        if run.state not in (billing_pb2.BILL_RUN_STATE_PENDING, billing_pb2.BILL_RUN_STATE_RUNNING):
            return run
        await asyncio.sleep(0.05)  # polling the run's state until the deadline
    raise RuntimeError(f"bill run {run_id} did not finish")


async def scenario(
    cluster: RayCluster, url: str, key_dir: Path, shards: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Load, bill and check one tenant's month on a running cluster; the measured figures."""
    key = create_dev_key(key_dir)
    with gateway(cluster.address, url, key.directory, shards, deployment="scale") as gw:
        placed = {name: cluster.label_of(a["node_id"]) for name, a in cluster.actors("scale-shard-").items()}
        client = MonthEnd(gw.target, key, f"scale-{uuid.uuid4().hex[:8]}")
        await client.setup()
        meter = CpuMeter(cluster, gw.proc.pid)
        work = plans(args.seed, args.engagements, args.entries)
        _, load_wall, load_cpu = await meter.phase(lambda: client.load(work, args.clients))
        run, bill_wall, bill_cpu = await meter.phase(lambda: _billed(client))
        verdict = await check(client, work)
        lat = sorted(client.ledger.latencies)
        await client.close()
    return {
        "shard_nodes": placed,
        "commands": client.ledger.commands,
        "load_wall_s": round(load_wall, 2),
        "commands_per_s": round(client.ledger.commands / load_wall, 1),
        "p50_ms": round(lat[len(lat) // 2] * 1000, 1),
        "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 1),
        "load_cpu_s": load_cpu,
        "bill_run_state": billing_pb2.BillRunState.Name(run.state),
        "invoices": run.invoices_created,
        "bill_wall_s": round(bill_wall, 2),
        "invoices_per_s": round(run.invoices_created / bill_wall, 1),
        "bill_cpu_s": bill_cpu,
        "errors": dict(client.ledger.errors),
        "retries": dict(client.ledger.retries),
        "check_ok": verdict.ok,
    }


def one(nodes: int, shards: int, args: argparse.Namespace) -> dict[str, Any]:
    """A fresh cluster of `nodes` nodes and a fresh database; the scenario's record."""
    with (
        tempfile.TemporaryDirectory(prefix="q2c-scale-") as work,
        ray_cluster(workers=nodes - 1, pin=args.pin) as cluster,
        fresh_database("postgresql", args.pg_base) as url,
    ):
        if args.driver == "load":
            figures = asyncio.run(load_tool_scenario(cluster, url, Path(work), shards, args))
        else:
            figures = asyncio.run(scenario(cluster, url, Path(work) / "key", shards, args))
    return {"nodes": nodes, "shards": shards, "num_cpus_per_node": 1, "pinned": args.pin, **figures}


SHOWN = (
    "nodes",
    "shards",
    "commands_per_s",
    "invoices_per_s",
    "load_cpu_s",
    "bill_cpu_s",
    "run_cpu_s",
    "check_ok",
)


def configs(text: str) -> list[tuple[int, int]]:
    """Parse nodes:shards pairs: "1:2,2:4" gives [(1, 2), (2, 4)]."""
    pairs = [tuple(int(v) for v in item.split(":")) for item in text.split(",")]
    return [(n, s) for n, s in pairs]


def main(argv: list[str] | None = None) -> int:
    """Alternate the configurations, append each run to scaling.jsonl, print the ratios."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.scaling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--engagements", type=int, default=400, help="engagements in the month")
    parser.add_argument("--entries", type=int, default=6, help="time entries per engagement at most")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients while loading")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration (alternated)")
    parser.add_argument("--seed", type=int, default=15, help="seed of the generated month")
    parser.add_argument(
        "--configs", type=configs, default=[(1, 2), (2, 4)], help="nodes:shards pairs (default 1:2,2:4)"
    )
    parser.add_argument(
        "--driver",
        choices=("builtin", "load"),
        default="builtin",
        help="builtin: bench/multinode_load.py's month; load: q2c load (clients/load) with its defaults",
    )
    parser.add_argument(
        "--pin", action="store_true", help="pin node i to core i (taskset): one core per node, like a machine"
    )
    parser.add_argument("--pg-base", default=DEFAULT_PG, help="PostgreSQL server URL (no database)")
    args = parser.parse_args(argv)
    meta = machine() | {"command": " ".join(["python -m bench.scaling", *(argv or sys.argv[1:])])}
    runs: dict[tuple[int, int], list[dict[str, Any]]] = {c: [] for c in args.configs}
    for _ in range(args.repeat):
        for nodes, shards in args.configs:
            record = meta | {"scenario": vars(args) | {"configs": args.configs}} | one(nodes, shards, args)
            runs[(nodes, shards)].append(record)
            with (RESULTS / "scaling.jsonl").open("a") as out:
                out.write(json.dumps(record, sort_keys=True) + "\n")
            print(
                json.dumps(
                    {k: record[k] for k in SHOWN if k in record} | {"shard_nodes": record["shard_nodes"]}
                ),
                flush=True,
            )
    base = args.configs[0]
    for figure in ("commands_per_s", "invoices_per_s"):
        first = statistics.median(r[figure] for r in runs[base])
        for config in args.configs[1:]:
            other = statistics.median(r[figure] for r in runs[config])
            print(
                f"{figure}: {base[0]} node(s)/{base[1]} shards {first}, {config[0]} node(s)/{config[1]} "
                f"shards {other}, ratio {other / first:.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
