"""CPU per command in the shard's decide/evolve/stage path, in process, without a database.

    python -m bench.decide --engagements 256 --batch 32 --repeat 3 --label before
    python -m bench.decide --engagements 256 --batch 32 --stages          # split by stage

An `EngagementHost` over the in-memory store (tests/fakes/memory_store.py) takes N engagements
through the month-end mix of bench/compare.py (create, qualify, close-won, approve contract,
activate, 4 x submit 5 time entries, approve the 20, submit 2 expenses, approve them, generate
the January invoice, issue it, record its payment: 15 commands each, every one with its own
request id, approvals under a second principal), `--batch` engagements at a time, each step of
the mix one `process_batch` call of `--batch` commands (what a shard does with a coalesced Ray
call). The invoices are checked against bench/compare.py's oracle total.

Figures are CPU time (time.process_time) per command:

- `cpu_us_per_command`: the whole `process_batch` (activation, replay check, decide, evolve,
  staging, the fake store's commit, the reply) over the uninstrumented runs (min and median of
  --repeat runs, each on a fresh store and host);
- `pipeline_us_per_command`: the same without the fake store's commit (which is not the SQL
  store's cost; the fake's audit chaining is made O(batch) here so it does not grow with N);
- `activate_us_per_engagement`: a fresh host's `rebuild` of every engagement (snapshot + tail);
- `replay_us_per_command`: a retried request (same request id) answered from its idempotency
  record, the engagement rebuilt for the reply (`_with_replayed_state`);
- `gc_us_per_command`: cyclic garbage collection during those calls (part of the above; it grows
  with the live heap, here the fake store's contents too, so it is reported on its own);
- --gc-threshold / --gc-freeze: the collector settings a shard process could choose (the
  default is CPython's, 700 allocations for a young collection, nothing frozen);
- with --stages, one more instrumented run splits the pipeline by stage (inclusive CPU per
  command of each wrapped function, with the garbage collector off, since a collection lands in
  whichever stage allocates when it triggers; instrumentation adds its own overhead, so the
  stages do not add up to the uninstrumented total).

One JSON line per invocation is appended to bench/results/decide.jsonl.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.compare import APPROVER, CAP, PERIOD_START, RATES, SUBMITTER, Plan, cents, expected_cents, plans
from q2c_core.app import commands as pipeline
from q2c_core.app import decoding
from q2c_core.app import host as host_module
from q2c_core.app.audit.chain import GENESIS_HASH, canonical, chain_hash, events_digest
from q2c_core.app.catalog import Catalog, CustomerSpec, RateCardSpec
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import Caller, CommandEnvelope, CommandResult
from q2c_core.app.records import AuditEntry, AuditRecord, EventRecord
from q2c_core.domain import commands as cmd
from q2c_core.domain.entities import BillingLine, ExpenseTerms, TimeAndMaterialsTerms
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod
from q2c_core.domain.reference import TaxProfile
from tests.fakes.memory_store import MemoryStore

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "decide.jsonl"
TENANT = "bench"
JANUARY = BillingPeriod.month(2026, 1)
MIX = 15


class BenchStore(MemoryStore):
    """The fake store, its audit chaining O(batch): the events an entry names are in its batch."""

    _indexed: Sequence[EventRecord] = ()
    _index: dict[str, EventRecord] = {}  # replaced per batch, never mutated

    def _append_audit(self, entry: AuditEntry, batch_events: Sequence[EventRecord]) -> AuditRecord:
        stream = self._audit.setdefault((entry.tenant_id, entry.stream_id), [])
        seq = len(stream) + 1
        prev = stream[-1].hash if stream else GENESIS_HASH
        if self._indexed is not batch_events:  # index each batch's events once
            self._indexed, self._index = batch_events, {e.event_id: e for e in batch_events}
        known = {i: self._index[i] for i in entry.event_ids if i in self._index}
        covered = events_digest(entry.event_ids, known)
        record = AuditRecord(
            **{f: getattr(entry, f) for f in AuditEntry.__slots__},
            record_id=1,
            seq=seq,
            prev_hash=prev,
            hash=chain_hash(prev, canonical(entry, seq, covered)),
            events_digest=covered,
            chain_version=2,
        )
        stream.append(record)
        return record


@dataclass
class Setup:
    store: BenchStore
    customer_id: str
    rate_card_id: str
    submitter: Caller = field(default_factory=lambda: Caller(tenant_id=TENANT, principal=SUBMITTER))
    approver: Caller = field(default_factory=lambda: Caller(tenant_id=TENANT, principal=APPROVER))


def setup() -> Setup:
    """A fresh store with one customer (tax rate 0) and one rate card of RATES."""
    store = BenchStore()
    return Setup(store, *reference_data(Catalog(store)))  # type: ignore[arg-type]


def reference_data(catalog: Catalog) -> tuple[str, str]:
    """One customer (tax rate 0) and one rate card of RATES: their ids."""
    who = Caller(tenant_id=TENANT, principal=SUBMITTER)
    customer = catalog.create_customer(
        who,
        None,
        CustomerSpec(
            display_name="Acme",
            legal_entity="Acme Ltd",
            billing_currency="USD",
            service_line="Cloud",
            tax_profile=TaxProfile(jurisdiction="US-OR", rate=Decimal(0)),
        ),
    )
    card = catalog.create_rate_card(
        who,
        None,
        None,
        RateCardSpec(
            currency="USD",
            effective_from=PERIOD_START,
            rates={role: Money.of(rate, "USD") for role, rate in RATES.items()},
        ),
    )
    return customer.customer_id, card.rate_card_id


Step = Callable[[str, Plan], CommandEnvelope]


def mix(s: Setup) -> list[Step]:
    """The 15 commands of one engagement's month, as envelope makers."""

    def env(command: Any, approver: bool = False) -> Step:
        def make(eid: str, plan: Plan) -> CommandEnvelope:
            return CommandEnvelope(
                caller=s.approver if approver else s.submitter,
                engagement_id=eid,
                request_id=uuid.uuid4().hex,
                command=command(eid, plan) if callable(command) else command,
            )

        return make

    lines = [
        BillingLine(
            line_id="tm",
            terms=TimeAndMaterialsTerms(rate_card_id=s.rate_card_id, not_to_exceed=Money.of(CAP, "USD")),
        ),
        BillingLine(line_id="ex", terms=ExpenseTerms(markup_percent=Decimal(0))),
    ]

    def submit(k: int) -> Step:
        return env(
            lambda eid, plan: cmd.SubmitTimeEntries(
                entries=[
                    cmd.TimeEntryInput(
                        entry_id=t.entry_id,
                        billing_line_id="tm",
                        person=t.person,
                        role=t.role,
                        work_date=t.work_date,
                        hours=Decimal(t.hours),
                    )
                    for t in plan.batches[k]
                ]
            )
        )

    return [
        env(
            lambda eid, plan: cmd.CreateEngagement(
                customer_id=s.customer_id,
                display_name=f"Engagement {plan.n}",
                expected_start_date=date(2026, 1, 2),
            )
        ),
        env(cmd.QualifyEngagement()),
        env(cmd.CloseWonEngagement()),
        env(
            cmd.ApproveContract(
                currency="USD", start_date=PERIOD_START, end_date=date(2026, 12, 31), billing_lines=lines
            )
        ),
        env(cmd.ActivateEngagement(project_template_id="tpl")),
        *(submit(k) for k in range(4)),
        env(
            lambda eid, plan: cmd.ApproveTimeEntries(
                entry_ids=[t.entry_id for batch in plan.batches for t in batch]
            ),
            approver=True,
        ),
        env(
            lambda eid, plan: cmd.SubmitExpenses(
                expenses=[
                    cmd.ExpenseInput(
                        expense_id=x,
                        billing_line_id="ex",
                        category="travel",
                        incurred_date=date(2026, 1, 10),
                        amount=Money.of(a, "USD"),
                    )
                    for x, a in plan.expenses
                ]
            )
        ),
        env(
            lambda eid, plan: cmd.ApproveExpenses(expense_ids=[x for x, _ in plan.expenses]),
            approver=True,
        ),
        env(cmd.GenerateInvoice(period=JANUARY)),
        env(lambda eid, plan: cmd.IssueInvoice(invoice_id=f"{eid}.inv.1")),
        # the amount is the oracle's total for the plan: tax 0, so the invoice's total
        env(
            lambda eid, plan: cmd.RecordPayment(
                invoice_id=f"{eid}.inv.1",
                amount=Money.of(Decimal(expected_cents([plan])) / 100, "USD"),
                received_date=date(2026, 2, 20),
                reference=f"WIRE-{plan.n}",
            )
        ),
    ]


@dataclass
class Run:
    commands: int = 0
    cpu: float = 0.0  # process_batch, seconds
    gc: float = 0.0  # cyclic garbage collections inside it
    commit: float = 0.0  # the fake store's commit inside it
    activate: float = 0.0
    activated: int = 0
    replay: float = 0.0
    replayed: int = 0
    stages: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def run_once(engagements: int, batch: int, seed: int, stages: bool, mix_only: bool = False) -> Run:
    """The mix for `engagements` engagements on a fresh store and host; checked against the oracle."""
    s = setup()
    steps = mix(s)
    work = plans(seed, "decide", engagements)
    host = EngagementHost(s.store)  # type: ignore[arg-type]
    run = Run()
    # --mix-only: writes are staged but not applied (the engagements stay resident, every
    # request id is new), so that callgrind counts the pipeline without the fake store
    commit = (lambda writes: []) if mix_only else s.store.commit

    def timed_commit(writes: Any) -> Any:
        start = time.process_time()
        try:
            return commit(writes)
        finally:
            run.commit += time.process_time() - start

    s.store.commit = timed_commit  # type: ignore[method-assign,assignment]
    gc_start = 0.0

    def collecting(phase: str, info: dict[str, int]) -> None:
        nonlocal gc_start
        if phase == "start":
            gc_start = time.process_time()
        else:
            run.gc += time.process_time() - gc_start

    gc.callbacks.append(collecting)
    ids = [f"eng-{seed}-{p.n:06d}" for p in work]
    last: list[CommandEnvelope] = []
    with instrumented(run) if stages else _nothing():
        for first in range(0, engagements, batch):
            group = list(zip(ids[first : first + batch], work[first : first + batch], strict=True))
            for step in steps:
                envelopes = [step(eid, plan) for eid, plan in group]
                start = time.process_time()
                results = host.process_batch(envelopes)
                run.cpu += time.process_time() - start
                run.commands += len(envelopes)
                _check(envelopes, results)
                last = envelopes
    gc.callbacks.remove(collecting)
    if mix_only:
        return run
    # a retried batch (same request ids): answered from idempotency, engagement rebuilt
    start = time.process_time()
    replies = host.process_batch(last)
    run.replay = time.process_time() - start
    run.replayed = len(last)
    assert all(r.replayed and r.engagement is not None for r in replies), "replay"
    _verify(s.store, ids, work)
    run.activate, run.activated = _activation(s.store, ids)
    return run


def _activation(store: BenchStore, ids: list[str]) -> tuple[float, int]:
    """A fresh host's rebuild of every engagement from its snapshot and tail."""
    fresh = EngagementHost(store)  # type: ignore[arg-type]
    keys = [(TENANT, eid) for eid in ids]
    start = time.process_time()
    states = fresh._activate(keys)
    elapsed = time.process_time() - start
    assert all(states[k] is not None for k in keys)
    return elapsed, len(keys)


def _check(envelopes: list[CommandEnvelope], results: list[CommandResult]) -> None:
    bad = [(e.command.kind, r.error) for e, r in zip(envelopes, results, strict=True) if not r.ok]
    if bad:
        raise SystemExit(f"{len(bad)} command(s) failed, e.g. {bad[0]}")


def _verify(store: BenchStore, ids: list[str], work: list[Plan]) -> None:
    """Every invoice PAID, the sum of totals and of payments equal to the oracle's."""
    total = paid = 0
    for eid in ids:
        row = store.get_invoice(TENANT, f"{eid}.inv.1")
        assert row is not None and row.state == "PAID", (eid, row and row.state)
        total += cents(row.total)
        paid += cents(row.data["amount_paid"]["amount"])
    expected = expected_cents(work)
    if (total, paid) != (expected, expected):
        raise SystemExit(f"totals differ: invoiced {total}, paid {paid}, expected {expected}")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


STAGES: list[tuple[Any, str, str]] = [
    # (owner, attribute, stage name); attributes that no longer exist are skipped
    (pipeline, "decide", "decide"),
    (pipeline, "evolve", "evolve"),
    (pipeline, "event_to_payload", "event payloads"),
    (pipeline, "engagement_row", "engagement rows"),
    (pipeline, "exception_row", "exception rows"),
    (pipeline, "invoice_row", "invoice rows"),
    (pipeline.BatchDecider, "_context", "context"),
    (pipeline.BatchDecider, "_replay", "replay check"),
    (pipeline.BatchDecider, "_audit", "audit entry"),
    (pipeline.BatchDecider, "_remember", "idempotency record"),
    (pipeline.BatchDecider, "_response_json", "idempotency json"),
    (pipeline.BatchDecider, "_stage_read_models", "read models"),
    (pipeline, "CommandResult", "results"),
    (CommandEnvelope, "digest", "digest"),
    (host_module.EngagementHost, "_activate", "activate"),
    (host_module.EngagementHost, "_idempotency", "idempotency lookup"),
    (host_module.EngagementHost, "_with_replayed_state", "replayed state"),
    (decoding, "decode_snapshot", "decode snapshot"),
    (decoding, "fold_stored", "fold stored"),
]


@contextmanager
def instrumented(run: Run) -> Iterator[None]:
    """Wrap each stage's function with a CPU timer (inclusive), restoring them afterwards."""
    saved = []
    for owner, name, stage in STAGES:
        original = owner.__dict__.get(name)
        if original is None:
            continue
        saved.append((owner, name, original))
        setattr(owner, name, _timer(original, stage, run))
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _timer(function: Any, stage: str, run: Run) -> Any:
    clock = time.process_time

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return function(*args, **kwargs)
        finally:
            run.stages[stage] += clock() - start
            run.calls[stage] += 1

    return timed


def machine() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git("rev-parse", "HEAD"),
        "nproc": os.cpu_count(),
        "python": sys.version.split()[0],
        "command": shlex.join(["python", "-m", "bench.decide", *sys.argv[1:]]),
    }


def us(seconds: float, count: int) -> float:
    return round(seconds * 1e6 / max(count, 1), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engagements", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32, help="commands per process_batch call")
    parser.add_argument("--repeat", type=int, default=3, help="uninstrumented runs (min and median)")
    parser.add_argument("--stages", action="store_true", help="one more run, split by stage")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", default="", help="what this measures (e.g. the lever)")
    parser.add_argument("--no-record", action="store_true", help="print only")
    parser.add_argument(
        "--mix-only",
        action="store_true",
        help="apply no writes and skip the replay, activation and oracle phases (instruction counts"
        " of the pipeline under callgrind)",
    )
    parser.add_argument(
        "--gc-threshold", type=int, default=0, help="gc.set_threshold(N, 10, 10) first (a shard could)"
    )
    parser.add_argument(
        "--gc-freeze", action="store_true", help="gc.freeze() after imports and setup (ditto)"
    )
    args = parser.parse_args(argv)
    if args.gc_threshold:
        gc.set_threshold(args.gc_threshold, 10, 10)
    if args.gc_freeze:
        gc.collect()
        gc.freeze()

    runs = [
        run_once(args.engagements, args.batch, args.seed + i, False, args.mix_only)
        for i in range(args.repeat)
    ]
    per = [us(r.cpu, r.commands) for r in runs]
    pipe = [us(r.cpu - r.commit, r.commands) for r in runs]
    record: dict[str, Any] = {
        "bench": "decide",
        "label": args.label,
        "engagements": args.engagements,
        "batch": args.batch,
        "commands": runs[0].commands,
        "repeat": args.repeat,
        "gc": {"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()},
        "cpu_us_per_command": {"min": min(per), "median": statistics.median(per)},
        "pipeline_us_per_command": {"min": min(pipe), "median": statistics.median(pipe)},
        "gc_us_per_command": statistics.median(us(r.gc, r.commands) for r in runs),
        "store_commit_us_per_command": statistics.median(us(r.commit, r.commands) for r in runs),
        "activate_us_per_engagement": statistics.median(us(r.activate, r.activated) for r in runs),
        "replay_us_per_command": statistics.median(us(r.replay, r.replayed) for r in runs),
        **machine(),
    }
    if args.stages:
        gc.collect()
        gc.disable()  # stages without collections, which land wherever an allocation triggers them
        try:
            staged = run_once(args.engagements, args.batch, args.seed, True)
        finally:
            gc.enable()
        record["stages_us_per_command"] = {
            name: us(seconds, staged.commands)
            for name, seconds in sorted(staged.stages.items(), key=lambda kv: -kv[1])
        }
        record["stage_calls"] = dict(sorted(staged.calls.items()))
    print(json.dumps(record, indent=2))
    if not args.no_record:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a") as out:
            out.write(json.dumps(record, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
