"""Store.commit benchmark: the CPU one group-committed batch costs the shard, per command.

    python -m bench.store_commit --db sqlite,postgresql --commands 1,16 --batches 300 --label before

Each batch is shaped like the host's group commit of C accepted commands on C different
engagements: C events (one per command, ~0.5 KB payload), C audit entries naming them, C
idempotency records, C engagement read-model rows (columns only, except a full ~2 KB snapshot
when an engagement's stored snapshot is SNAPSHOT_EVERY versions behind, as the host writes it).
Engagements are drawn round-robin from a pool of 4 x C, so every stream keeps growing, unless
`--lifetime N` retires each after N commands for a new one (new streams: a creation snapshot and
an audit head nobody has seen yet, as engagements come and go in the month-end mix). The
database is fresh: a SQLite file (synchronous=full, the default) in a temp dir, or a PostgreSQL
database `q2c_bench_<hex>` created for the run and dropped afterwards.

Reported per (db, C): CPU µs per command (time.process_time of this process, which is all the
client-side work of a commit: SQLAlchemy, the driver, hashing; of which the kernel's share, e.g.
SQLite's WAL writes and fsync, is also given), wall ms per batch (p50, mean, p99; includes
fsync), and on PostgreSQL how long each transaction held the event-order lock (from granted to
the commit's end: the window every event-writing transaction is serialized on). With
`--writers W`, W processes commit at once (as shards do, each on its own engagements of the
same tenant) and commands/s is their aggregate. `--profile DIR` also writes a cProfile of the
timed batches (one writer). `--instructions DIR` counts the instructions the timed batches take
(one writer, run under callgrind; the same figure whatever else runs on the machine):

    valgrind --tool=callgrind --trace-children=no --callgrind-out-file=/tmp/cg/callgrind.out.%p \
        python -m bench.store_commit --db sqlite --commands 1,16 --batches 200 --lifetime 15 \
        --instructions /tmp/cg --no-save
Results are appended as JSON lines to bench/results/store-commit.jsonl.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import event

from bench.callgrind import counters
from q2c_core.adapters.store import (
    AuditEntry,
    EngagementRow,
    EventRecord,
    IdempotencyRecord,
    Store,
    WriteBatch,
)
from q2c_core.adapters.store.database import sqlite_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "store-commit.jsonl"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"
TENANT = "tenant-bench"
SNAPSHOT_EVERY = 8
T0 = datetime(2026, 11, 1, 9, 0, 0, tzinfo=UTC)
LIFETIME = 0


@contextlib.contextmanager
def fresh_database(db: str, pg_base: str) -> Iterator[str]:
    """A URL for a brand-new database; removed afterwards, even on failure."""
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="q2c-bench-commit-") as workdir:
            yield sqlite_url(f"sqlite:///{workdir}/q2c.db", "full")
        return
    import psycopg

    name = f"q2c_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{pg_base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg_base}/{name}"
    finally:
        with psycopg.connect(f"{pg_base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Workload:
    """Builds the batches: C commands on C distinct engagements of a pool of 4 x C; after
    `lifetime` commands (0: never) an engagement is done and a new one takes its place."""

    def __init__(self, commands: int, lifetime: int = 0) -> None:
        self.commands = commands
        self.lifetime = lifetime
        self.pool = [f"eng-{uuid.uuid4().hex[:12]}" for _ in range(4 * commands)]
        self.version = dict.fromkeys(self.pool, 0)
        self.snapshot_at = dict.fromkeys(self.pool, 0)
        self.next = 0
        self.requests = 0

    def batch(self) -> WriteBatch:
        """The next group-committed batch."""
        batch = WriteBatch()
        for _ in range(self.commands):
            slot = self.next % len(self.pool)
            eid = self.pool[slot]
            self.next += 1
            self._command(batch, eid)
            if self.version[eid] == self.lifetime:
                self.pool[slot] = fresh = f"eng-{uuid.uuid4().hex[:12]}"
                self.version[fresh] = self.snapshot_at[fresh] = 0
        return batch

    def _command(self, batch: WriteBatch, eid: str) -> None:
        self.version[eid] += 1
        seq = self.version[eid]
        now = T0 + timedelta(milliseconds=self.next)
        self.requests += 1
        request_id = f"req-{self.requests:09d}-{uuid.uuid4().hex[:8]}"
        event = EventRecord(
            tenant_id=TENANT,
            stream_id=eid,
            seq=seq,
            event_type="TimeEntriesSubmitted",
            payload=_event_payload(eid, seq),
            principal="alice@example.com",
            correlation_id=f"corr-{self.requests}",
            request_id=request_id,
            occurred_at=now,
        )
        batch.events.append(event)
        batch.audit.append(
            AuditEntry(
                tenant_id=TENANT,
                stream_id=eid,
                principal="alice@example.com",
                command_type="SubmitTimeEntries",
                request_id=request_id,
                correlation_id=event.correlation_id,
                payload_digest="d" * 64,
                outcome="ACCEPTED",
                event_ids=(event.event_id,),
                recorded_at=now,
            )
        )
        batch.idempotency.append(
            IdempotencyRecord(
                tenant_id=TENANT,
                request_id=request_id,
                stream_id=eid,
                command_type="SubmitTimeEntries",
                payload_digest="d" * 64,
                response={"engagement": None, "event_ids": [event.event_id], "version": seq, "error": None},
                created_at=now,
            )
        )
        snapshot = None
        if seq == 1 or seq - self.snapshot_at[eid] >= SNAPSHOT_EVERY:
            self.snapshot_at[eid] = seq
            snapshot = _snapshot(eid, seq)
        batch.engagements.append(
            EngagementRow(
                tenant_id=TENANT,
                engagement_id=eid,
                customer_id="cust-1",
                display_name=f"Engagement {eid}",
                state="ACTIVE",
                version=seq,
                snapshot=snapshot,
                create_time=T0,
                update_time=now,
                currency="USD",
            )
        )


def _event_payload(eid: str, seq: int) -> dict[str, Any]:
    entries = [
        {
            "entry_id": f"te-{seq}-{i}",
            "worker_id": f"worker-{i}",
            "role": "consultant",
            "work_date": "2026-11-02",
            "hours": "7.50",
            "description": "implementation work on the ledger integration",
        }
        for i in range(3)
    ]
    return {"engagement_id": eid, "entries": entries}


def _snapshot(eid: str, seq: int) -> dict[str, Any]:
    return {
        "engagement_id": eid,
        "version": seq,
        "state": "ACTIVE",
        "contract": {"currency": "USD", "rate_card_id": "rc-1", "cap": "100000.00"},
        "time_entries": [
            {"entry_id": f"te-{n}", "hours": "7.50", "state": "SUBMITTED", "role": "consultant"}
            for n in range(12)
        ],
        "history": [f"event-{n}" for n in range(seq)][-20:],
    }


def commit_loop(
    url: str,
    commands: int,
    batches: int,
    warmup: int,
    profile: Path | None = None,
    start: Any = None,
    instructions: Path | None = None,
) -> dict[str, Any]:
    """One writer: commit warmup + batches batches on its own engagements; time the last ones."""
    store = Store.open(url, migrate=False)
    try:
        work = Workload(commands, LIFETIME)
        for _ in range(warmup):
            store.commit(work.batch())
        prepared = [work.batch() for _ in range(batches)]  # building them is not the commit's cost
        if start is not None:
            start.wait()  # every writer starts its timed batches together
        walls: list[float] = []
        locked: list[float] = []  # PostgreSQL: from the event-order lock granted to the commit's end
        granted = _watch_order_lock(store)
        profiler = cProfile.Profile() if profile else None
        began, cpu0, usage0 = time.time(), time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
        if profiler:
            profiler.enable()
        if instructions:
            counters("-z", instructions)
        for batch in prepared:
            t0 = time.perf_counter()
            granted.clear()
            store.commit(batch)
            walls.append(time.perf_counter() - t0)
            if granted:
                locked.append(time.perf_counter() - granted[0])
        counted = counters("-d", instructions) if instructions else None
        if profiler:
            profiler.disable()
        cpu, usage = time.process_time() - cpu0, resource.getrusage(resource.RUSAGE_SELF)
        if profiler and profile:
            profile.mkdir(parents=True, exist_ok=True)
            profiler.dump_stats(profile / f"store-commit-{store.dialect_name}-c{commands}.pstats")
    finally:
        store.close()
    # the kernel's share: WAL writes, fsync, sockets
    system = usage.ru_stime - usage0.ru_stime
    return {
        "walls": walls,
        "locked": locked,
        "cpu": cpu,
        "system": system,
        "began": began,
        "ended": time.time(),
        "instructions": counted,
    }


def _watch_order_lock(store: Store) -> list[float]:
    """A list that gets the time each transaction was granted the event-order lock."""
    granted: list[float] = []

    @event.listens_for(store.engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "pg_advisory_xact_lock" in statement:
            granted.append(time.perf_counter())

    return granted


def _ms(values: list[float]) -> dict[str, float] | None:
    """p50 / mean / p99 in ms."""
    if not values:
        return None
    ms = sorted(v * 1000 for v in values)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return {
        "p50": round(statistics.median(ms), 3),
        "mean": round(statistics.fmean(ms), 3),
        "p99": round(p99, 3),
    }


def _writer(url: str, commands: int, batches: int, warmup: int, start: Any, out: Any) -> None:
    out.put(commit_loop(url, commands, batches, warmup, start=start))


def run(
    url: str,
    commands: int,
    batches: int,
    warmup: int,
    profile: Path | None,
    writers: int = 1,
    instructions: Path | None = None,
) -> dict[str, Any]:
    """Commit with `writers` concurrent processes (1: this one); return the measurements."""
    Store.open(url).close()  # migrated once, before the writers start
    if writers == 1:
        loops = [commit_loop(url, commands, batches, warmup, profile, instructions=instructions)]
    else:
        ctx = multiprocessing.get_context("fork")
        start, out = ctx.Barrier(writers), ctx.Queue()
        procs = [
            ctx.Process(target=_writer, args=(url, commands, batches, warmup, start, out))
            for _ in range(writers)
        ]
        for proc in procs:
            proc.start()
        loops = [out.get() for _ in procs]
        for proc in procs:
            proc.join()
    store = Store.open(url, migrate=False)
    try:
        check = store.verify_audit(TENANT)
        events = len(store.read_all_events(TENANT, limit=10_000_000))
    finally:
        store.close()
    expected = writers * (warmup + batches) * commands
    timed = writers * batches * commands
    cpu, system = sum(x["cpu"] for x in loops), sum(x["system"] for x in loops)
    elapsed = max(x["ended"] for x in loops) - min(x["began"] for x in loops)
    counted = loops[0]["instructions"] if writers == 1 else None
    return {
        "commands_per_batch": commands,
        "instructions_per_command": None if counted is None else round(counted / timed),
        "batches": batches,
        "writers": writers,
        "cpu_us_per_command": round(cpu / timed * 1e6, 1),
        "cpu_ms_per_batch": round(cpu / (writers * batches) * 1000, 3),
        "cpu_system_us_per_command": round(system / timed * 1e6, 1),
        "commands_per_s": round(timed / elapsed, 1),
        "wall_ms_per_batch": _ms([w for x in loops for w in x["walls"]]),
        "order_lock_held_ms": _ms([w for x in loops for w in x["locked"]]),
        "verified": {"audit_ok": check.ok, "audit_records": check.records_checked, "events": events},
        "ok": check.ok and check.records_checked == expected and events == expected,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for every (db, C) asked for; print and append one JSON line each."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--commands", default="1,16", help="commands per batch (C), comma-separated")
    parser.add_argument("--batches", type=int, default=300, help="timed batches per (db, C)")
    parser.add_argument("--warmup", type=int, default=30, help="untimed batches first")
    parser.add_argument(
        "--writers",
        type=int,
        default=1,
        help="concurrent writer processes (like shards), each on its own engagements",
    )
    parser.add_argument("--label", default="", help="a note stored with the result (e.g. before)")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL base URL (no database)")
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats here")
    parser.add_argument(
        "--instructions",
        type=Path,
        default=None,
        help="under callgrind: count the timed batches' instructions (callgrind's output directory)",
    )
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument(
        "--lifetime",
        type=int,
        default=0,
        help="commands per engagement before a new one replaces it (0: never; the month-end mix: 15)",
    )
    args = parser.parse_args(argv)
    global LIFETIME
    LIFETIME = args.lifetime

    def git(*cmd: str) -> str:
        return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    given = " ".join(argv if argv is not None else sys.argv[1:])
    ok = True
    for db in args.db.split(","):
        for commands in [int(c) for c in args.commands.split(",")]:
            with fresh_database(db, args.pg) as url:
                result = run(
                    url, commands, args.batches, args.warmup, args.profile, args.writers, args.instructions
                )
            ok = ok and result["ok"]
            line = {
                "bench": "store_commit",
                "label": args.label,
                "db": db,
                "sqlite_synchronous": "full" if db == "sqlite" else None,
                "lifetime": LIFETIME,
                **result,
                "command": f"python -m bench.store_commit {given}",
                "git_commit": git("rev-parse", "HEAD"),
                "git_dirty_store": bool(git("status", "--porcelain", "q2c_core/adapters/store")),
                "python": sys.version.split()[0],
                "sqlalchemy": sqlalchemy.__version__,
                "nproc": os.cpu_count(),
                "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            print(json.dumps(line, sort_keys=True), flush=True)
            if not args.no_save:
                RESULTS.parent.mkdir(parents=True, exist_ok=True)
                with RESULTS.open("a") as out:
                    out.write(json.dumps(line, sort_keys=True) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
