"""A q2c gateway process joined to a Ray cluster, on a fresh PostgreSQL database, auth on.

    with fresh_database("postgresql", DEFAULT_PG) as url, gateway(cluster.address, url, key, 4) as gw:
        ...  # gw.target is host:port; tokens are minted from `key`

The gateway is `server.py` exactly as an operator runs it (`--ray-address`, `--shards`,
`--database-url`, `--dev-key-dir`); with `pacing=(chunk, pause)` it also gets
`--bill-run-chunk` and `--bill-run-pause-seconds`, so a small bill run lasts long enough to
lose a node in the middle of it.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.multinode import ray_env

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Gateway:
    """A running gateway: its gRPC target, process and log file."""

    target: str
    proc: subprocess.Popen[str]
    log_path: Path


@contextlib.contextmanager
def gateway(
    ray_address: str,
    database_url: str,
    key_dir: Path,
    shards: int,
    *,
    pacing: tuple[int, float] | None = None,
    deployment: str = "q2c",
    log_path: Path | None = None,
) -> Iterator[Gateway]:
    """Start server.py on a free port and wait for it to listen; SIGTERM (then kill) at exit."""
    command = [
        sys.executable,
        "server.py",
        "--port=0",
        f"--ray-address={ray_address}",
        f"--shards={shards}",
        f"--database-url={database_url}",
        f"--dev-key-dir={key_dir}",
        f"--deployment={deployment}",
        "--log-level=WARNING",
    ]
    if pacing is not None:
        command += [f"--bill-run-chunk={pacing[0]}", f"--bill-run-pause-seconds={pacing[1]}"]
    log_path = log_path or key_dir.parent / "gateway.log"
    env = {k: v for k, v in ray_env().items() if not k.startswith("Q2C_")}
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    try:
        target = _listening(proc)
        if target is None:
            raise RuntimeError(f"gateway exited {proc.wait()}: {log_path.read_text()[-3000:]}")
        yield Gateway(target, proc, log_path)
    finally:
        _stop(proc)


def _listening(proc: subprocess.Popen[str]) -> str | None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("q2c listening on"):
            return line.split()[-1]
    return None


def _stop(proc: subprocess.Popen[str], grace: float = 30.0) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
