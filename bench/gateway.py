"""What the gateway spends per RPC in front of the servicer: the one interceptor and authentication.

    python -m bench.gateway --label before [--calls 20000] [--concurrency 32]

Starts the real gateway in this process (`start_server` over a LocalRuntime on a SQLite store,
authentication ON: it trusts a fresh development key) and drives it from a grpc.aio client in a
subprocess, so `time.process_time()` of this process is the gateway's CPU alone. Three RPCs:

- `health`: grpc.health.v1 Check, which the interceptor passes through untouched (the floor:
  grpc.aio itself);
- `echo`: CustomerService.GetCustomer with a bearer token, a deadline and (unless
  `--correlation none`) an x-correlation-id, on a server whose CustomerServicer.GetCustomer
  returns a canned reply: gRPC plus the gateway's whole per-call edge (request log, correlation
  id, authentication, limits, metrics), wired exactly as in production, nothing else;
  `echo - health` is the edge's cost on a real server;
- `get_customer`: the same call served by the real servicer: the interceptor, the servicer and
  one small SQLite read in a worker thread;
- `qualify`: EngagementService.QualifyEngagement in view BASIC on a server whose runtime sends
  commands through the Ray runtime's own ShardLane (batching, the wire codec both ways, one
  future per command) to a stand-in shard that answers every batch at once with canned slim
  results: the gateway's whole side of a command, without Ray's call machinery or a shard;
- `interceptor`: the edge's wrapper alone, in process (the handler wrapped once as the server
  registers it, called on a stand-in servicer context around a do-nothing behaviour), for
  GetCustomer and for a 5-entry SubmitTimeEntries: the edge's own CPU per call (request log,
  metrics, authentication, limits, bounds), without gRPC's noise;
- `servicer`: EngagementService handlers alone, in process, over a runtime that accepts every
  command at once with a slim result: QualifyEngagement and a 5-entry SubmitTimeEntries in
  view BASIC (request -> command, summary -> reply), without Ray, the store or gRPC.

`gateway_cpu_us_per_call` is server CPU (all its threads) over the measured window / calls: the
least of `--repeats` interleaved runs (on a shared machine other load only ever adds to it), with
the median beside it. CPU time on a shared 2-core VM still varies by +-20 %, so `--instructions`
also counts instructions per call with callgrind (the same figure whatever else runs):

    valgrind --tool=callgrind --trace-children=no --callgrind-out-file=/tmp/cg/callgrind.out.%p \
        python -m bench.gateway --label after --instructions /tmp/cg --calls 2000 --only health --only echo

`--loop uvloop` runs the gateway on uvloop (installed by hand: it is not a dependency, see
docs/benchmarks.md); the client always runs on asyncio's.

Results are appended as JSON lines to bench/results/gateway.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

import grpc
from grpc import aio

from bench.callgrind import counters
from bench.lifecycle import RESULTS, machine

SCOPES = ("customers:read", "customers:write")
CUSTOMER_METHOD = "/q2c.v1.CustomerService/GetCustomer"
ENTRIES_METHOD = "/q2c.v1.EngagementService/SubmitTimeEntries"
RPCS = ("health", "echo", "get_customer", "qualify")
COMMAND_SCOPES = (*SCOPES, "engagements:write")


def run(main: Any, loop: str = "asyncio") -> Any:
    """`asyncio.run(main)` on asyncio's loop or uvloop."""
    factory = None
    if loop == "uvloop":
        import uvloop  # type: ignore[import-not-found, unused-ignore]

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def _never_empty() -> Any:
    """Rate limits that are spent as in production (not `unlimited`) but never run dry here."""
    from q2c_core.edge.limits import Rate, RateLimits

    return RateLimits(*(Rate(1e9, 1e9) for _ in range(4)))


# -- the client (a subprocess) ------------------------------------------------------------------


async def _client(
    port: int, token: str, customer_id: str, rpc: str, calls: int, concurrency: int, correlation: bool
) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from q2c.v1 import customer_pb2, customer_pb2_grpc, engagement_pb2, engagement_pb2_grpc

    metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),)
    if correlation:
        metadata += (("x-correlation-id", "bench-gateway-client"),)
    async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        customers = customer_pb2_grpc.CustomerServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        request = customer_pb2.GetCustomerRequest(customer_id=customer_id)
        check = health_pb2.HealthCheckRequest(service="")
        engagements = engagement_pb2_grpc.EngagementServiceStub(channel)
        # the same command every time: the stand-in shard answers each batch of them from a cache
        qualify = engagement_pb2.QualifyEngagementRequest(
            request_id="r-1", engagement_id="e-1", view=engagement_pb2.ENGAGEMENT_VIEW_BASIC
        )

        async def one() -> None:
            if rpc == "health":
                await health.Check(check, timeout=10)
            elif rpc == "qualify":
                await engagements.QualifyEngagement(qualify, metadata=metadata, timeout=10)
            else:
                await customers.GetCustomer(request, metadata=metadata, timeout=10)

        async def worker(count: int) -> None:
            for _ in range(count):
                await one()

        async def run(total: int) -> None:
            share, extra = divmod(total, concurrency)
            await asyncio.gather(*(worker(share + (i < extra)) for i in range(concurrency)))

        await run(min(calls, 2000))  # warm up: connection, caches, code paths
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.process_time()
        await run(calls)
        print(json.dumps({"client_cpu_s": time.process_time() - started}), flush=True)


# -- the server (this process) ------------------------------------------------------------------


async def _create_customer(port: int, token: str) -> str:
    from q2c.v1 import customer_pb2, customer_pb2_grpc

    async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = customer_pb2_grpc.CustomerServiceStub(channel)
        customer = customer_pb2.Customer(
            display_name="Acme",
            legal_entity="Acme Holdings LLC",
            billing_currency="USD",
            tax_profile=customer_pb2.TaxProfile(jurisdiction="US-NY", rate="0.08875"),
            service_line="CONSULTING",
        )
        request = customer_pb2.CreateCustomerRequest(request_id="bench-customer", customer=customer)
        reply = await stub.CreateCustomer(request, metadata=(("authorization", f"Bearer {token}"),))
        return str(reply.customer_id)


def _canned(reply: Any) -> Any:
    """A GetCustomer method that answers every call with `reply` (no store, no thread)."""

    async def GetCustomer(self: Any, request: Any, context: Any) -> Any:
        return reply

    return GetCustomer


class _CannedShard:
    """Stands in for a shard actor's handle: `execute_encoded.remote(batch)` answers every command of
    the encoded batch with the canned slim result, encoded, one loop iteration later (as a Ray
    reply arrives). Replies are kept by batch: the client sends one command over and over, so the
    gateway's CPU is the lane's, the codec's and the servicer's, not a shard's decoding."""

    def __init__(self) -> None:
        from actors import wire

        self.wire = wire
        self.result = _canned_result()
        self.replies: dict[bytes, bytes] = {}
        self.execute_encoded = self

    def remote(self, batch: bytes) -> asyncio.Future[bytes]:
        reply = self.replies.get(batch)
        if reply is None:
            count = len(self.wire.decode(batch))
            reply = self.replies[batch] = self.wire.encode([self.result] * count)
        future = asyncio.get_running_loop().create_future()
        future.get_loop().call_soon(future.set_result, reply)
        return future


def _laned_runtime(store: Any) -> Any:
    """A LocalRuntime whose commands go through the Ray runtime's own lane (`actors/runtime.py`:
    batching, the wire codec, futures) to a `_CannedShard`: the gateway's side of a command."""
    from actors.runtime import ShardLane
    from q2c_core.app.runtime import LocalRuntime

    runtime = LocalRuntime(store)
    lane = ShardLane(0, _CannedShard(), max_batch=256)
    runtime.execute = lane.submit  # type: ignore[method-assign]
    return runtime


async def _get_customer(port: int, token: str, customer_id: str) -> Any:
    from q2c.v1 import customer_pb2, customer_pb2_grpc

    async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = customer_pb2_grpc.CustomerServiceStub(channel)
        request = customer_pb2.GetCustomerRequest(customer_id=customer_id)
        return await stub.GetCustomer(request, metadata=(("authorization", f"Bearer {token}"),))


async def _drive(
    port: int,
    token: str,
    customer_id: str,
    rpc: str,
    calls: int,
    concurrency: int,
    correlation: bool,
    instructions: Path | None = None,
) -> dict[str, Any]:
    """Run the client subprocess; this process's CPU over its measured window, per call."""
    argv = [
        sys.executable,
        "-m",
        "bench.gateway",
        "--client",
        str(port),
        token,
        customer_id,
        rpc,
        str(calls),
        str(concurrency),
        "1" if correlation else "0",
    ]
    child = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert child.stdin is not None and child.stdout is not None
    line = await child.stdout.readline()
    if line.strip() != b"ready":
        raise RuntimeError(f"client failed: {line!r}")
    if instructions:
        counters("-z", instructions)
    cpu, wall = time.process_time(), time.perf_counter()
    child.stdin.write(b"go\n")
    await child.stdin.drain()
    done = json.loads(await child.stdout.readline())
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await child.wait()
    figures = {
        "gateway_cpu_us_per_call": round(cpu / calls * 1e6, 1),
        "client_cpu_us_per_call": round(done["client_cpu_s"] / calls * 1e6, 1),
        "calls_per_second": round(calls / wall),
    }
    if instructions:
        figures["gateway_instructions_per_call"] = round(counters("-d", instructions) / calls)
    return figures


async def _rpc_figures(args: argparse.Namespace) -> dict[str, Any]:
    from q2c_core.adapters.store import Store
    from q2c_core.app.runtime import LocalRuntime
    from q2c_core.edge.app import start_server
    from q2c_core.edge.auth.devkey import create_dev_key
    from q2c_core.edge.limits import ServerLimits
    from q2c_core.edge.reference_servicers import CustomerServicer
    from q2c_core.edge.security import security_from_dev_key

    with tempfile.TemporaryDirectory(prefix="q2c-bench-gateway-") as directory:
        key = create_dev_key(Path(directory) / "dev-key")
        store = Store.open(f"sqlite:///{directory}/q2c.db")
        runtime = LocalRuntime(store)
        security = security_from_dev_key(key, store)
        limits = ServerLimits(rates=_never_empty())
        server = await start_server(runtime, security=security, limits=limits)
        token = key.mint("acme", "bench", SCOPES)
        customer_id = await _create_customer(server.port, token)
        reply = await _get_customer(server.port, token, customer_id)
        # the servicer's bound method is taken at registration: only the echo server answers canned
        with mock.patch.object(CustomerServicer, "GetCustomer", _canned(reply)):
            echo = await start_server(runtime, security=security, limits=limits)
        laned = _laned_runtime(store)
        laned_server = await start_server(laned, security=security, limits=limits)
        command_token = key.mint("acme", "bench", COMMAND_SCOPES)
        ports = {"echo": echo.port, "qualify": laned_server.port}
        try:
            runs: dict[str, list[dict[str, Any]]] = {}
            # interleaved, so each figure sees the same share of the machine's other load
            for _ in range(args.repeats):
                for rpc in [rpc for rpc in RPCS if args.only is None or rpc in args.only]:
                    port = ports.get(rpc, server.port)
                    correlation = args.correlation == "send"
                    run = await _drive(
                        port,
                        command_token if rpc == "qualify" else token,
                        customer_id,
                        rpc,
                        args.calls,
                        args.concurrency,
                        correlation,
                        args.instructions,
                    )
                    runs.setdefault(rpc, []).append(run)
            figures: dict[str, Any] = {rpc: _summary(done) for rpc, done in runs.items()}
            if "echo" in runs and "health" in runs:
                echo_cpu, health_cpu = figures["echo"], figures["health"]
                over = echo_cpu["gateway_cpu_us_per_call"] - health_cpu["gateway_cpu_us_per_call"]
                figures["echo_over_health_us"] = round(over, 1)
                if args.instructions:
                    name = "gateway_instructions_per_call"
                    figures["echo_over_health_instructions"] = echo_cpu[name] - health_cpu[name]
            return figures
        finally:
            await laned_server.stop(grace=1.0)
            await laned.close()
            await echo.stop(grace=1.0)
            await server.stop(grace=1.0)
            await runtime.close()
            store.close()


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure the least disturbed run (min: other load only ever adds CPU) and the median."""
    summary: dict[str, Any] = {}
    for name in runs[0]:
        values = [run[name] for run in runs]
        best = max(values) if name == "calls_per_second" else min(values)
        summary[name], summary[f"{name}_median"] = best, statistics.median(values)
    return summary


# -- the interceptor alone ----------------------------------------------------------------------


class _StandInContext:
    """Just enough of grpc.aio.ServicerContext for the interceptor (as tests/service use)."""

    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self.metadata

    def auth_context(self) -> dict[str, list[bytes]]:
        return {}

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1"

    async def send_initial_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        pass

    def set_trailing_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        pass

    def time_remaining(self) -> float | None:
        return 10.0

    async def abort_with_status(self, status: grpc.Status) -> None:
        raise aio.AbortError()


def _time_entries() -> Any:
    """A SubmitTimeEntries request of 5 entries (decimal hours, names, dates: every kind of bound)."""
    from google.type import date_pb2

    from q2c.v1 import engagement_pb2

    entry = engagement_pb2.TimeEntryInput(
        person="jane.doe",
        role="engineer",
        hours="7.5",
        description="design review and follow-up",
        work_date=date_pb2.Date(year=2026, month=1, day=5),
    )
    return engagement_pb2.SubmitTimeEntriesRequest(request_id="r-1", engagement_id="e-1", entries=[entry] * 5)


async def _interceptor_figures(
    calls: int, correlation: bool, repeats: int, instructions: Path | None
) -> dict[str, float]:
    """CPU µs (and instructions, under callgrind) per call of the edge's wrapped unary handler
    around a no-op behaviour, for a read and a 5-entry mutation."""
    from q2c.v1 import customer_pb2
    from q2c_core.edge.auth.devkey import create_dev_key
    from q2c_core.edge.interceptors import CallContextInterceptor
    from q2c_core.edge.limits import RateLimiter
    from q2c_core.edge.security import security_from_dev_key

    with tempfile.TemporaryDirectory(prefix="q2c-bench-gateway-") as directory:
        key = create_dev_key(Path(directory) / "dev-key")
        interceptor = CallContextInterceptor(
            security_from_dev_key(key).authenticator, rate_limiter=RateLimiter(_never_empty())
        )
        token = key.mint("acme", "bench", (*SCOPES, "engagements:write"))
    metadata: tuple[tuple[str, str], ...] = (("authorization", f"Bearer {token}"),)
    if correlation:
        metadata += (("x-correlation-id", "bench-gateway-client"),)
    cases = {
        "interceptor_cpu_us_per_call": (CUSTOMER_METHOD, customer_pb2.GetCustomerRequest(customer_id="c-1")),
        "interceptor_mutation_cpu_us_per_call": (ENTRIES_METHOD, _time_entries()),
    }
    figures: dict[str, float] = {}
    for name, (method, request) in cases.items():
        run = _interceptor_run(interceptor, method, request, metadata)
        figures[name] = await _cpu_per_call(run, calls, repeats)
        if instructions:
            counters("-z", instructions)
            await run(calls)
            figures[name.replace("cpu_us", "instructions")] = round(counters("-d", instructions) / calls)
    return figures


def _interceptor_run(interceptor: Any, method: str, request: Any, metadata: Any) -> Any:
    """`run(n)`: n calls of `method` through the edge's wrapper, made once as the server
    registers it (`CallContextInterceptor.wrap`), on a stand-in context."""

    class _Handler:
        request_deserializer = response_serializer = None
        unary_stream = stream_unary = stream_stream = None

        @staticmethod
        async def unary_unary(request: Any, context: Any) -> Any:
            return request

    context = _StandInContext(metadata)
    handler = interceptor.wrap(_Handler, method).unary_unary

    async def run(calls: int) -> None:
        for _ in range(calls):
            await handler(request, context)

    return run


async def _cpu_per_call(run: Any, calls: int, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.process_time()
        await run(calls)
        samples.append((time.process_time() - started) / calls * 1e6)
    return round(min(samples), 2)


# -- the servicer alone -------------------------------------------------------------------------


def _canned_result() -> Any:
    """A slim accepted result (an active engagement with a contract): what a BASIC mutation reply
    is made of."""
    from datetime import UTC, date, datetime

    from q2c_core.app.messages import CommandResult, ContractHeader, EngagementSummary
    from q2c_core.domain.entities import EngagementState

    stamp = datetime(2026, 1, 3, 10, 11, 12, 345678, tzinfo=UTC)
    header = ContractHeader(
        revision=1,
        currency="USD",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
        po_reference="",
        approve_time=stamp,
        effective_from=None,
    )
    summary = EngagementSummary(
        engagement_id="e-1",
        customer_id="c-1",
        display_name="Engagement 17",
        opportunity_ref="",
        service_line="CONSULTING",
        expected_start_date=date(2026, 1, 2),
        start_date=date(2026, 1, 5),
        state=EngagementState.ACTIVE,
        held_from=None,
        held_step=None,
        project_template_id="tpl",
        open_exception_ids=(),
        contract=header,
        version=12,
        create_time=stamp,
        update_time=stamp,
    )
    return CommandResult(version=12).model_copy(update={"summary": summary})


def _canned_runtime() -> Any:
    """A runtime whose every command is accepted at once with a slim result, without Ray or the
    store."""
    result = _canned_result()

    class Runtime:
        queries = None

        async def run(self, *args: Any, **kwargs: Any) -> Any:
            return result

    return Runtime()


async def _servicer_figures(calls: int, repeats: int) -> dict[str, float]:
    """CPU µs per call of EngagementService handlers (request -> command, BASIC reply) over a
    runtime that answers at once: QualifyEngagement and a 5-entry SubmitTimeEntries."""
    from q2c.v1 import engagement_pb2
    from q2c_core.app.messages import Caller
    from q2c_core.edge.context import CALLER
    from q2c_core.edge.engagement_servicer import EngagementServicer

    CALLER.set(Caller(tenant_id="acme", principal="bench", correlation_id="c"))
    servicer, basic = EngagementServicer(_canned_runtime()), engagement_pb2.ENGAGEMENT_VIEW_BASIC
    entries = _time_entries()
    entries.view = basic
    for i, entry in enumerate(entries.entries):  # ids too: the command is built in full
        entry.entry_id, entry.billing_line_id = f"t-{i}", "tm"
    cases = {
        "servicer_qualify_cpu_us_per_call": (
            servicer.QualifyEngagement,
            engagement_pb2.QualifyEngagementRequest(request_id="r-1", engagement_id="e-1", view=basic),
        ),
        "servicer_time_entries_cpu_us_per_call": (servicer.SubmitTimeEntries, entries),
    }
    figures: dict[str, float] = {}
    for name, (handler, request) in cases.items():

        async def run(n: int, handler: Any = handler, request: Any = request) -> None:
            for _ in range(n):
                await handler(request, None)

        figures[name] = await _cpu_per_call(run, calls, repeats)
    return figures


# -- main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--client"]:
        port, token, customer_id, rpc, calls, concurrency, correlation = argv[1:]
        # the client on asyncio's loop whatever the gateway runs on: only the gateway changes
        client = _client(int(port), token, customer_id, rpc, int(calls), int(concurrency), correlation == "1")
        run(client, "asyncio")
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__)
    parser.add_argument("--label", required=True, help="what this run measures (e.g. before, token-cache)")
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--repeats", type=int, default=5, help="runs per figure (the least disturbed is kept)"
    )
    parser.add_argument("--correlation", choices=("send", "none"), default="send")
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="the gateway's event loop (server.py runs asyncio's; uvloop must be installed by hand)",
    )
    parser.add_argument(
        "--instructions",
        metavar="DIR",
        type=Path,
        help="also count the gateway's instructions per call (deterministic, unlike CPU time on a shared "
        "machine): run under valgrind --tool=callgrind --trace-children=no "
        "--callgrind-out-file=DIR/callgrind.out.%%p",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=("interceptor", "servicer", *RPCS),
        help="measure only these figures (repeatable)",
    )
    args = parser.parse_args(argv)
    record: dict[str, Any] = {
        **machine(),
        "mode": "gateway",
        "label": args.label,
        "calls": args.calls,
        "concurrency": args.concurrency,
        "correlation": args.correlation,
        "loop": args.loop,
    }
    record["command"] = record["command"].replace("bench.lifecycle", "bench.gateway")
    if args.only is None or "interceptor" in args.only:
        correlation = args.correlation == "send"
        figures = _interceptor_figures(args.calls, correlation, args.repeats, args.instructions)
        record.update(run(figures, args.loop))
    if args.only is None or "servicer" in args.only:
        record.update(run(_servicer_figures(args.calls, args.repeats), args.loop))
    if args.only is None or set(args.only) - {"interceptor", "servicer"}:
        record.update(run(_rpc_figures(args), args.loop))
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "gateway.jsonl").open("a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")
    shown = ("label", "interceptor_cpu_us_per_call", "interceptor_mutation_cpu_us_per_call")
    shown += ("servicer_qualify_cpu_us_per_call", "servicer_time_entries_cpu_us_per_call")
    shown += ("interceptor_instructions_per_call", "interceptor_mutation_instructions_per_call", *RPCS)
    shown += ("echo_over_health_us", "echo_over_health_instructions")
    print(json.dumps({k: record[k] for k in shown if k in record}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
