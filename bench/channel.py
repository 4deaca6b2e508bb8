"""CPU per round trip of the gateway -> shard hop: Ray actor calls against the direct channel.

    python -m bench.channel --calls 2000 --payload 4000

A Ray actor (num_cpus=0, like a shard) echoes `--payload` bytes (about a 7-command month-end
batch, wire-encoded) back to this asyncio process, one call in flight at a time (as a lane
sends), three ways:

- `ray-async`: an async actor method (a shard before issue 13's third round);
- `ray-threaded`: a synchronous method of a threaded actor (max_concurrency > 1);
- `direct`: actors/direct.py, the actor serving frames on its own socket (what lanes use).

For each: the actor process's CPU (from /proc) and this process's CPU (time.process_time) per
call, and the mean round trip, over `--calls` calls after 200 untimed ones. One JSON line per
invocation is appended to bench/results/channel.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import ray

from actors.direct import ChannelClient, ChannelServer, Endpoint
from bench.lifecycle import cpu_seconds

RESULTS = Path(__file__).parent / "results"
WARMUP = 200


@ray.remote(num_cpus=0)
class AsyncEcho:
    async def echo(self, body: bytes) -> bytes:
        return body

    async def pid(self) -> int:
        return os.getpid()


@ray.remote(num_cpus=0, max_concurrency=4)  # type: ignore[call-overload]
class ThreadedEcho:
    def __init__(self) -> None:
        self.server = ChannelServer(self.echo)

    def echo(self, body: bytes) -> bytes:
        return body

    def pid(self) -> int:
        return os.getpid()

    def endpoint(self) -> Endpoint:
        return self.server.endpoint


async def _measure(pid: int, call: Any, payload: bytes, calls: int) -> dict[str, float]:
    for _ in range(WARMUP):
        await call(payload)
    actor_before, mine_before, started = cpu_seconds(pid), time.process_time(), time.perf_counter()
    for _ in range(calls):
        assert len(await call(payload)) == len(payload)
    return {
        "actor_cpu_us": round((cpu_seconds(pid) - actor_before) / calls * 1e6, 1),
        "caller_cpu_us": round((time.process_time() - mine_before) / calls * 1e6, 1),
        "round_trip_us": round((time.perf_counter() - started) / calls * 1e6, 1),
    }


async def run(calls: int, payload_bytes: int) -> dict[str, Any]:
    payload = os.urandom(payload_bytes)
    found: dict[str, Any] = {}
    async_actor = AsyncEcho.remote()  # type: ignore[attr-defined]
    found["ray-async"] = await _measure(
        await async_actor.pid.remote(), async_actor.echo.remote, payload, calls
    )
    threaded = ThreadedEcho.remote()  # type: ignore[attr-defined]
    pid = await threaded.pid.remote()
    found["ray-threaded"] = await _measure(pid, threaded.echo.remote, payload, calls)
    client = await ChannelClient.connect(await threaded.endpoint.remote())
    found["direct"] = await _measure(pid, client.call, payload, calls)
    client.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--payload", type=int, default=4000, help="bytes each way")
    args = parser.parse_args()
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, namespace="q2c-bench-channel")
    try:
        found = asyncio.run(run(args.calls, args.payload))
    finally:
        ray.shutdown()
    line = {"when": time.strftime("%Y-%m-%dT%H:%M:%S"), "calls": args.calls, "payload": args.payload, **found}
    for way in ("ray-async", "ray-threaded", "direct"):
        print(f"{way:13} {found[way]}")
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "channel.jsonl").open("a") as out:
        out.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
