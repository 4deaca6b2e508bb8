"""A node lost in the middle of the bill run of `q2c load` (the month-end load tool).

    python -m bench.multinode_loadtool --engagements 120   # appends to bench/results/multinode-<date>.txt

The cluster and gateway are bench/multinode_run.py's: a head and a worker from `ray start`, 4
shards, a fresh PostgreSQL database, auth on, a paced bill run. Here the month is driven by
`python -m clients.load` as a user runs it (two principals' tokens in files, its own profile,
retries of UNAVAILABLE with the same request ids); once its bill run has processed a quarter of
its engagements the worker node is SIGKILLed. The load tool then finishes the month (bill run,
late time, issuing, payments) and runs its own correctness check: every invoice recomputed from
the scenario to the cent, nothing billed twice, no acknowledged effect lost or approved item
unbilled. Its exit code is 0 only when that check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from bench.lifecycle import DEFAULT_PG, RESULTS, fresh_database
from bench.multinode import RayCluster, ray_cluster, ray_env
from bench.multinode_gateway import ROOT, gateway
from bench.multinode_run import DEPLOYMENT, NodeLoss, _poll, placement
from q2c.v1 import billing_pb2, billing_pb2_grpc
from q2c_core.edge.auth.devkey import DevKey, create_dev_key


def start_load_tool(
    target: str, key: DevKey, tenant: str, work: Path, engagements: int, clients: int = 16
) -> subprocess.Popen[str]:
    """`python -m clients.load` against `target` as two principals of `tenant` (tokens in files)."""
    (work / "submitter.jwt").write_text(key.mint(tenant, "load-submitter"))
    (work / "approver.jwt").write_text(key.mint(tenant, "load-approver"))
    command = [
        sys.executable,
        "-m",
        "clients.load",
        f"--target={target}",
        f"--token-file={work / 'submitter.jwt'}",
        f"--approver-token-file={work / 'approver.jwt'}",
        f"--engagements={engagements}",
        f"--customers={max(1, engagements // 20)}",
        f"--clients={clients}",
        "--no-live",
        "--json",
        f"--report-dir={work / 'report'}",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ray_env()
    )


async def _running_run(target: str, token: str, fraction: float) -> billing_pb2.BillRun | None:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = billing_pb2_grpc.BillingServiceStub(channel)
        page = await stub.ListBillRuns(
            billing_pb2.ListBillRunsRequest(page_size=5),
            metadata=[("authorization", f"Bearer {token}")],
            timeout=10,
        )
    for run in page.bill_runs:
        total = run.engagements_total
        if (
            run.state == billing_pb2.BILL_RUN_STATE_RUNNING
            and total
            and run.engagements_processed >= fraction * total
        ):
            return run
    return None


async def node_loss(
    cluster: RayCluster, url: str, work: Path, cfg: NodeLoss, say: Callable[[str], None]
) -> dict[str, Any]:
    """Run the load tool, kill the worker node mid bill run, return what happened."""
    key = create_dev_key(work / "key")
    tenant = f"load-{uuid.uuid4().hex[:8]}"
    worker = cluster.nodes[1]
    with gateway(
        cluster.address, url, key.directory, cfg.shards, pacing=cfg.pacing, deployment=DEPLOYMENT
    ) as gw:
        before = await asyncio.to_thread(placement, cluster, f"{DEPLOYMENT}-shard-")
        say(f"shards before: {json.dumps(before, sort_keys=True)}")
        tool = start_load_tool(gw.target, key, tenant, work, cfg.engagements)
        reader = key.mint(tenant, "node-killer")

        async def under_way() -> billing_pb2.BillRun | None:
            if tool.poll() is not None:
                raise AssertionError(f"q2c load exited {tool.returncode} before its bill run got under way")
            return await _running_run(gw.target, reader, cfg.kill_after)

        at_kill = await _poll("the load tool's bill run to get under way", under_way, 600, every=0.1)
        killed = await asyncio.to_thread(cluster.kill_node, worker)
        say(
            f"killed {worker.label} ({killed} processes) at {at_kill.engagements_processed}/"
            f"{at_kill.engagements_total} engagements of the load tool's bill run"
        )
        started = time.monotonic()
        out, err = await asyncio.to_thread(tool.communicate, timeout=600)
        after = await asyncio.to_thread(placement, cluster, f"{DEPLOYMENT}-shard-")
        coordinators = await asyncio.to_thread(cluster.actor_history, f"{DEPLOYMENT}-billrun-")
    verdict = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    report = json.loads((work / "report" / "report.json").read_text()) if verdict else {}
    say(f"shards after: {json.dumps(after, sort_keys=True)}")
    say(f"coordinators of the run (name, node, state): {coordinators}")
    waited = time.monotonic() - started
    say(f"q2c load exited {tool.returncode} {waited:.1f}s after the kill; stderr: {err.strip()[-500:]!r}")
    say(f"q2c load bill run: {json.dumps(report.get('bill_run'), sort_keys=True)}")
    say(f"q2c load totals: {json.dumps(verdict.get('totals'), sort_keys=True)}")
    say(f"q2c load correctness: {json.dumps(verdict.get('correctness'), sort_keys=True)}")
    return {
        "exit_code": tool.returncode,
        "shards_before": before,
        "shards_after": after,
        "killed_node": worker.label,
        "at_kill": {"processed": at_kill.engagements_processed, "total": at_kill.engagements_total},
        "coordinators": coordinators,
        "bill_run": report.get("bill_run"),
        "totals": verdict.get("totals"),
        "correctness": verdict.get("correctness"),
        "retries": report.get("run", {}).get("server", {}).get("retries"),
    }


def main(argv: list[str] | None = None) -> int:
    """Run it once and append the output to bench/results/multinode-<date>.txt."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.multinode_loadtool",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--engagements", type=int, default=120, help="engagements of the load tool's month")
    args = parser.parse_args(argv)
    cfg = NodeLoss(engagements=args.engagements)
    command = " ".join(["python -m bench.multinode_loadtool", *sys.argv[1:]])
    lines = [f"# {datetime.now(UTC).isoformat(timespec='seconds')} {command}"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    start = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="q2c-mnl-") as work,
        ray_cluster(workers=1) as cluster,
        fresh_database("postgresql", DEFAULT_PG) as url,
    ):
        say(
            f"cluster at {cluster.address}: " + ", ".join(f"{n.label}={n.node_id[:8]}" for n in cluster.nodes)
        )
        result = asyncio.run(node_loss(cluster, url, Path(work), cfg, say))
    ok = result["exit_code"] == 0 and (result["correctness"] or {}).get("passed") is True
    say(f"done in {time.monotonic() - start:.1f}s; verdict: {'PASS' if ok else 'FAIL'}")
    lines.append("result: " + json.dumps(result, sort_keys=True))
    path = RESULTS / f"multinode-{datetime.now(UTC):%Y-%m-%d}.txt"
    with path.open("a") as out:
        out.write("\n".join(lines) + "\n\n")
    print(f"written to {path}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
