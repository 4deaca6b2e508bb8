"""Shard CPU per Ray call: the month-end mix sent to one EngagementShard actor, one call at a time.

    python -m bench.shard_call --batches 1,8 --engagements 64 --rounds 3

A fresh SQLite database (or `--db postgresql`) gets one customer and one rate card; one
`EngagementShard` actor (one Ray worker process) over it receives bench/decide.py's mix (the 15
commands of bench/compare.py's month per engagement), `--batch` engagements per
`execute_encoded` call, one call in flight at a time (what a gateway's ShardLane sends). For each
batch size, each round takes fresh engagements through the whole mix. The figure is the shard
process's CPU (user + system of every thread, from /proc) per Ray call and per command, so it
can be compared on a loaded machine where wall time cannot; it holds the whole call: Ray's task
receipt and reply, the wire codec, the host's hand-over and the pipeline, commit included.
Compare code versions by running this file from each version's tree, interleaved.
`--callgrind DIR` runs the shard actor under valgrind's callgrind (Ray's py_executable), zeroes
its counters before each round and dumps them after it: instructions per call (every thread of
the process), which do not move with what else runs on the machine, except for Ray's periodic
work in the shard's own threads, which grows with the (much longer) wall time under callgrind:
the instructions of an idle shard per second, measured for `--idle-seconds` first, times the
round's wall time are taken off for `net_instructions_per_call`.
Results are appended as JSON lines to bench/results/shard_call.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.compare import plans
from bench.decide import Setup, mix, reference_data
from bench.lifecycle import DEFAULT_PG, cpu_seconds, fresh_database, machine
from q2c_core.adapters.store import Store
from q2c_core.app.catalog import Catalog
from q2c_core.app.messages import CommandEnvelope

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "shard_call.jsonl"
TENANT = "bench"


def seeded(url: str) -> Setup:
    """One customer (tax rate 0) and one rate card of RATES in the store at `url`."""
    store = Store.open(url)
    ids = reference_data(Catalog(store))
    store.close()
    return Setup(store, *ids)  # type: ignore[arg-type]


def callgrind_totals(pid: int, cg_dir: Path, label: str) -> int:
    """Dump the shard's callgrind counters now; the instructions since they were last zeroed."""
    subprocess.run(["callgrind_control", f"--dump={label}", str(pid)], check=True, capture_output=True)
    dump = max(cg_dir.glob(f"cg.{pid}.*"), key=lambda p: p.stat().st_mtime)
    totals = [line for line in dump.read_text().splitlines() if line.startswith(("totals:", "summary:"))]
    return int(totals[0].split()[1])


def idle_rate(pid: int, cg_dir: Path, seconds: float) -> float:
    """Instructions per second of the shard doing nothing (Ray's timers, the periodic sweep)."""
    subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    started = time.perf_counter()
    time.sleep(seconds)  # measuring what an idle shard does meanwhile
    return callgrind_totals(pid, cg_dir, "idle") / (time.perf_counter() - started)


def one_round(
    shard: Any,
    pid: int,
    s: Setup,
    batch: int,
    engagements: int,
    seed: int,
    cg: tuple[Path, float] | None = None,
) -> dict[str, float]:
    """Fresh engagements through the mix, `batch` per call; shard CPU and wall per call."""
    import ray

    from actors import wire

    steps = mix(s)
    work = plans(seed, "shard", engagements)
    ids = [f"eng-{uuid.uuid4().hex[:8]}-{p.n:05d}" for p in work]
    calls = commands = 0
    if cg is not None:
        subprocess.run(["callgrind_control", "-z", str(pid)], check=True, capture_output=True)
    cpu_before, started = cpu_seconds(pid), time.perf_counter()
    for first in range(0, engagements, batch):
        group = list(zip(ids[first : first + batch], work[first : first + batch], strict=True))
        for step in steps:
            envelopes: list[CommandEnvelope] = [step(eid, plan) for eid, plan in group]
            results = wire.decode(ray.get(shard.execute_encoded.remote(wire.encode(envelopes))))
            failed = [r.error for r in results if r.error is not None]
            assert not failed, failed[:1]
            calls += 1
            commands += len(envelopes)
    wall, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
    instructions = callgrind_totals(pid, cg[0], f"b{batch}-s{seed}") if cg is not None else 0
    background = cg[1] * wall if cg is not None else 0
    return {
        "calls": calls,
        "instructions_per_call": instructions / calls,
        "net_instructions_per_call": (instructions - background) / calls,
        "cpu_us_per_call": cpu / calls * 1e6,
        "cpu_us_per_command": cpu / commands * 1e6,
        "wall_us_per_call": wall / calls * 1e6,
    }


def run(
    url: str, batches: list[int], engagements: int, rounds: int, cg_dir: Path | None, idle_seconds: float
) -> list[dict[str, Any]]:
    """Every batch size's rounds against one shard actor, interleaved round by round."""
    import ray

    from actors.shard import EngagementShard

    s = seeded(url)
    if cg_dir is not None:  # a worker starting under callgrind on a busy machine takes minutes
        os.environ.setdefault("RAY_worker_register_timeout_seconds", "900")
    ray.init(num_cpus=2, include_dashboard=False, namespace="q2c-bench", log_to_driver=False)
    options: dict[str, Any] = {"name": f"shard-call-{uuid.uuid4().hex[:6]}"}
    if cg_dir is not None:
        valgrind = f"valgrind --tool=callgrind --callgrind-out-file={cg_dir}/cg.%p {sys.executable}"
        options["runtime_env"] = {"py_executable": valgrind}
    shard: Any = EngagementShard.options(**options).remote(url, 0)  # type: ignore[attr-defined]
    pid = ray.get(shard.stats.remote())["pid"]
    one_round(shard, pid, s, 8, 16, 0)  # warm-up: imports, caches, the store's statements
    cg = (cg_dir, idle_rate(pid, cg_dir, idle_seconds)) if cg_dir is not None else None
    found: dict[int, list[dict[str, float]]] = {b: [] for b in batches}
    for n in range(rounds):
        for batch in batches:
            found[batch].append(one_round(shard, pid, s, batch, engagements, n + 1, cg))
    ray.kill(shard)
    ray.shutdown()
    rows = []
    for batch, figures in found.items():
        cpu = [f["cpu_us_per_call"] for f in figures]
        rows.append(
            {
                "batch": batch,
                "calls_per_round": figures[0]["calls"],
                "cpu_us_per_call": [round(c) for c in cpu],
                "instructions_per_call": [round(f["instructions_per_call"]) for f in figures],
                "net_instructions_per_call": [round(f["net_instructions_per_call"]) for f in figures],
                "idle_instructions_per_second": round(cg[1]) if cg is not None else 0,
                "cpu_us_per_call_median": round(statistics.median(cpu)),
                "cpu_us_per_command_median": round(
                    statistics.median(f["cpu_us_per_command"] for f in figures)
                ),
                "wall_us_per_call_median": round(statistics.median(f["wall_us_per_call"] for f in figures)),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Measure, print and append one JSON line per batch size."""
    parser = argparse.ArgumentParser(prog="python -m bench.shard_call", description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-base", default=DEFAULT_PG)
    parser.add_argument("--batches", default="1,8", help="engagements (commands) per Ray call")
    parser.add_argument("--engagements", type=int, default=64, help="engagements per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--label", default="")
    parser.add_argument(
        "--callgrind", default="", help="run the shard under callgrind, dumps in this directory"
    )
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="callgrind: the idle shard's time")
    args = parser.parse_args(argv)
    batches = [int(b) for b in args.batches.split(",")]
    cg_dir = Path(args.callgrind).resolve() if args.callgrind else None
    if cg_dir is not None:
        cg_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        if args.db == "sqlite":
            rows = run(
                f"sqlite:///{scratch}/shard.db",
                batches,
                args.engagements,
                args.rounds,
                cg_dir,
                args.idle_seconds,
            )
        else:
            with fresh_database("postgresql", args.pg_base) as url:
                rows = run(url, batches, args.engagements, args.rounds, cg_dir, args.idle_seconds)
    context = {**machine(), "db": args.db, "label": args.label, "engagements": args.engagements}
    context["callgrind"] = bool(cg_dir)
    context["command"] = context["command"].replace("bench.lifecycle", "bench.shard_call")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        for row in rows:
            print(json.dumps({**row, "label": args.label}), flush=True)
            out.write(json.dumps({**row, **context}, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
