"""Counting a benchmark's own instructions under callgrind, between two points of its run.

Run the benchmark under `valgrind --tool=callgrind --callgrind-out-file=DIR/callgrind.out.%p`;
`counters("-z", DIR)` zeroes this process's counters, `counters("-d", DIR)` dumps them and
returns the instructions counted since.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def counters(command: str, directory: Path) -> int:
    """Zero (-z) or dump (-d) this process's callgrind counters; a dump returns the instructions
    counted since the last zero (from the newest dump file's totals)."""
    subprocess.run(["callgrind_control", command, str(os.getpid())], check=True, capture_output=True)
    if command != "-d":
        return 0
    dumps = directory.glob(f"callgrind.out.{os.getpid()}*")
    newest = max(dumps, key=lambda path: path.stat().st_mtime)
    totals = [line for line in newest.read_text().splitlines() if line.startswith(("totals:", "summary:"))]
    return int(totals[-1].split()[1])
