"""Run the simulator as a separate process on a free port with a temporary SQLite file."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulator.client import SimulatorClient

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RunningSimulator:
    """A started simulator process and a client bound to it."""

    proc: subprocess.Popen[str]
    url: str
    client: SimulatorClient

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        return int(self.proc.returncode)


def start_simulator(db: Path) -> RunningSimulator:
    """Start ``python -m simulator`` and wait for its banner."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("simulator listening on "):
        proc.kill()
        raise AssertionError(f"simulator did not start (exit {proc.wait()}): {line!r}")
    url = "http://" + line.split()[-1]
    return RunningSimulator(proc, url, SimulatorClient(url, timeout=5.0))


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[[], RunningSimulator]]:
    """A factory starting simulators on ``tmp_path/sim.db``; all are stopped (SIGTERM) at the end."""
    started: list[RunningSimulator] = []

    def _launch() -> RunningSimulator:
        sim = start_simulator(tmp_path / "sim.db")
        started.append(sim)
        return sim

    yield _launch
    for sim in started:
        assert sim.stop() == 0


@pytest.fixture
def sim(launch: Callable[[], RunningSimulator]) -> RunningSimulator:
    """One running simulator."""
    return launch()


def poll_until(check: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> None:
    """Call ``check`` until it returns True, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
