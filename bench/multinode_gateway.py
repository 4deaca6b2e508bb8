"""A q2c gateway process joined to a Ray cluster, on a fresh PostgreSQL database, auth on.

    with fresh_database("postgresql", DEFAULT_PG) as url, gateway(cluster.address, url, key, 4) as gw:
        ...  # gw.target is host:port; tokens are minted from `key`

Without pacing the gateway is `server.py` exactly as an operator runs it. With pacing
(`(chunk, pause)`: engagements per bill-run chunk and seconds between chunks, so a small run
lasts long enough to lose a node in the middle of it) it is this module's `serve`: the same
composition root (`q2c_core.bootstrap.running`) with the runtime's bill-run pacing set, because
`server.py` has no flag for it (RayRuntime's `bill_run_chunk` / `bill_run_pause`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
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
    """Start a gateway on a free port and wait for it to listen; SIGTERM (then kill) at exit."""
    flags = [
        "--port=0",
        f"--ray-address={ray_address}",
        f"--shards={shards}",
        f"--database-url={database_url}",
        f"--dev-key-dir={key_dir}",
        f"--deployment={deployment}",
        "--log-level=WARNING",
    ]
    if pacing is None:
        command = [sys.executable, "server.py", *flags]
    else:
        pace = [f"--bill-run-chunk={pacing[0]}", f"--bill-run-pause={pacing[1]}"]
        command = [sys.executable, "-m", "bench.multinode_gateway", *pace, "--", *flags]
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


async def serve(argv: list[str], chunk: int, pause: float) -> None:
    """`q2c serve` with the bill-run pacing set on the runtime; serve until SIGTERM/SIGINT."""
    from q2c_core.bootstrap import running
    from q2c_core.logs import configure_logging
    from q2c_core.settings import parse_settings

    settings = parse_settings(argv)
    configure_logging(settings.log_level, settings.log_format)
    async with running(settings) as service:
        runtime = service.runtime
        runtime.bill_run_chunk, runtime.bill_run_pause = chunk, pause  # type: ignore[attr-defined]
        print(f"q2c listening on {settings.host}:{service.gateway.port}", flush=True)
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        await stop.wait()


def wait_until(condition: object, timeout: float, what: str, every: float = 0.1) -> None:
    """Poll `condition()` until true; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def main() -> int:
    """python -m bench.multinode_gateway --bill-run-chunk N --bill-run-pause S -- <q2c serve flags>"""
    parser = argparse.ArgumentParser(prog="python -m bench.multinode_gateway", description=__doc__)
    parser.add_argument("--bill-run-chunk", type=int, required=True, help="engagements per chunk and shard")
    parser.add_argument("--bill-run-pause", type=float, required=True, help="seconds between chunks")
    parser.add_argument("serve_flags", nargs=argparse.REMAINDER, help="-- then the flags of q2c serve")
    args = parser.parse_args()
    flags = args.serve_flags[1:] if args.serve_flags[:1] == ["--"] else args.serve_flags
    os.chdir(ROOT)
    asyncio.run(serve(flags, args.bill_run_chunk, args.bill_run_pause))
    return 0


if __name__ == "__main__":
    sys.exit(main())
