"""What every servicer does with the runtime: run a command, or a blocking read in a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.domain.commands import Command
from q2c_core.domain.engagement import Engagement
from q2c_core.edge.context import current_caller

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime

P = ParamSpec("P")
T = TypeVar("T")


async def blocking(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a sync catalog / query call off the event loop (they raise domain errors)."""
    return await asyncio.to_thread(function, *args, **kwargs)


class CommandRunner:
    """Sends one engagement command to the runtime and turns a rejection into a raise."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def run(self, engagement_id: str, request_id: str | None, command: Command) -> Engagement:
        """The engagement after the command, or the domain error that rejected it."""
        result = await self.run_result(engagement_id, request_id, command)
        if result.engagement is None:
            raise RuntimeError(f"runtime accepted {command.kind} but returned no engagement")
        return result.engagement

    async def run_result(self, engagement_id: str, request_id: str | None, command: Command) -> CommandResult:
        """The accepted command's whole result (engagement, created invoice), or the rejection."""
        envelope = CommandEnvelope(
            caller=current_caller(),
            engagement_id=engagement_id,
            request_id=request_id or None,
            command=command,
        )
        result = await self.runtime.execute(envelope)
        if result.error is not None:
            error = result.error.to_error()
            error.audited = True  # the host audited this rejection with its command
            error.metadata.setdefault("engagement_id", engagement_id)
            raise error
        return result
