"""The Runtime protocol the gateway talks to, and LocalRuntime (everything in-process)."""

from __future__ import annotations

from typing import Protocol

from q2c_core.catalog import Catalog
from q2c_core.host import EngagementHost
from q2c_core.messages import CommandEnvelope, CommandResult
from q2c_core.queries import Queries
from q2c_core.rejection_log import RejectionLog
from q2c_core.store import Store


class Runtime(Protocol):
    """Runs engagement commands on their hosts; reads and reference data go to the store."""

    catalog: Catalog
    queries: Queries
    rejections: RejectionLog

    async def execute(self, envelope: CommandEnvelope) -> CommandResult:
        """Run one command on the host that owns its engagement; never raises domain errors."""
        ...

    async def healthy(self) -> bool:
        """True while the runtime can take commands."""
        ...

    async def close(self) -> None:
        """Stop accepting commands and release resources."""
        ...


class LocalRuntime:
    """One in-process EngagementHost: fast tests and single-process deployments."""

    def __init__(self, store: Store, host: EngagementHost | None = None) -> None:
        self.store = store
        self.host = host or EngagementHost(store)
        self.catalog = Catalog(store)
        self.queries = Queries(store)
        self.rejections = RejectionLog(store)

    async def execute(self, envelope: CommandEnvelope) -> CommandResult:
        """Run one command through the host's group-commit pipeline."""
        return await self.host.submit(envelope)

    async def healthy(self) -> bool:
        """Always true while open."""
        return not self.host.closed

    async def close(self) -> None:
        """Stop the host."""
        await self.host.close()
