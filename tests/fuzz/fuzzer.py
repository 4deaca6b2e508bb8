"""The black-box fuzzer: malformed and boundary requests across every RPC of a real q2c server.

    report = await fuzz(channel, credentials, FuzzConfig(seed=7, requests=1000))

It seeds a tenant with real entities through the API (tests.fuzz.seeding), then sends
`requests` calls spread over every RPC of every q2c.v1 service (enumerated from the
descriptors): valid requests on seeded ids with exactly one field broken, the valid requests
themselves, and fully random messages. Streaming RPCs run with a short deadline. Every reply
is counted by status code; INTERNAL, UNKNOWN and DATA_LOSS are failures. Afterwards the
invariants (tests.fuzz.invariants) are checked. Each request is drawn from
`Random(f"{seed}/{index}")`, so a seed replays the same requests.
"""

from __future__ import annotations

import asyncio
import copy
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import grpc
from google.protobuf import text_format

from tests.fuzz.catalog import Caller, Rpc, all_rpcs
from tests.fuzz.invariants import api_problems, store_problems
from tests.fuzz.known_bugs import known_bug
from tests.fuzz.random_messages import RandomMessages
from tests.fuzz.seeding import APPROVER, PRINCIPAL, Credentials, Seeded, Seeder
from tests.fuzz.templates import template

FAILING_CODES = frozenset({"INTERNAL", "UNKNOWN", "DATA_LOSS"})
APPROVALS = frozenset(
    {
        "ApproveTimeEntries",
        "RejectTimeEntries",
        "ApproveExpenses",
        "RejectExpenses",
        "AcceptMilestone",
        "RejectMilestone",
    }
)
UNARY_TIMEOUT = 30.0
STREAM_TIMEOUT = 0.5


@dataclass(frozen=True)
class FuzzConfig:
    """How much to send, how, and where the database is (for the SQL invariants)."""

    seed: int
    requests: int
    concurrency: int = 4
    reseed_every: int = 1500  # a fresh ACTIVE engagement, so late requests still reach deep code
    database_url: str | None = None
    tenant_id: str = ""  # the tenant the credentials mint tokens for (for the SQL invariants)


@dataclass
class Failure:
    """One reply that must not happen, with what produced it."""

    index: int
    rpc: str
    mode: str
    broken_field: str
    code: str
    details: str
    request: str


@dataclass
class FuzzReport:
    """Counts per status code (overall and per RPC), speed, failures and invariant problems."""

    seed: int
    requests: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    by_rpc: dict[str, Counter[str]] = field(default_factory=dict)
    modes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    slowest: list[tuple[float, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    known: Counter[str] = field(default_factory=Counter)  # failures matching tests.fuzz.known_bugs
    problems: list[str] = field(default_factory=list)
    seeded: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """No failing reply and every invariant holds."""
        return not self.failures and not self.problems

    @property
    def requests_per_second(self) -> float:
        """Fuzz requests per second of fuzzing wall time (seeding and checks excluded)."""
        return self.requests / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary (bench/results, failure messages)."""
        return {
            "seed": self.seed,
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "requests_per_second": round(self.requests_per_second, 1),
            "codes": dict(self.codes.most_common()),
            "modes": dict(self.modes),
            "by_rpc": {name: dict(c.most_common()) for name, c in sorted(self.by_rpc.items())},
            "slowest": sorted(self.slowest, reverse=True)[:10],
            "known_bugs": dict(self.known),
            "failures": [asdict(f) for f in self.failures[:100]],
            "problems": self.problems,
            "seeded": self.seeded,
            "ok": self.ok,
        }


class Fuzzer:
    """One fuzz run against one server: seed, send, count, check."""

    def __init__(self, channel: grpc.aio.Channel, credentials: Credentials, config: FuzzConfig) -> None:
        self.channel = channel
        self.config = config
        self.caller = Caller(channel)
        self.me = credentials(PRINCIPAL)
        self.approver = credentials(APPROVER)
        self.seeder = Seeder(channel, credentials)
        self.rpcs = all_rpcs()
        self.report = FuzzReport(seed=config.seed)
        self.request_ids: list[str] = []
        self.seeded = Seeded()

    async def run(self) -> FuzzReport:
        """Seed, fuzz, then check every invariant; the report says what happened."""
        self.seeded = copy.deepcopy(await self.seeder.seed())
        started = time.perf_counter()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(self.config.requests):
            queue.put_nowait(index)
        await asyncio.gather(*(self._worker(queue) for _ in range(self.config.concurrency)))
        self.report.seconds = time.perf_counter() - started
        self.report.seeded = {name: len(ids) for name, ids in vars(self.seeded).items()}
        self.report.problems += await api_problems(self.channel, self.me, self.seeded)
        if self.config.database_url and self.config.tenant_id:
            url, tenant = self.config.database_url, self.config.tenant_id
            problems, known = await asyncio.to_thread(store_problems, url, tenant)
            self.report.problems += problems
            self.report.known.update(known)
        return self.report

    async def _worker(self, queue: asyncio.Queue[int]) -> None:
        while not queue.empty():
            index = queue.get_nowait()
            if index and index % self.config.reseed_every == 0:
                await self._reseed()
            await self.one(index)

    async def _reseed(self) -> None:
        try:
            await self.seeder.more_active()
            # published only once complete: a half-seeded engagement is not a target yet
            self.seeded = copy.deepcopy(self.seeder.seeded)
        except grpc.aio.AioRpcError as error:  # an engagement the fuzz made unusable; keep going
            self.report.problems.append(f"reseeding failed: {error.code().name} {error.details()}")

    async def one(self, index: int) -> None:
        """Draw request `index` from the seed, send it, count and judge the reply."""
        rng = random.Random(f"{self.config.seed}/{index}")
        rpc = rng.choice(self.rpcs)
        request, mode, broken = self.draw(rpc, rng)
        metadata = self.approver if rpc.name in APPROVALS and rng.random() < 0.8 else self.me
        timeout = STREAM_TIMEOUT if rpc.streaming else UNARY_TIMEOUT
        reply = await self.caller.call(rpc, request, metadata, timeout)
        self._count(rpc, mode, reply.code, reply.seconds)
        if reply.code in FAILING_CODES:
            bug = known_bug(rpc.path, request)
            if bug is not None:
                self.report.known[bug] += 1
                return
            shown = text_format.MessageToString(request, as_utf8=True)[:2000]
            self.report.failures.append(
                Failure(index, rpc.path, mode, broken, reply.code, reply.details[:500], shown)
            )

    def draw(self, rpc: Rpc, rng: random.Random) -> tuple[Any, str, str]:
        """(request, mode, broken field): a valid template, one broken field, or random."""
        gen = RandomMessages(rng, self.seeded.pools(), self.request_ids)
        roll = rng.random()
        if roll < 0.35:
            return gen.build(rpc.request), "random", ""
        request = template(rpc, gen)
        if roll < 0.5:
            return request, "valid", ""
        return request, "mutated", gen.mutate(request)

    def _count(self, rpc: Rpc, mode: str, code: str, seconds: float) -> None:
        report = self.report
        report.requests += 1
        report.codes[code] += 1
        report.modes[mode] += 1
        report.by_rpc.setdefault(rpc.name, Counter())[code] += 1
        if not rpc.streaming:
            report.slowest.append((round(seconds, 3), rpc.name))
            report.slowest = sorted(report.slowest, reverse=True)[:10]


async def fuzz(channel: grpc.aio.Channel, credentials: Credentials, config: FuzzConfig) -> FuzzReport:
    """Run one fuzz session (seed, send, check) and return its report."""
    return await Fuzzer(channel, credentials, config).run()


def failure_kinds(report: FuzzReport) -> Counter[str]:
    """Failures grouped by RPC and status code."""
    return Counter(f"{f.code} {f.rpc}" for f in report.failures)


def describe(report: FuzzReport, limit: int = 5) -> str:
    """A failure message: the seed to replay, counts, the first failures and problems."""
    lines = [
        f"  failures by RPC: {dict(failure_kinds(report).most_common())}",
        f"fuzz seed {report.seed}: {report.requests} requests, codes {dict(report.codes.most_common())}",
        f"  known bugs hit: {dict(report.known)}",
        *(
            f"  {f.code} from {f.rpc} [{f.mode} {f.broken_field}] #{f.index}: {f.details}"
            f"\n    {f.request[:400]}"
            for f in report.failures[:limit]
        ),
        *(f"  invariant: {p}" for p in report.problems),
    ]
    return "\n".join(lines)
