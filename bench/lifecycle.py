"""Lifecycle benchmark: full engagement lifecycles through a real q2c server over Ray shards.

    python -m bench.lifecycle --db sqlite --clients 1,32 --engagements 300 --shards 2
    python -m bench.lifecycle --db sqlite --clients 32 --engagements 300 --shards 2 --view basic
    python -m bench.lifecycle --db postgresql --clients 1,32 --engagements 300 --shards 2
    python -m bench.lifecycle --memory --db sqlite --memory-engagements 5000 --memory-entries 0,20

Lifecycle mode starts ``server.py`` as a subprocess on a fresh database it creates (a SQLite file
in a temp dir, or ``q2c_bench_<hex>`` on PostgreSQL, dropped afterwards whatever happens), sets up
one customer and one rate card (not timed), then for each client count C drives N engagements
through 12 commands each with C concurrent asyncio clients sharing one grpc.aio channel, and
reports commands/s, latency percentiles, wall time, errors and the CPU time spent by the client
and by the server's process tree (gateway, Ray, shard actors). Every command asks for the
engagement in the EngagementView given by --view: full (the default, as callers that do not ask
get) or basic (the summary: no engagement tree from the shard, nor converted to protobuf).

Memory mode starts Ray in-process, hosts engagements on a single shard actor through
``RayRuntime.execute`` and reads the shard's VmRSS before and after, giving bytes per resident
engagement.

Results are appended as JSON lines to ``bench/results/lifecycle-<db>.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from q2c_core.edge.auth.devkey import DevKey, create_dev_key

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432"
COMMANDS = [
    "CreateEngagement",
    "QualifyEngagement",
    "CloseWonEngagement",
    "ApproveContract",
    "ActivateEngagement",
    "SubmitTimeEntries",
    "ApproveTimeEntries",
    "SubmitExpenses",
    "ApproveExpenses",
    "CompleteMilestone",
    "AcceptMilestone",
    "CompleteEngagement",
]
APPROVALS = frozenset({"ApproveTimeEntries", "ApproveExpenses", "AcceptMilestone"})
"""Sent under an approver's token: whoever books work may not approve it."""
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- environment: database, server, machine ---------------------------------------------------


@contextlib.contextmanager
def fresh_database(db: str, pg_base: str) -> Iterator[str]:
    """A database URL for a brand-new database; removed afterwards, even on failure."""
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="q2c-bench-") as workdir:
            yield f"sqlite:///{workdir}/q2c.db"
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
        print(f"dropped database {name}", file=sys.stderr)


@contextlib.contextmanager
def running_server(
    url: str, shards: int, log_path: Path, py_spy: Path | None, auth: list[str]
) -> Iterator[tuple[str, int]]:
    """server.py on a free port; yields (target, server pid); SIGTERM afterwards.

    With `py_spy`, the server runs under `py-spy record --subprocesses` (attaching to a running
    process is refused on this machine; launching it under py-spy works), sampling the gateway
    and every Ray process it starts, shard actors included, into a raw (collapsed) stack file.
    Only samples of threads holding the GIL are kept (`--gil`): Ray's and grpc's threads that
    wait in native code would otherwise count as busy.
    """
    command = [
        sys.executable,
        "server.py",
        "--port",
        "0",
        "--database-url",
        url,
        "--shards",
        str(shards),
        "--ray-num-cpus",
        "2",
        "--log-level",
        "WARNING",
        "--deployment",
        "bench",
        *auth,
    ]
    if py_spy is not None:
        spy = str(Path(sys.executable).with_name("py-spy"))
        command = [
            spy,
            "record",
            "--subprocesses",
            "--gil",
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(py_spy),
            "--",
            *command,
        ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("Q2C_")}
    log = log_path.open("w")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    server_pid = proc.pid
    try:
        assert proc.stdout is not None
        target = None
        for line in proc.stdout:
            if line.startswith("q2c listening on"):
                target = line.split()[-1]
                break
        if target is None:
            raise SystemExit(
                f"server did not start (exit {proc.poll()}); see {log_path}:\n" + log_path.read_text()[-3000:]
            )
        if py_spy is not None:
            server_pid = next(
                pid
                for pid in process_tree(proc.pid)[1:]
                if b"server.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
            )
        yield target, server_pid
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(server_pid, signal.SIGTERM)
            if py_spy is not None:  # py-spy writes its profile on SIGINT, once the server is gone
                gone = time.monotonic() + 60
                while _running(server_pid) and time.monotonic() < gone:
                    time.sleep(0.2)
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _running(pid: int) -> bool:
    """`pid` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def process_tree(root: int) -> list[int]:
    """The pid and every live descendant (from /proc)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children[ppid].append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pid: int, task: str = "") -> float:
    """User + system CPU so far of every thread of `pid`, or of its thread `task` alone."""
    stat = Path(f"/proc/{pid}/task/{task}/stat" if task else f"/proc/{pid}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_by_process(root: int) -> dict[int, tuple[str, float]]:
    """pid -> (process name, CPU seconds user+system) for the tree under `root`."""
    out: dict[int, tuple[str, float]] = {}
    for pid in process_tree(root):
        with contextlib.suppress(OSError):
            seconds = cpu_seconds(pid)
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            name = "gateway (server.py)" if pid == root else _short_name(cmd)
            out[pid] = (name, seconds)
    return out


def cpu_by_thread(root: int) -> dict[tuple[int, int], tuple[str, float]]:
    """(pid, tid) -> ("process name / thread name", CPU seconds) for the tree under `root`:
    which threads of the gateway and the shards (Python's, Ray's, gRPC's) spend the CPU."""
    out: dict[tuple[int, int], tuple[str, float]] = {}
    for pid, (name, _) in cpu_by_process(root).items():
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pid}/task").iterdir():
                with contextlib.suppress(OSError):
                    thread = (task / "comm").read_text().strip()
                    seconds = cpu_seconds(pid, task.name)
                    out[(pid, int(task.name))] = (f"{name} / {thread}", seconds)
    return out


def database_cpu_seconds() -> float:
    """CPU seconds so far of this machine's PostgreSQL server processes (every `postgres`), which
    run a q2c server's statements on the same cores but outside its process tree."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry))
    return total


def cpu_delta(before: dict[Any, tuple[str, float]], after: dict[Any, tuple[str, float]]) -> dict[str, float]:
    """CPU seconds spent between two samples, summed by process name (named at the end)."""
    spent: dict[str, float] = defaultdict(float)
    for pid, (name, secs) in after.items():
        spent[name] += secs - before.get(pid, (name, 0.0))[1]
    return {k: round(v, 2) for k, v in sorted(spent.items(), key=lambda kv: -kv[1]) if v >= 0.01}


def _short_name(cmd: str) -> str:
    if cmd.startswith("ray::"):
        return cmd.split()[0].split(".")[0]
    base = os.path.basename(cmd.split()[0]) if cmd else "?"
    return base


def rss_bytes(pid: int) -> int:
    """VmRSS of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def machine() -> dict[str, Any]:
    """Commit, nproc, timestamp and the exact command line."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain")),
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "command": shlex.join([os.path.basename(sys.executable), "-m", "bench.lifecycle", *sys.argv[1:]]),
    }


def append_result(db: str, record: dict[str, Any]) -> None:
    """One JSON line in bench/results/lifecycle-<db>.jsonl."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / f"lifecycle-{db}.jsonl").open("a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


# -- lifecycle mode ---------------------------------------------------------------------------


@dataclass
class Tally:
    """Latencies per command kind and the errors seen."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    engagements_done: int = 0


class Driver:
    """Drives whole lifecycles over one grpc.aio channel."""

    def __init__(
        self, target: str, deadline: float, tenant: str, key: DevKey | None, view: str = "full"
    ) -> None:
        import grpc

        from q2c.v1 import customer_pb2_grpc, engagement_pb2_grpc, rate_card_pb2_grpc
        from q2c.v1 import engagement_pb2 as pb

        self.view = pb.EngagementView.Value(f"ENGAGEMENT_VIEW_{view.upper()}")

        self.channel = grpc.aio.insecure_channel(target)
        self.engagements = engagement_pb2_grpc.EngagementServiceStub(self.channel)
        self.customers = customer_pb2_grpc.CustomerServiceStub(self.channel)
        self.rate_cards = rate_card_pb2_grpc.RateCardServiceStub(self.channel)
        self.deadline = deadline
        correlation = ("x-correlation-id", uuid.uuid4().hex)
        if key is None:  # --auth none: the server trusts what the caller names
            self.metadata = [("x-tenant-id", tenant), ("x-principal", "bench"), correlation]
            self.approver = [("x-tenant-id", tenant), ("x-principal", "bench-approver"), correlation]
        else:
            self.metadata = [("authorization", f"Bearer {key.mint(tenant, 'bench')}"), correlation]
            self.approver = [("authorization", f"Bearer {key.mint(tenant, 'bench-approver')}"), correlation]
        self.customer_id = ""
        self.rate_card_id = ""

    async def setup(self) -> None:
        """One customer with a tax profile and one rate card (not timed)."""
        from tests.e2e import flows

        stack = self
        customer = await flows.customer(stack, self.metadata, tax=True)
        card = await flows.rate_card(stack, self.metadata)
        self.customer_id, self.rate_card_id = customer.customer_id, card.rate_card_id

    async def call(self, tally: Tally, kind: str, request: Any) -> Any:
        """One timed unary call with metadata and a deadline."""
        method = getattr(self.engagements, kind)
        metadata = self.approver if kind in APPROVALS else self.metadata
        request.view = self.view  # every command of the lifecycle returns an Engagement
        start = time.perf_counter()
        response = await method(request, metadata=metadata, timeout=self.deadline)
        tally.latencies[kind].append(time.perf_counter() - start)
        return response

    async def lifecycle(self, tally: Tally) -> None:
        """The 12 commands of one engagement, each with a fresh request_id."""
        from q2c.v1 import engagement_pb2 as pb
        from tests.e2e.flows import contract, d, rid, time_entry, usd

        c = self.call
        eng = await c(
            tally,
            "CreateEngagement",
            pb.CreateEngagementRequest(
                request_id=rid(),
                customer_id=self.customer_id,
                display_name="Bench migration",
                expected_start_date=d(date(2026, 2, 2)),
            ),
        )
        eid = eng.engagement_id
        await c(tally, "QualifyEngagement", pb.QualifyEngagementRequest(request_id=rid(), engagement_id=eid))
        await c(
            tally, "CloseWonEngagement", pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=eid)
        )
        await c(tally, "ApproveContract", contract(eid, self.rate_card_id))
        await c(
            tally,
            "ActivateEngagement",
            pb.ActivateEngagementRequest(request_id=rid(), engagement_id=eid, project_template_id="tpl"),
        )
        entries = [time_entry(f"t{i}", day=date(2026, 2, 2) + timedelta(days=i)) for i in range(5)]
        await c(
            tally,
            "SubmitTimeEntries",
            pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=entries),
        )
        await c(
            tally,
            "ApproveTimeEntries",
            pb.ApproveTimeEntriesRequest(
                request_id=rid(), engagement_id=eid, entry_ids=[e.entry_id for e in entries]
            ),
        )
        await c(
            tally,
            "SubmitExpenses",
            pb.SubmitExpensesRequest(
                request_id=rid(),
                engagement_id=eid,
                expenses=[
                    pb.ExpenseInput(
                        expense_id="x1",
                        billing_line_id="ex",
                        category="travel",
                        incurred_date=d(date(2026, 2, 3)),
                        amount=usd("612.40"),
                    )
                ],
            ),
        )
        await c(
            tally,
            "ApproveExpenses",
            pb.ApproveExpensesRequest(request_id=rid(), engagement_id=eid, expense_ids=["x1"]),
        )
        await c(
            tally,
            "CompleteMilestone",
            pb.CompleteMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id="m1"),
        )
        await c(
            tally,
            "AcceptMilestone",
            pb.AcceptMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id="m1"),
        )
        await c(
            tally, "CompleteEngagement", pb.CompleteEngagementRequest(request_id=rid(), engagement_id=eid)
        )
        tally.engagements_done += 1

    async def client(self, tally: Tally, count: int) -> None:
        """One client: its share of engagements, one after another; errors are recorded."""
        import grpc

        for _ in range(count):
            try:
                await self.lifecycle(tally)
            except grpc.aio.AioRpcError as error:
                tally.errors.append(f"{error.code().name}: {error.details()}")

    async def run(self, clients: int, engagements: int) -> tuple[Tally, float]:
        """N engagements over C concurrent clients; (tally, wall seconds)."""
        tally = Tally()
        shares = [engagements // clients + (1 if i < engagements % clients else 0) for i in range(clients)]
        start = time.perf_counter()
        await asyncio.gather(*(self.client(tally, n) for n in shares if n))
        return tally, time.perf_counter() - start

    async def close(self) -> None:
        await self.channel.close()


def summarize(tally: Tally, wall: float) -> dict[str, Any]:
    """Throughput and latency figures (ms)."""
    everything = sorted(v for values in tally.latencies.values() for v in values)
    ms = lambda v: round(v * 1000, 2)  # noqa: E731
    per_kind = {}
    for kind in COMMANDS:
        values = sorted(tally.latencies.get(kind, []))
        if values:
            per_kind[kind] = {"p50_ms": ms(percentile(values, 50)), "p99_ms": ms(percentile(values, 99))}
    return {
        "commands": len(everything),
        "engagements_completed": tally.engagements_done,
        "wall_s": round(wall, 3),
        "commands_per_s": round(len(everything) / wall, 1),
        "engagements_per_s": round(tally.engagements_done / wall, 2),
        "p50_ms": ms(percentile(everything, 50)),
        "p95_ms": ms(percentile(everything, 95)),
        "p99_ms": ms(percentile(everything, 99)),
        "max_ms": ms(everything[-1]) if everything else None,
        "errors": len(tally.errors),
        "error_samples": sorted(set(tally.errors))[:5],
        "per_command": per_kind,
    }


async def lifecycle_mode(args: argparse.Namespace) -> int:
    """Start a server on a fresh database and run each client count against it."""
    meta = machine()
    failed = False
    rows = []
    with (
        fresh_database(args.db, args.pg_url) as url,
        tempfile.TemporaryDirectory(prefix="q2c-bench-log-") as logs,
    ):
        log_path = Path(logs) / "server.log"
        spy = Path(args.py_spy) if args.py_spy else None
        key = None if args.auth == "none" else create_dev_key(Path(logs) / "dev-key")
        auth = ["--auth", "none"] if key is None else ["--dev-key-dir", str(key.directory)]
        started = time.perf_counter()
        with running_server(url, args.shards, log_path, spy, auth) as (target, server_pid):
            print(
                f"server {target} (pid {server_pid}) up in {time.perf_counter() - started:.1f}s;"
                f" db {args.db}",
                file=sys.stderr,
            )
            driver = Driver(target, args.deadline, f"bench-{uuid.uuid4().hex[:8]}", key, args.view)
            try:
                await driver.setup()
                if args.warmup:
                    warm, _ = await driver.run(min(args.warmup, 8), args.warmup)
                    if warm.errors:
                        raise SystemExit(f"warm-up failed: {warm.errors[:3]}")
                for clients in args.clients:
                    cpu_server_0 = cpu_by_process(server_pid)
                    cpu_client_0 = time.process_time()
                    tally, wall = await driver.run(clients, args.engagements)
                    cpu_client = time.process_time() - cpu_client_0
                    cpu_server_1 = cpu_by_process(server_pid)
                    cpu_server = cpu_delta(cpu_server_0, cpu_server_1)
                    summary = summarize(tally, wall)
                    commands = max(summary["commands"], 1)
                    record = {
                        **meta,
                        "mode": "lifecycle",
                        "auth": args.auth,
                        "view": args.view,
                        "db": args.db,
                        "clients": clients,
                        "engagements": args.engagements,
                        "shards": args.shards,
                        "profiled": bool(args.py_spy),
                        "commands_per_engagement": len(COMMANDS),
                        **summary,
                        "cpu_s": {"client": round(cpu_client, 2), **cpu_server},
                        "cpu_ms_per_command": {
                            "client": round(cpu_client * 1000 / commands, 3),
                            "server_tree": round(sum(cpu_server.values()) * 1000 / commands, 3),
                            **cpu_split(cpu_server, commands),
                        },
                    }
                    append_result(args.db, record)
                    rows.append(record)
                    if tally.errors:
                        failed = True
                        print(
                            f"ERRORS ({len(tally.errors)}) at {clients} clients: {tally.errors[:5]}",
                            file=sys.stderr,
                        )
            finally:
                await driver.close()
        if failed:
            print("server log tail:\n" + log_path.read_text()[-3000:], file=sys.stderr)
    print_table(rows)
    if failed:
        print("FAILED: some commands returned errors (see above)", file=sys.stderr)
        return 1
    return 0


def cpu_split(cpu_server: dict[str, float], commands: int) -> dict[str, float]:
    """CPU ms per command of the gateway process and of the shard actors together."""
    shards = sum(secs for name, secs in cpu_server.items() if name.startswith("ray::EngagementShard"))
    gateway = cpu_server.get("gateway (server.py)", 0.0)
    return {"gateway": round(gateway * 1000 / commands, 3), "shards": round(shards * 1000 / commands, 3)}


def print_table(rows: list[dict[str, Any]]) -> None:
    """db x clients -> cmds/s, latency, wall, errors, CPU per command."""
    head = (
        f"{'db':<11}{'clients':>8}{'engs':>6}{'cmds':>7}{'cmds/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'wall s':>8}{'errors':>7}{'cpu ms/cmd client':>19}{'server':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['db']:<11}{r['clients']:>8}{r['engagements']:>6}{r['commands']:>7}{r['commands_per_s']:>9.1f}"
            f"{r['p50_ms']:>9.2f}{r['p95_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['wall_s']:>8.2f}{r['errors']:>7}"
            f"{r['cpu_ms_per_command']['client']:>19.3f}{r['cpu_ms_per_command']['server_tree']:>8.3f}"
        )
    for r in rows:
        cpu = r["cpu_ms_per_command"]
        print(
            f"\n{r['db']} @ {r['clients']} clients, view {r['view']}: CPU ms/cmd gateway"
            f" {cpu['gateway']:.3f}, shards {cpu['shards']:.3f}; per command p50/p99 ms; CPU s: {r['cpu_s']}"
        )
        for kind, v in r["per_command"].items():
            print(f"  {kind:<20}{v['p50_ms']:>9.2f}{v['p99_ms']:>9.2f}")


# -- memory mode ------------------------------------------------------------------------------


async def host_engagements(
    runtime: Any, caller: Any, customer_id: str, rate_card_id: str, count: int, entries: int, chunk: int = 500
) -> int:
    """Activate `count` engagements (5 commands each) plus `entries` approved time entries each."""
    from q2c_core.app.messages import CommandEnvelope
    from q2c_core.domain import commands as cmd
    from q2c_core.domain.entities import (
        BillingLine,
        ExpenseTerms,
        FixedFeeTerms,
        MilestoneSpec,
        TimeAndMaterialsTerms,
    )
    from q2c_core.domain.money import Money

    usd = lambda a: Money.of(a, "USD")  # noqa: E731
    contract = cmd.ApproveContract(
        currency="USD",
        start_date=date(2026, 2, 1),
        end_date=date(2026, 12, 31),
        po_reference="PO-1",
        billing_lines=[
            BillingLine(
                line_id="tm",
                terms=TimeAndMaterialsTerms(rate_card_id=rate_card_id, not_to_exceed=usd("100000")),
            ),
            BillingLine(
                line_id="ff",
                terms=FixedFeeTerms(
                    milestones=[MilestoneSpec(milestone_id="m1", display_name="Design", amount=usd("20000"))]
                ),
            ),
            BillingLine(line_id="ex", terms=ExpenseTerms()),
        ],
    )
    steps: list[cmd.Command] = [
        cmd.CreateEngagement(
            customer_id=customer_id, display_name="Bench", expected_start_date=date(2026, 2, 2)
        ),
        cmd.QualifyEngagement(),
        cmd.CloseWonEngagement(),
        contract,
        cmd.ActivateEngagement(project_template_id="tpl"),
    ]
    if entries:
        time_entries = [
            cmd.TimeEntryInput(
                entry_id=f"t{i}",
                billing_line_id="tm",
                person="ana",
                role="engineer",
                work_date=date(2026, 2, 2) + timedelta(days=i),
                hours=Decimal("8"),
            )
            for i in range(entries)
        ]
        steps += [
            cmd.SubmitTimeEntries(entries=time_entries),
            cmd.ApproveTimeEntries(entry_ids=[e.entry_id for e in time_entries]),
        ]
    approver = caller.model_copy(update={"principal": f"{caller.principal}-approver"})
    failures = 0
    for offset in range(0, count, chunk):
        ids = [str(uuid.uuid4()) for _ in range(min(chunk, count - offset))]
        for command in steps:
            results = await asyncio.gather(
                *(
                    runtime.execute(
                        CommandEnvelope(
                            caller=approver if command.kind in APPROVALS else caller,
                            engagement_id=eid,
                            request_id=uuid.uuid4().hex,
                            command=command,
                        )
                    )
                    for eid in ids
                )
            )
            bad = [r.error for r in results if r.error is not None]
            if bad:
                raise SystemExit(f"{command.kind} failed for {len(bad)} engagements: {bad[0]}")
            failures += len(bad)
    return failures


async def memory_mode(args: argparse.Namespace) -> int:
    """Bytes of shard RSS per resident engagement, for each time-entry count."""
    import ray

    from actors.runtime import RayRuntime
    from q2c_core.adapters.store import Store
    from q2c_core.app.catalog import Catalog, CustomerSpec, RateCardSpec
    from q2c_core.app.messages import Caller
    from q2c_core.domain.money import Money
    from q2c_core.domain.reference import TaxProfile

    meta = machine()
    rows = []
    with fresh_database(args.db, args.pg_url) as url:
        ray.init(num_cpus=2, include_dashboard=False, namespace="q2c-bench", log_to_driver=False)
        store = Store.open(url)
        try:
            caller = Caller(tenant_id=f"bench-{uuid.uuid4().hex[:8]}", principal="bench")
            catalog = Catalog(store)
            customer = catalog.create_customer(
                caller,
                None,
                CustomerSpec(
                    display_name="Acme",
                    legal_entity="Acme Ltd",
                    billing_currency="USD",
                    service_line="Cloud",
                    tax_profile=TaxProfile(jurisdiction="US-NY", rate=Decimal("0.08")),
                ),
            )
            card = catalog.create_rate_card(
                caller,
                None,
                None,
                RateCardSpec(
                    currency="USD",
                    effective_from=date(2026, 1, 1),
                    rates={"engineer": Money.of("150", "USD"), "architect": Money.of("200", "USD")},
                ),
            )
            for entries in args.memory_entries:
                runtime = RayRuntime(store, url, shards=1, deployment=f"bench-mem-{entries}")
                await runtime.wait_ready()
                try:
                    pid = (await runtime.shard_stats())[0]["pid"]
                    # Warm the shard (imports, caches, first allocations) before the baseline.
                    await host_engagements(
                        runtime, caller, customer.customer_id, card.rate_card_id, args.memory_warmup, entries
                    )
                    before = rss_bytes(pid)
                    resident_before = (await runtime.shard_stats())[0]["resident"]
                    start = time.perf_counter()
                    await host_engagements(
                        runtime,
                        caller,
                        customer.customer_id,
                        card.rate_card_id,
                        args.memory_engagements,
                        entries,
                    )
                    took = time.perf_counter() - start
                    after = rss_bytes(pid)
                    stats = (await runtime.shard_stats())[0]
                    hosted = stats["resident"] - resident_before
                    commands = args.memory_engagements * (5 + (2 if entries else 0))
                    record = {
                        **meta,
                        "mode": "memory",
                        "db": args.db,
                        "engagements": args.memory_engagements,
                        "time_entries_each": entries,
                        "resident_added": hosted,
                        "shard_rss_before_mb": round(before / 2**20, 1),
                        "shard_rss_after_mb": round(after / 2**20, 1),
                        "bytes_per_engagement": round((after - before) / max(hosted, 1)),
                        "commands": commands,
                        "load_s": round(took, 2),
                        "commands_per_s_in_process": round(commands / took, 1),
                    }
                    append_result(args.db, record)
                    rows.append(record)
                    print(
                        f"entries={entries}: {hosted} resident engagements; shard RSS "
                        f"{record['shard_rss_before_mb']} -> {record['shard_rss_after_mb']} MB = "
                        f"{record['bytes_per_engagement']} B/engagement ({commands} commands in {took:.1f}s)",
                        file=sys.stderr,
                    )
                finally:
                    await runtime.close(kill_shards=True)
        finally:
            store.close()
            ray.shutdown()
    print(
        f"{'db':<11}{'entries':>8}{'engagements':>12}{'RSS before MB':>15}{'after MB':>10}{'bytes/eng':>11}"
    )
    for r in rows:
        print(
            f"{r['db']:<11}{r['time_entries_each']:>8}{r['resident_added']:>12}{r['shard_rss_before_mb']:>15}"
            f"{r['shard_rss_after_mb']:>10}{r['bytes_per_engagement']:>11}"
        )
    return 0


# -- command line -----------------------------------------------------------------------------


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.lifecycle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL server (no database name)")
    parser.add_argument("--clients", type=ints, default=[1, 32], help="comma-separated client counts")
    parser.add_argument("--engagements", type=int, default=300, help="engagements per client count")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=4, help="untimed lifecycles before measuring")
    parser.add_argument("--deadline", type=float, default=30.0, help="per-call deadline, seconds")
    parser.add_argument(
        "--auth",
        choices=("token", "none"),
        default="token",
        help="token: bearer tokens from a development key (as deployed); none: --auth none, to price it",
    )
    parser.add_argument(
        "--view",
        choices=("full", "basic"),
        default="full",
        help="EngagementView every command asks for: full (the whole engagement) or basic (its summary)",
    )
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="run the server under py-spy; raw collapsed stacks to FILE (distorts timing)",
    )
    parser.add_argument("--memory", action="store_true", help="measure shard RSS per hosted engagement")
    parser.add_argument("--memory-engagements", type=int, default=5000)
    parser.add_argument("--memory-warmup", type=int, default=200)
    parser.add_argument(
        "--memory-entries",
        type=ints,
        default=[0, 20],
        help="time entries per engagement, one measurement each",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    return asyncio.run(memory_mode(args) if args.memory else lifecycle_mode(args))


if __name__ == "__main__":
    sys.exit(main())
