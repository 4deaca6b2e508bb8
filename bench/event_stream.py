"""Event-stream benchmark: replay every event from position 0 to one gRPC subscriber.

    python -m bench.event_stream --db sqlite     --events 50000
    python -m bench.event_stream --db postgresql --events 50000

Creates a fresh database (a SQLite file in a temp dir, or ``q2c_bench_<hex>`` on PostgreSQL,
dropped afterwards whatever happens), seeds it with enough billable engagements through the
real EngagementHost (``bench/seed.py``: ~12 events each, realistic payloads; not timed), runs
ANALYZE on PostgreSQL, starts ``server.py --local`` as a subprocess, then subscribes with
``EventService.SubscribeEvents(after_position=0, follow=false)`` ``--runs`` times and reports
events/s (events received / time from the call to the end of the stream), the time to the first
event, and the CPU used by the client and by the server process during each replay.

The client is the blocking grpcio stub (its C-core iterator costs less CPU per message than the
grpc.aio one), with a 120 s deadline. Results are appended as JSON lines to
``bench/results/event-stream-<db>.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc

from bench.lifecycle import CLK_TCK, DEFAULT_PG, ROOT, fresh_database, machine
from bench.seed import TENANT, seed
from q2c.v1 import event_pb2, event_pb2_grpc
from q2c_core.edge.auth.devkey import DevKey, create_dev_key

RESULTS = Path(__file__).resolve().parent / "results"
EVENTS_PER_ENGAGEMENT = 12
"""What bench/seed.py writes per engagement (11 commands, one adds an auto-corrected exception)."""


def _analyze(url: str) -> None:
    """Fresh PostgreSQL databases have no planner statistics until autovacuum runs."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


@contextlib.contextmanager
def local_server(url: str, log_path: Path, key: DevKey) -> Iterator[tuple[str, int]]:
    """``server.py --local`` (in-process runtime, no Ray) on a free port: (target, pid)."""
    command = [sys.executable, "server.py", "--local", "--port", "0", "--database-url", url]
    command += ["--dev-key-dir", str(key.directory)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("Q2C_")}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [*command, "--log-level", "WARNING"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            target = next((ln.split()[-1] for ln in proc.stdout if ln.startswith("q2c listening on")), None)
            if target is None:
                raise SystemExit(f"server did not start (exit {proc.poll()}); see {log_path}")
            yield target, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _cpu_s(pid: int) -> float:
    """utime + stime of one process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def replay(target: str, server_pid: int, key: DevKey) -> dict[str, Any]:
    """One full replay from position 0; its figures."""
    metadata = (("authorization", f"Bearer {key.mint(TENANT, 'bench', ['events:read'])}"),)
    with grpc.insecure_channel(target, options=[("grpc.max_receive_message_length", 16 << 20)]) as channel:
        stub = event_pb2_grpc.EventServiceStub(channel)
        grpc.channel_ready_future(channel).result(timeout=30)
        server_cpu, client_cpu = _cpu_s(server_pid), time.process_time()
        started = time.perf_counter()
        first_at, count, last_position, in_order = 0.0, 0, 0, True
        request = event_pb2.SubscribeEventsRequest(after_position=0, follow=False)
        for event in stub.SubscribeEvents(request, metadata=metadata, timeout=120):
            if count == 0:
                first_at = time.perf_counter() - started
            in_order = in_order and event.position > last_position
            last_position = event.position
            count += 1
        wall = time.perf_counter() - started
    return {
        "events": count,
        "wall_s": round(wall, 3),
        "events_per_s": round(count / wall, 1),
        "first_event_ms": round(first_at * 1000, 1),
        "in_position_order": in_order,
        "cpu_s": {
            "client": round(time.process_time() - client_cpu, 2),
            "server": round(_cpu_s(server_pid) - server_cpu, 2),
        },
    }


def run(args: argparse.Namespace) -> int:
    """Seed, serve, replay `--runs` times, record."""
    engagements = math.ceil(args.events / EVENTS_PER_ENGAGEMENT)
    with fresh_database(args.db, args.pg_url) as url:
        seeding = time.perf_counter()
        asyncio.run(seed(url, engagements, log=lambda line: print(line, file=sys.stderr)))
        seed_s = time.perf_counter() - seeding
        if args.db == "postgresql":
            _analyze(url)
        log_path = Path(f"/tmp/q2c-bench-event-stream-{args.db}.log")
        with tempfile.TemporaryDirectory(prefix="q2c-bench-key-") as keys:
            key = create_dev_key(Path(keys) / "dev-key")
            with local_server(url, log_path, key) as (target, pid):
                runs = [replay(target, pid, key) for _ in range(args.runs)]
    counts = {r["events"] for r in runs}
    if len(counts) != 1 or not all(r["in_position_order"] for r in runs):
        print(f"inconsistent replays: {runs}", file=sys.stderr)
        return 1
    rates = [r["events_per_s"] for r in runs]
    record = {
        **machine(),
        "command": shlex.join(["python", "-m", "bench.event_stream", *sys.argv[1:]]),
        "benchmark": "event_stream",
        "db": args.db,
        "engagements": engagements,
        "events": counts.pop(),
        "seed_s": round(seed_s, 1),
        "runs": runs,
        "events_per_s_median": statistics.median(rates),
        "events_per_s_best": max(rates),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / f"event-stream-{args.db}.jsonl").open("a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")
    print(json.dumps({k: record[k] for k in ("db", "events", "events_per_s_median", "events_per_s_best")}))
    for r in runs:
        line = f"{r['events']} events in {r['wall_s']} s = {r['events_per_s']}/s"
        print(f"  {line}, first after {r['first_event_ms']} ms, cpu {r['cpu_s']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL server (no database name)")
    parser.add_argument("--events", type=int, default=50_000, help="at least this many events are seeded")
    parser.add_argument("--runs", type=int, default=3, help="replays from 0 against the same server")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
