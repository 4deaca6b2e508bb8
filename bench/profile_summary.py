"""Summarize a py-spy raw (collapsed) profile written by ``bench.lifecycle --py-spy FILE``.

    python -m bench.profile_summary FILE [--top 25] [--match PATTERN ...]

Stacks under module imports (process start-up) are left out. Per process (grouped by name):
samples, then the top functions by inclusive samples (each function counted once per stack) and
by self samples. ``--match`` adds the inclusive share of any frame whose
text contains PATTERN (e.g. ``sqlalchemy``, ``pydantic``, ``ray/``), per process.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter, defaultdict

PROCESS = re.compile(r'^process \d+:"([^"]*)"$')


def process_name(frame: str) -> str:
    match = PROCESS.match(frame)
    cmd = match.group(1) if match else frame
    if cmd.startswith("ray::"):
        return cmd.split()[0].split(".")[0]
    if "server.py" in cmd:
        return "gateway (server.py)"
    return cmd.split()[0].rsplit("/", 1)[-1] if cmd else "?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument(
        "--match",
        nargs="*",
        default=[
            "sqlalchemy",
            "sqlite3",
            "psycopg",
            "pydantic",
            "grpc",
            "ray/",
            "json",
            "hashlib",
            "q2c_core/domain",
            "q2c_core/adapters/store",
            "q2c_core/app/host",
        ],
    )
    args = parser.parse_args()
    totals: Counter[str] = Counter()
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    own: dict[str, Counter[str]] = defaultdict(Counter)
    matched: dict[str, Counter[str]] = defaultdict(Counter)
    startup: Counter[str] = Counter()
    with open(args.file) as handle:
        for line in handle:
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            count = int(count_text)
            frames = stack.split(";")
            # With --subprocesses each stack starts with the chain of processes (root first).
            name = process_name([f for f in frames if f.startswith("process ")][-1])
            frames = [f for f in frames if not f.startswith(("process ", "thread "))]
            if any("importlib._bootstrap" in f for f in frames):
                startup[name] += count  # module imports: process start-up, not steady state
                continue
            totals[name] += count
            if frames:
                own[name][frames[-1]] += count
            for frame in set(frames):
                inclusive[name][frame] += count
            for pattern in args.match:
                if any(pattern in f for f in frames):
                    matched[name][pattern] += count
    for name, total in totals.most_common():
        if total < 20:
            continue
        print(f"\n== {name}: {total} samples (+{startup[name]} in imports at start-up, left out)")
        print("  share of samples with a frame matching:")
        for pattern, count in matched[name].most_common():
            print(f"    {100 * count / total:5.1f}%  {pattern}")
        print("  inclusive:")
        for frame, count in inclusive[name].most_common(args.top):
            print(f"    {100 * count / total:5.1f}%  {frame}")
        print("  self:")
        for frame, count in own[name].most_common(args.top // 2):
            print(f"    {100 * count / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
