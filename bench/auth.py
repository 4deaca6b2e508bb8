"""What authentication costs per call: token verification, cold and cached, in one process.

    python -m bench.auth --calls 20000

Mints ES256 tokens from a fresh development key and times `Authenticator.authenticate` plus the
scope check (`authorize`) — exactly what the gateway interceptor runs before every call — for
(a) a token seen for the first time (signature verified with PyJWT) and (b) a token already
verified (the cache). A client reuses its token for many calls, so (b) is the steady state.
Results are appended as JSON lines to ``bench/results/auth.jsonl``; compare them with the
per-command CPU cost in docs/benchmarks.md (the lifecycle benchmark's `cpu_ms_per_command`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.lifecycle import RESULTS, machine
from q2c.v1 import engagement_pb2
from q2c_core.edge.auth.authenticator import authorize
from q2c_core.edge.auth.devkey import create_dev_key
from q2c_core.edge.security import security_from_dev_key

METHOD = "/q2c.v1.EngagementService/ApproveTimeEntries"


def _per_call_us(run: Any, calls: int, repeats: int = 5) -> float:
    """Median over `repeats` of the mean microseconds per call of `run(i)`."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for i in range(calls):
            run(i)
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(samples)


def measure(calls: int) -> dict[str, Any]:
    """Cold and cached verification cost, in microseconds per call."""
    with tempfile.TemporaryDirectory(prefix="q2c-bench-auth-") as directory:
        key = create_dev_key(Path(directory) / "dev-key")
        authenticator = security_from_dev_key(key).authenticator
        request = engagement_pb2.ApproveTimeEntriesRequest(engagement_id="e-1", entry_ids=["t1"])
        cold = [
            {"authorization": f"Bearer {key.mint('acme', f'p{i}', ['time:approve'])}"} for i in range(calls)
        ]
        warm = {"authorization": f"Bearer {key.mint('acme', 'jane', ['time:approve'])}"}

        def cold_call(i: int) -> None:
            authorize(authenticator.authenticate(cold[i], None), METHOD, request)

        def warm_call(_: int) -> None:
            authorize(authenticator.authenticate(warm, None), METHOD, request)

        cold_us = _per_call_us(cold_call, calls, repeats=1)
        warm_us = _per_call_us(warm_call, calls)
    return {"calls": calls, "cold_us_per_call": round(cold_us, 1), "cached_us_per_call": round(warm_us, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.auth", description=__doc__)
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args(argv)
    record = {**machine(), "mode": "auth", **measure(args.calls)}
    record["command"] = record["command"].replace("bench.lifecycle", "bench.auth")
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / "auth.jsonl").open("a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")
    print(json.dumps({k: record[k] for k in ("calls", "cold_us_per_call", "cached_us_per_call")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
