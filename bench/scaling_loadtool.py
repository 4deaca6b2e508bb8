"""bench/scaling.py's scenario driven by `q2c load` (python -m clients.load) instead of the
built-in month: the load tool's profile, closed loop, its report.json figures and its check."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import uuid
from pathlib import Path
from typing import Any

from bench.multinode import RayCluster
from bench.multinode_gateway import gateway
from bench.multinode_loadtool import start_load_tool
from q2c_core.edge.auth.devkey import create_dev_key


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def load_tool_scenario(
    cluster: RayCluster, url: str, work: Path, shards: int, args: argparse.Namespace
) -> dict[str, Any]:
    """One `q2c load` run (month, bill run, issuing, payments, check) against a fresh gateway."""
    from bench.scaling import CpuMeter  # bench.scaling imports this module

    key = create_dev_key(work / "key")
    with gateway(cluster.address, url, key.directory, shards, deployment="scale") as gw:
        placed = {name: cluster.label_of(a["node_id"]) for name, a in cluster.actors("scale-shard-").items()}
        meter = CpuMeter(cluster, gw.proc.pid)
        tenant = f"scale-{uuid.uuid4().hex[:8]}"

        async def run_tool() -> tuple[int, str, str, float]:
            before = _children_cpu()
            tool = start_load_tool(gw.target, key, tenant, work, args.engagements, args.clients)
            out, err = await asyncio.to_thread(tool.communicate, timeout=3600)
            return tool.returncode, out, err, _children_cpu() - before

        (code, _, err, tool_cpu), wall, cpu = await meter.phase(run_tool)
    if code not in (0, 9):
        raise RuntimeError(f"q2c load exited {code}: {err[-2000:]}")
    report = json.loads((work / "report" / "report.json").read_text())
    totals, bill = report["totals"], report["bill_run"] or {}
    overall = report["overall"]["latency_ms"]
    return {
        "driver": "q2c load",
        "shard_nodes": placed,
        "commands": totals["commands"],
        "load_wall_s": totals["duration_s"],
        "commands_per_s": totals["throughput_per_s"],
        "p50_ms": overall.get("p50"),
        "p99_ms": overall.get("p99"),
        "run_wall_s": round(wall, 2),
        "run_cpu_s": cpu | {"load_tool": round(tool_cpu, 2)},
        "bill_run_state": bill.get("state"),
        "invoices": bill.get("invoices"),
        "bill_wall_s": bill.get("duration_s"),
        "invoices_per_s": bill.get("invoices_per_s"),
        "errors": totals["errors_by_code"],
        "check_ok": (report.get("correctness") or {}).get("passed") is True,
    }
