"""The long fuzz run: >= 10,000 hostile requests against server.py, with every invariant checked.

    python -m bench.fuzz --db sqlite --requests 12000 --seed 20261122
    python -m bench.fuzz --db postgresql --requests 12000 --seed 20261122

Starts ``server.py`` as a subprocess on a fresh database (bench.lifecycle.fresh_database: a
SQLite file in a temp dir, or ``q2c_bench_<hex>`` on PostgreSQL, dropped afterwards), trusting a
development key created for the run; the fuzzer (tests.fuzz.fuzzer) mints tokens from it for
one tenant, seeds real entities through the API, sends the requests across every RPC of every
q2c.v1 service and checks the invariants: no INTERNAL/UNKNOWN/DATA_LOSS, the server still
answers health, every seeded entity is readable, the audit chain verifies, and the database has
no half-written rows. Failures matching a known bug (tests.fuzz.known_bugs) are counted apart.

One JSON line per run is appended to ``bench/results/fuzz.jsonl``: counts per status code
(overall and per RPC), requests/s, the seed, the exact command, failures and problems. Exits 1 on
any failure or invariant problem.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from bench.lifecycle import DEFAULT_PG, fresh_database, running_server
from q2c_core.edge.auth.devkey import DevKey, create_dev_key
from tests.fuzz.fuzzer import FuzzConfig, FuzzReport, describe, fuzz

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "fuzz.jsonl"
MAX_MESSAGE = 64 * 1024 * 1024
"""The client may receive replies this large, so an oversized reply shows as what it is."""


def git_state() -> tuple[str, bool]:
    """(short commit, whether the working tree has uncommitted changes)."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    return commit.stdout.strip(), bool(dirty.stdout.strip())


async def run(target: str, key: DevKey, args: argparse.Namespace, url: str) -> FuzzReport:
    """Fuzz the server at `target` as one fresh tenant."""
    tenant = f"fuzz-{uuid.uuid4().hex[:12]}"
    config = FuzzConfig(
        seed=args.seed,
        requests=args.requests,
        concurrency=args.concurrency,
        database_url=url,
        tenant_id=tenant,
    )
    options = [("grpc.max_receive_message_length", MAX_MESSAGE)]
    async with grpc.aio.insecure_channel(target, options=options) as channel:
        return await fuzz(
            channel, lambda principal: (("authorization", f"Bearer {key.mint(tenant, principal)}"),), config
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL server (no database name)")
    parser.add_argument("--requests", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--local", action="store_true", help="server.py --local (no Ray)")
    parser.add_argument("--server-arg", action="append", default=[], help="extra server.py flag (repeatable)")
    args = parser.parse_args(argv)
    command = "python -m bench.fuzz " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    with (
        tempfile.TemporaryDirectory(prefix="q2c-fuzz-") as workdir,
        fresh_database(args.db, args.pg_url) as url,
    ):
        key = create_dev_key(Path(workdir) / "dev-key")
        extra = ["--dev-key-dir", str(key.directory), *(["--local"] if args.local else []), *args.server_arg]
        log_path = Path(workdir) / "server.log"
        with running_server(url, args.shards, log_path, None, extra) as (target, _pid):
            report = asyncio.run(run(target, key, args, url))
        log_tail = log_path.read_text()[-3000:] if not report.ok else ""
    print(describe(report, limit=20))
    record = result_line(report, args, command)
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a") as out:
        out.write(json.dumps(record) + "\n")
    print(
        f"{report.requests} requests in {report.seconds:.1f} s ({report.requests_per_second:.0f}/s); "
        f"appended to {RESULTS.relative_to(ROOT)}"
    )
    if not report.ok:
        print("server log (end):\n" + log_tail, file=sys.stderr)
        return 1
    return 0


def result_line(report: FuzzReport, args: argparse.Namespace, command: str) -> dict[str, Any]:
    """The JSON line for bench/results/fuzz.jsonl."""
    commit, dirty = git_state()
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "dirty": dirty,
        "db": args.db,
        "runtime": "local" if args.local else f"ray ({args.shards} shards)",
        "concurrency": args.concurrency,
        "command": command,
        **report.summary(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
