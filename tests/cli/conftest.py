"""A real q2c gateway for the CLI tests, on its own event loop in a background thread.

The CLI is a synchronous gRPC client called in-process (`clients.cli.main([...])`), so the
server cannot share the test's event loop: it runs on a loop of its own in a daemon thread,
over LocalRuntime and a fresh database per module (SQLite and PostgreSQL). It trusts the test
development key (`tests.credentials`), and the `cli` fixture passes a token for the seeded tenant.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from clients.cli import main
from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import start_server
from q2c_core.edge.security import GatewaySecurity, TlsFiles, security_from_dev_key
from tests import credentials
from tests.cli.seed import Seed, seed

READY_SECONDS = 30.0


class ThreadedServer:
    """The gateway served from a daemon thread; `port` is known once `start()` returns."""

    def __init__(self, database_url: str, tls: TlsFiles | None = None) -> None:
        self.database_url = database_url
        self.tls = tls
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    def start(self) -> ThreadedServer:
        """Start serving; wait until the port is bound."""
        self._thread.start()
        if not self._ready.wait(READY_SECONDS):
            raise RuntimeError("the q2c test server did not start")
        return self

    def stop(self) -> None:
        """Drain and stop the server, then join its thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(READY_SECONDS)

    def security(self, store: Store) -> GatewaySecurity:
        """Trust the test development key; speak TLS when the server was given files."""
        return security_from_dev_key(credentials.dev_key(), store, self.tls)

    async def runtime(self, store: Store) -> Any:
        """The runtime behind the gateway (in-process here; subclasses choose another)."""
        return LocalRuntime(store)

    async def close_runtime(self, runtime: Any) -> None:
        """Close what `runtime()` built."""
        await runtime.close()

    async def _serve(self) -> None:
        store = Store.open(self.database_url)
        runtime = await self.runtime(store)
        gateway = await start_server(runtime, security=self.security(store))
        self.port, self._loop, self._stop = gateway.port, asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await gateway.stop(grace=1.0)
            await self.close_runtime(runtime)
            store.close()


@dataclass(frozen=True)
class Server:
    """Where the test server listens, and what was seeded into it."""

    target: str
    data: Seed


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[Server]:
    """A seeded server per module and database backend."""
    running = ThreadedServer(database_url).start()
    target = f"127.0.0.1:{running.port}"
    try:
        yield Server(target, seed(target))
    finally:
        running.stop()


@dataclass(frozen=True)
class Run:
    """One CLI invocation: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as the one JSON document it must be."""
        return json.loads(self.out)

    def error(self) -> Any:
        """stderr parsed as the one JSON error object of --json mode."""
        return json.loads(self.err)


Cli = Callable[..., Run]


@pytest.fixture
def cli(server: Server, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `q2c --target <server> --token <token for the seeded tenant> ARGS...` in-process."""
    token = credentials.token(server.data.tenant_id, "operator")

    def run(*args: str) -> Run:
        code = main(["--target", server.target, "--token", token, *args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
