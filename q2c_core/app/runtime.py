"""The Runtime protocol the gateway talks to, and LocalRuntime (everything in-process)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from q2c_core.app.billing.control import BillRunControl
from q2c_core.app.billing.lease import LeaseSettings, RunLease
from q2c_core.app.billing.runner import DEFAULT_CHUNK, BillOutcome, BillRunCoordinator, outcomes
from q2c_core.app.billing.runs import BillRun, BillRunSpec
from q2c_core.app.billing.sweeper import BillRunSweeper
from q2c_core.app.catalog import Catalog
from q2c_core.app.connectors import NO_CONNECTORS, ConnectorFactory, Connectors
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.delivery.control import DeliveryControl
from q2c_core.app.delivery.worker import DeliveryWorker
from q2c_core.app.host import EngagementHost
from q2c_core.app.kpi_report import KpiReports
from q2c_core.app.messages import Caller, CommandEnvelope, CommandResult
from q2c_core.app.ports import Store
from q2c_core.app.reads import Queries
from q2c_core.app.rejection_log import RejectionLog
from q2c_core.app.store_errors import StoreError
from q2c_core.domain.commands import Command
from q2c_core.domain.duties import NOBODY_EXEMPT, SelfApprovalPolicy

if TYPE_CHECKING:
    from q2c_core.app.reconciliation.service import Reconciler

log = logging.getLogger(__name__)


def reconciler_for(
    store: Store, connectors: Connectors, execute: Callable[[CommandEnvelope], Awaitable[CommandResult]]
) -> Reconciler | None:
    """The ERP reconciliation job over the process's ERP connector (None without an ERP)."""
    if connectors.erp is None:
        return None
    from q2c_core.app.reconciliation.service import Reconciler

    return Reconciler(store, connectors.erp, execute)


def connectors_for(config: DeliveryConfig, factory: ConnectorFactory | None) -> Connectors:
    """The connectors `factory` builds for `config`; ValueError when an ERP/PSA is configured
    but nobody said how to reach it (the composition root hands in the factory)."""
    if not config.enabled:
        return NO_CONNECTORS
    if factory is None:
        raise ValueError("an ERP or PSA URL is configured but no connector factory was given")
    return factory(config)


class Runtime(Protocol):
    """Runs engagement commands on their hosts; reads and reference data go to the store."""

    catalog: Catalog
    queries: Queries
    kpis: KpiReports
    rejections: RejectionLog
    deliveries: DeliveryControl
    reconciler: Reconciler | None

    async def execute(self, envelope: CommandEnvelope) -> CommandResult:
        """Run one command on the host that owns its engagement; never raises domain errors."""
        ...

    async def run(
        self,
        caller: Caller,
        engagement_id: str,
        request_id: str | None,
        command: Command,
        *,
        slim: bool = False,
        invoice_lines: bool = True,
    ) -> CommandResult:
        """Execute one command for `caller`; its rejection is raised as the domain error. `slim`:
        the result carries the engagement's summary and what the command changed, not the
        engagement; without `invoice_lines`, the invoice it changed comes without its lines."""
        ...

    async def start_bill_run(self, caller: Caller, request_id: str | None, spec: BillRunSpec) -> BillRun:
        """Start a bill run and return it at once (PENDING, or as it stands when replayed).

        Raises ValidationError (currency_code), RequestIdReusedError, UnavailableError.
        """
        ...

    async def cancel_bill_run(
        self, caller: Caller, request_id: str | None, bill_run_id: str, reason: str
    ) -> BillRun:
        """PENDING / RUNNING -> CANCELLED; dispatching stops at the next chunk.

        Raises NotFoundError("bill_run"), PreconditionError BILL_RUN_FINISHED, ValidationError
        (reason), RequestIdReusedError.
        """
        ...

    async def healthy(self) -> bool:
        """True while the runtime can take commands."""
        ...

    async def close(self) -> None:
        """Stop accepting commands and release resources."""
        ...


class RuntimeServices:
    """What every runtime serves besides commands, wired one way for LocalRuntime and RayRuntime:
    reference data, reads, rejection audit, bill-run control, deliveries and reconciliation."""

    store: Store
    delivery_config: DeliveryConfig
    connectors: Connectors
    catalog: Catalog
    queries: Queries
    kpis: KpiReports
    rejections: RejectionLog
    bill_runs: BillRunControl
    deliveries: DeliveryControl
    reconciler: Reconciler | None
    execute: Callable[[CommandEnvelope], Awaitable[CommandResult]]

    def _wire_services(
        self,
        store: Store,
        delivery: DeliveryConfig | None,
        connectors: ConnectorFactory | None,
        execute: Callable[[CommandEnvelope], Awaitable[CommandResult]],
        wake_delivery: Callable[[], None],
    ) -> None:
        self.store = store
        self.delivery_config = delivery or DeliveryConfig()
        self.connectors = connectors_for(self.delivery_config, connectors)
        self.catalog = Catalog(store)
        self.queries = Queries(store)
        self.kpis = KpiReports(store)
        self.rejections = RejectionLog(store)
        self.bill_runs = BillRunControl(store)
        self.deliveries = DeliveryControl(store.deliveries(), wake=wake_delivery)
        self.reconciler = reconciler_for(store, self.connectors, execute)

    def _wire_bill_runs(self, leases: LeaseSettings | None, deployment: str) -> None:
        self.bill_run_sweeper = BillRunSweeper(
            self.store, self._launch_coordinator, leases or LeaseSettings(), deployment
        )
        self._sweep_task: asyncio.Task[None] | None = None

    async def _launch_coordinator(self, run: BillRun, lease: RunLease) -> None:
        """Start a coordinator for `run` that holds `lease` (a task, or a Ray actor)."""
        raise NotImplementedError

    async def _coordinate(self, run: BillRun) -> None:
        """Take a new run's lease for its coordinator, and launch it. Should that fail, the run
        is left unleased and a sweep resumes it once it is older than one lease."""
        lease = self.bill_run_sweeper.new_lease(run.tenant_id, run.bill_run_id)
        try:
            taken = await asyncio.to_thread(lease.take)
        except StoreError as error:
            log.warning("bill run %s: lease not taken (%s); a sweep will start it", run.bill_run_id, error)
            return
        if taken is not None:
            await self._launch_coordinator(run, lease)

    async def start_bill_run_sweeper(self) -> None:
        """Resume abandoned bill runs now and every sweep interval, until the runtime closes."""
        if self._sweep_task is None:
            self._sweep_task = asyncio.get_running_loop().create_task(self.bill_run_sweeper.run_forever())

    async def stop_bill_run_sweeper(self) -> None:
        """Stop sweeping (runs in progress go on)."""
        task, self._sweep_task = self._sweep_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def cancel_bill_run(
        self, caller: Caller, request_id: str | None, bill_run_id: str, reason: str
    ) -> BillRun:
        """Mark the run CANCELLED; its coordinator notices at its next chunk and stops."""
        return await asyncio.to_thread(self.bill_runs.cancel, caller, request_id, bill_run_id, reason)

    async def run(
        self,
        caller: Caller,
        engagement_id: str,
        request_id: str | None,
        command: Command,
        *,
        slim: bool = False,
        invoice_lines: bool = True,
    ) -> CommandResult:
        """Execute one command for `caller`: the accepted result, or the rejection raised as its
        domain error (marked audited: the host recorded it with the command). `slim`: the result
        carries the engagement's summary and what the command changed (an invoice, an
        exception), so no engagement tree crosses Ray; without `invoice_lines` (InvoiceView
        BASIC), that invoice crosses without its lines."""
        envelope = CommandEnvelope(
            caller=caller,
            engagement_id=engagement_id,
            request_id=request_id or None,
            command=command,
            slim_reply=slim,
            invoice_lines=invoice_lines,
        )
        return (await self.execute(envelope)).accepted(engagement_id)


class LocalRuntime(RuntimeServices):
    """One in-process EngagementHost: fast tests and single-process deployments."""

    def __init__(
        self,
        store: Store,
        host: EngagementHost | None = None,
        *,
        bill_run_chunk: int = DEFAULT_CHUNK,
        bill_run_pause: float = 0.0,
        delivery: DeliveryConfig | None = None,
        connectors: ConnectorFactory | None = None,
        self_approval: SelfApprovalPolicy = NOBODY_EXEMPT,
        bill_run_leases: LeaseSettings | None = None,
    ) -> None:
        # self_approval configures the host built here; a host passed in keeps its own policy
        self.host = host or EngagementHost(store, self_approval=self_approval)
        self._wire_services(store, delivery, connectors, self.execute, self.wake_delivery)
        self._wire_bill_runs(bill_run_leases, "local")
        self.delivery_worker: DeliveryWorker | None = None
        self.delivery_task: asyncio.Task[None] | None = None
        self._delivery_stop: asyncio.Event | None = None
        self._delivery_loop: asyncio.AbstractEventLoop | None = None
        self.bill_run_chunk = bill_run_chunk
        self.bill_run_pause = bill_run_pause
        self.bill_run_tasks: dict[str, asyncio.Task[BillRun]] = {}

    async def execute(self, envelope: CommandEnvelope) -> CommandResult:
        """Run one command through the host's group-commit pipeline."""
        return await self.host.submit(envelope)

    async def start_delivery(self) -> None:
        """Start the delivery worker in this event loop (when an ERP or PSA is configured)."""
        if not self.delivery_config.enabled or self.delivery_task is not None:
            return
        worker = DeliveryWorker(
            self.store,
            self.delivery_config,
            self.host.submit_many,
            erp=self.connectors.erp,
            psa=self.connectors.psa,
        )
        self.delivery_worker, self._delivery_stop = worker, asyncio.Event()
        self._delivery_loop = asyncio.get_running_loop()
        self.delivery_task = asyncio.get_running_loop().create_task(worker.run(self._delivery_stop))

    def wake_delivery(self) -> None:
        """Nudge the delivery worker (dead letters were retried); callable from any thread."""
        if self.delivery_worker is not None and self._delivery_loop is not None:
            self._delivery_loop.call_soon_threadsafe(self.delivery_worker.wake)

    async def stop_delivery(self) -> None:
        """Stop the delivery worker; items in flight stay PENDING and are retried later."""
        if self.delivery_task is not None and self._delivery_stop is not None:
            self._delivery_stop.set()
            await self.delivery_task
            self.delivery_task = self.delivery_worker = None

    async def start_bill_run(self, caller: Caller, request_id: str | None, spec: BillRunSpec) -> BillRun:
        """Record the run, then coordinate it in an asyncio task over the one host."""
        run, created = await asyncio.to_thread(self.bill_runs.start, caller, request_id, spec)
        if created:
            await self._coordinate(run)
        return run

    async def _launch_coordinator(self, run: BillRun, lease: RunLease) -> None:
        """Coordinate the run in an asyncio task holding `lease` (new, or resumed by a sweep)."""
        coordinator = BillRunCoordinator(
            self.store,
            run.tenant_id,
            run.bill_run_id,
            shards=1,
            shard_of=lambda _: 0,
            dispatch=self._dispatch,
            chunk_size=self.bill_run_chunk,
            pause=self.bill_run_pause,
            lease=lease,
        )
        task = asyncio.get_running_loop().create_task(coordinator.run())
        run_id = run.bill_run_id
        self.bill_run_tasks[run_id] = task
        task.add_done_callback(  # a lost coordinator ending must not drop the one that resumed it
            lambda done: self.bill_run_tasks.pop(run_id) if self.bill_run_tasks.get(run_id) is done else None
        )

    async def _dispatch(self, shard: int, envelopes: list[CommandEnvelope]) -> list[BillOutcome]:
        return outcomes(envelopes, await self.host.submit_many(envelopes))

    async def healthy(self) -> bool:
        """Always true while open."""
        return not self.host.closed

    async def close(self) -> None:
        """Stop delivery and sweeping, interrupt running bill runs (their leases are released: the
        next gateway to sweep resumes them), then stop the host."""
        await self.stop_delivery()
        await self.stop_bill_run_sweeper()
        tasks = list(self.bill_run_tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.host.close()
