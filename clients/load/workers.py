"""One driver process's share of a phase: its engagements' scripts, sent over one channel.

`run_job` is what a worker process runs (`--processes P`: a spawned process per share, its
Recorder state shipped back and merged); `run_phase` is the same in the calling process.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any

from clients.load import messages
from clients.load.connect import RETRYABLE, Connection, Settings
from clients.load.plan import Command, EngagementPlan
from clients.load.profile import CURRENCY_PLACES
from clients.load.record import Recorder
from clients.load.schedule import Pace, drive
from clients.load.shares import post_states


@dataclass(frozen=True)
class InvoiceRef:
    """The run's invoice of one engagement: what issuing and paying need."""

    invoice_id: str
    total: str
    currency: str


@dataclass
class Progress:
    """How far one engagement's script of a phase got."""

    key: str
    engagement_id: str = ""
    done: int = 0
    failed: str = ""
    """The status code of the command that stopped the script ("" when none failed)."""
    uncertain: bool = False
    """The failed command's outcome is unknown (it may have committed)."""
    skipped: int = 0
    """Commands not sent because there was nothing to send them to (no invoice)."""
    retries: int = 0
    """Calls retried after UNAVAILABLE or DEADLINE_EXCEEDED (same request id)."""


@dataclass(frozen=True)
class Job:
    """A phase's share for one process (picklable)."""

    settings: Settings
    phase: str  # "before" | "after"
    engagements: tuple[EngagementPlan, ...]
    ids: messages.Ids
    pace: Pace
    origin: float
    engagement_ids: dict[str, str] = field(default_factory=dict)
    invoices: dict[str, InvoiceRef] = field(default_factory=dict)
    received: date = date(2026, 1, 1)
    share: int = 0


def payment_amount(invoice: InvoiceRef, how: str) -> str:
    """The whole total, or half of it rounded down to the minor unit."""
    total = Decimal(invoice.total)
    if how == "full":
        return invoice.total
    quantum = Decimal(1).scaleb(-CURRENCY_PLACES.get(invoice.currency, 2))
    return format(max((total / 2).quantize(quantum, rounding=ROUND_DOWN), quantum), "f")


class EngagementScript:
    """One engagement's commands of a phase, sent one at a time."""

    def __init__(self, plan: EngagementPlan, commands: tuple[Command, ...], progress: Progress) -> None:
        self.plan = plan
        self.commands = commands
        self.progress = progress

    def has_next(self) -> bool:
        """True while commands are left and none failed."""
        return not self.progress.failed and self.progress.done + self.progress.skipped < len(self.commands)

    def next(self) -> Command:
        """The command to send next."""
        return self.commands[self.progress.done + self.progress.skipped]


class Sender:
    """Sends scripts' commands through one connection."""

    def __init__(self, job: Job, connection: Connection) -> None:
        self.job = job
        self.conn = connection

    async def send(self, script: Any, intended: float | None) -> None:
        """Send the script's next command; record how it went in its progress."""
        assert isinstance(script, EngagementScript)
        command, progress = script.next(), script.progress
        call = self._request(script.plan, command, progress)
        if call is None:
            progress.skipped += 1
            return
        method, request = call
        code, reply = await self.conn.call(
            command.rpc, method, request, approver=command.approver, intended=intended
        )
        progress.retries += self.conn.last_retries
        if code != "OK":
            progress.failed, progress.uncertain = code, code in RETRYABLE or code == "UNKNOWN"
            return
        if command.rpc == "CreateEngagement":
            progress.engagement_id = reply.engagement_id
        progress.done += 1

    def _request(self, plan: EngagementPlan, command: Command, progress: Progress) -> tuple[Any, Any] | None:
        conn, job = self.conn, self.job
        if command.rpc == "CreateEngagement":
            return conn.engagements.CreateEngagement, messages.create_request(command, plan, job.ids)
        if command.rpc in ("IssueInvoice", "RecordPayment"):
            invoice = job.invoices.get(plan.key)
            if invoice is None:
                return None
            if command.rpc == "IssueInvoice":
                return conn.billing.IssueInvoice, messages.issue_request(command, invoice.invoice_id)
            amount = payment_amount(invoice, command.items[0])
            request = messages.payment_request(
                command, invoice.invoice_id, amount, invoice.currency, job.received
            )
            return conn.billing.RecordPayment, request
        request = messages.engagement_request(command, plan, job.ids, progress.engagement_id)
        return getattr(conn.engagements, command.rpc), request


async def run_phase(job: Job, recorder: Recorder) -> dict[str, Progress]:
    """Run the job's scripts at its pace; the progress of each engagement."""
    connection = Connection(job.settings, recorder)
    try:
        sender = Sender(job, connection)
        scripts = []
        for plan in job.engagements:
            progress = Progress(plan.key, job.engagement_ids.get(plan.key, ""))
            commands = plan.commands if job.phase == "before" else plan.after
            scripts.append(EngagementScript(plan, commands, progress))
        await drive(list(scripts), sender.send, job.pace)
        return {s.plan.key: s.progress for s in scripts}
    finally:
        await connection.close()


def run_job(job: Job, outbox: Any = None) -> tuple[dict[str, Any], dict[str, Progress]]:
    """A worker process's entry point: run the share, return its Recorder state and progress;
    with an `outbox` (a multiprocessing queue), post the state about once a second meanwhile."""
    recorder = Recorder(job.origin)

    async def share() -> dict[str, Progress]:
        stop = asyncio.Event()
        poster = asyncio.create_task(post_states(recorder, job.share, outbox, stop)) if outbox else None
        try:
            return await run_phase(job, recorder)
        finally:
            stop.set()
            if poster is not None:
                await poster

    progress = asyncio.run(share())
    return recorder.state(), progress
