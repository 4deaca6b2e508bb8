"""Memory per hosted idle engagement: N engagements activated on one shard actor, then left idle.

    python -m bench.idle_memory --engagements 100000
    python -m bench.idle_memory --engagements 20000 --profile billable --template /tmp/idle-billable.db

A SQLite database is seeded through the real EngagementHost (decide, audit, idempotency, group
commit; not timed) with N + 200 engagements of one profile:

- `active`: created, qualified, won, contract approved (T&M on a rate card, a fixed fee with one
  milestone, pass-through expenses) and activated: 5 commands, 5 events;
- `billable`: the same plus 20 approved time entries, 2 approved expenses and an accepted
  milestone (bench/seed.py's month-end engagement): 11 commands.

Then, for each mode, a fresh `EngagementShard` actor (one Ray worker process) loads 200
engagements to warm up, its VmRSS is read, the N others are activated through
`EngagementShard.activate` (snapshot + tail from the store, 1,000 per call), and VmRSS is read
again once they are hosted as the mode says:

- `live`: residency limits that keep all N live (no hibernation): the state as commands use it;
- `idle`: the shard's default limits (at most 20,000 live, or `--max-hot`; hibernated after 30 s unused), then
  nothing more is sent; the run polls the shard's stats (with a deadline) until every
  engagement is hibernating, and reads VmRSS then.

Resident bytes per engagement = (VmRSS after - VmRSS before) / N. A breakdown of one
engagement's live state (deep `sys.getsizeof` by field, and tracemalloc of a fresh copy) and
its hibernated size is measured in this process. One JSON line per mode is appended to
bench/results/idle_memory.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

from bench.lifecycle import RESULTS, machine, rss_bytes
from bench.memory_breakdown import deep_sizes
from bench.seed import APPROVALS, APPROVER, CALLER, TENANT, WAVE, reference_data, steps
from q2c_core.adapters.store import Store
from q2c_core.app.decoding import rebuild
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import CommandEnvelope, new_resource_id
from q2c_core.app.residency import ResidencyLimits, freeze, thaw
from q2c_core.app.runtime import LocalRuntime

WARMUP = 200
CHUNK = 1_000
PROFILES = {"active": 5, "billable": 11}
DAY = 86_400.0


def engagement_ids(count: int) -> list[str]:
    """The ids the seeding gives its engagements, in order."""
    return [new_resource_id(TENANT, f"eng-{n}", "engagement") for n in range(count)]


async def seed_profile(url: str, count: int, profile: str) -> None:
    """Seed `count` engagements of `profile` through an in-process host, a wave at a time."""
    store = Store.open(url)
    host = EngagementHost(store, max_batch=WAVE, max_resident=WAVE)
    runtime = LocalRuntime(store, host)
    customers, card = reference_data(runtime)
    ids = engagement_ids(count)
    started = time.perf_counter()
    for first in range(0, count, WAVE):
        wave = range(first, min(first + WAVE, count))
        for make in steps(card)[: PROFILES[profile]]:
            envelopes = []
            for n in wave:
                command = make(n, customers[n % len(customers)])
                who = APPROVER if isinstance(command, APPROVALS) else CALLER
                envelopes.append(
                    CommandEnvelope(caller=who, engagement_id=ids[n], slim_reply=True, command=command)
                )
            failed = [r.error for r in await host.submit_many(envelopes) if r.error]
            if failed:
                raise RuntimeError(f"seeding failed: {failed[:3]}")
        print(f"seeded {wave[-1] + 1}/{count} in {time.perf_counter() - started:.0f}s", flush=True)
    await runtime.close()
    store.close()


def template(path: Path, count: int, profile: str) -> str:
    """The seeded database at `path` (seeded now unless it already holds at least this many)."""
    marker = path.with_suffix(".seeded")
    held = marker.read_text().split(":") if marker.exists() else ["", "0"]
    if held[0] != profile or int(held[1]) < count:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        asyncio.run(seed_profile(f"sqlite:///{path}", count, profile))
        marker.write_text(f"{profile}:{count}")
    Store.open(f"sqlite:///{path}").close()  # migrations added since it was seeded
    return f"sqlite:///{path}"


def breakdown(url: str, engagement_id: str) -> dict[str, Any]:
    """One engagement's live state by field, its tracemalloc size and its hibernated size."""
    store = Store.open(url, migrate=False)
    row, tail = store.load_stream(TENANT, engagement_id)
    state = rebuild(row, tail, lambda: store.read_events(TENANT, engagement_id), engagement_id)
    store.close()
    assert state is not None
    frozen = freeze(state)
    tracemalloc.start()
    copy = thaw(frozen)
    traced = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    started = time.perf_counter()
    for _ in range(200):
        thaw(frozen)
    thaw_us = (time.perf_counter() - started) / 200 * 1e6
    started = time.perf_counter()
    for _ in range(200):
        freeze(copy)
    freeze_us = (time.perf_counter() - started) / 200 * 1e6
    return {
        "live_state_bytes_tracemalloc": traced,
        "live_state_bytes_by_field": deep_sizes(copy),
        "hibernated_bytes": len(frozen),
        "snapshot_json_bytes": len(state.model_dump_json()),
        "freeze_us": round(freeze_us, 1),
        "thaw_us": round(thaw_us, 1),
        "version": state.version,
    }


def measure(url: str, ids: list[str], mode: str, max_hot: int = 0) -> dict[str, Any]:
    """Host `ids` on a fresh shard actor in `mode`; its RSS growth per engagement."""
    import ray

    from actors.shard import EngagementShard

    count = len(ids) - WARMUP
    if mode == "live":
        limits = ResidencyLimits(max_hot=len(ids), hibernate_seconds=DAY, max_hibernating=0, idle_seconds=DAY)
    else:
        defaults = ResidencyLimits()
        limits = ResidencyLimits(
            max_hot=max_hot or defaults.max_hot,
            hibernate_seconds=defaults.hibernate_seconds,
            max_hibernating=len(ids),
            idle_seconds=DAY,  # hosted for the whole measurement, however long it takes
        )
    name = f"idle-memory-{uuid.uuid4().hex[:6]}"
    shard: Any = EngagementShard.options(name=name, namespace="q2c").remote(url, 0, residency=limits)
    pid = ray.get(shard.stats.remote())["pid"]
    ray.get(shard.activate.remote(TENANT, ids[-WARMUP:]))
    before = rss_bytes(pid)
    started = time.perf_counter()
    for first in range(0, count, CHUNK):
        ray.get(shard.activate.remote(TENANT, ids[first : min(first + CHUNK, count)]))
    activation_s = time.perf_counter() - started
    stats = ray.get(shard.stats.remote())
    if mode == "idle":
        deadline = time.monotonic() + limits.hibernate_seconds + 120
        while stats["hibernating"] < len(ids) and time.monotonic() < deadline:
            time.sleep(1.0)  # polling the shard's state with a deadline
            stats = ray.get(shard.stats.remote())
        if stats["hibernating"] < len(ids):
            raise RuntimeError(f"only {stats['hibernating']} of {len(ids)} hibernated: {stats}")
    after = rss_bytes(pid)
    ray.kill(shard)
    return {
        "mode": mode,
        "engagements": count,
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "bytes_per_engagement": round((after - before) / count),
        "live": stats["resident"],
        "hibernating": stats["hibernating"],
        "hibernating_bytes_per_engagement": round(stats["hibernating_bytes"] / len(ids)),
        "activation_s": round(activation_s, 1),
        "activations_per_s": round(count / activation_s),
        "limits": {
            "max_hot": limits.max_hot,
            "hibernate_seconds": limits.hibernate_seconds,
            "max_hibernating": limits.max_hibernating,
            "idle_seconds": limits.idle_seconds,
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Seed (or reuse) the template, then measure each mode on a fresh shard."""
    parser = argparse.ArgumentParser(prog="python -m bench.idle_memory", description=__doc__)
    parser.add_argument("--engagements", type=int, default=100_000)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="active")
    parser.add_argument("--modes", default="live,idle")
    parser.add_argument(
        "--max-hot", type=int, default=0, help="idle mode: live engagements at most (default 20,000)"
    )
    parser.add_argument("--template", default="", help="keep the seeded SQLite file here and reuse it")
    args = parser.parse_args(argv)
    import tempfile

    import ray

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(args.template or f"{scratch}/idle.db").resolve()
        total = args.engagements + WARMUP
        url = template(path, total, args.profile)
        ids = engagement_ids(total)
        detail = breakdown(url, ids[0])
        ray.init(num_cpus=2, include_dashboard=False, namespace="q2c", log_to_driver=False)
        rows = []
        for mode in args.modes.split(","):
            row = {
                "profile": args.profile,
                **measure(url, ids, mode, args.max_hot),
                "state": detail,
                **machine(),
            }
            row["command"] = row["command"].replace("bench.lifecycle", "bench.idle_memory")
            print(json.dumps({k: v for k, v in row.items() if k not in ("state", "limits")}), flush=True)
            rows.append(row)
        ray.shutdown()
    print(json.dumps(detail, indent=1))
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "idle_memory.jsonl").open("a") as out:
        for row in rows:
            out.write(json.dumps(row, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
