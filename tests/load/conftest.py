"""A real q2c gateway for the load tool's tests, and the two principals' tokens.

The gateway (LocalRuntime over a fresh SQLite or PostgreSQL database per module, auth on,
trusting the test development key) is the CLI tests' threaded server: `q2c load` is driven
in-process (`clients.load.command.main`) and runs its own event loop, so the server keeps one
of its own in a background thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests import credentials
from tests.cli.conftest import ThreadedServer


@dataclass(frozen=True)
class LoadTarget:
    """Where the server listens, and tokens of a submitter and an approver of one fresh tenant."""

    target: str
    submitter: str
    approver: str

    def args(self) -> list[str]:
        """The connection options of `q2c load` for this server and these principals."""
        return ["--target", self.target, "--token", self.submitter, "--approver-token", self.approver]


@pytest.fixture(scope="module")
def load_server(database_url: str) -> Iterator[str]:
    """A gateway per module and database backend; its target."""
    running = ThreadedServer(database_url).start()
    try:
        yield f"127.0.0.1:{running.port}"
    finally:
        running.stop()


@pytest.fixture
def load_target(load_server: str) -> LoadTarget:
    """The server, with tokens of two principals of a tenant no other test uses."""
    tenant = f"load-{uuid.uuid4().hex[:12]}"
    return LoadTarget(
        load_server,
        credentials.token(tenant, "load-submitter"),
        credentials.token(tenant, "load-approver"),
    )
