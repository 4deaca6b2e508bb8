"""ERP reconciliation: compare a tenant's issued invoices and payments with the ERP's documents
and raise one REVIEW business exception (FINANCE_OPS) per mismatch.

The rules are in ``q2c_core.app.reconciliation.rules`` (VOID invoices are skipped: the ERP has no
credit-note operation yet). Each mismatch becomes ``RaiseReconciliationMismatch`` on its
engagement, submitted through the runtime's ``execute`` as ``system:reconciliation`` under the
request id ``reconcile:<reconciliation_id>:<invoice_id>:<mismatch>[:<payment_id>]``, so a
repeated run with the same id raises nothing twice; the engagement itself ignores a mismatch
while an identical one (same invoice and mismatch) is still open, so later runs raise nothing
new for what finance already has.

``Reconciler.run`` is one run; ``q2c_core.app.reconciliation.requests.run_requested`` is the RPC's
idempotent, audited form; ``reconcile_periodically`` runs every tenant with invoices on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from q2c_core.app.clock import utc_now
from q2c_core.app.connectors import ErpDocument, ErpLedger, ErpReadError
from q2c_core.app.messages import Caller, CommandEnvelope, CommandResult
from q2c_core.app.ports import Store
from q2c_core.app.reads import Queries, invoice_from_row
from q2c_core.app.reconciliation.rules import Books, Finding, attribution_candidates, find_mismatches
from q2c_core.domain import commands as cmd
from q2c_core.domain.base import Frozen
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.errors import ErrorKind, ErrorPayload, UnavailableError
from q2c_core.domain.invoices import Invoice
from q2c_core.domain.reconciliation import RECONCILIATION_CHECK

log = logging.getLogger(__name__)
Execute = Callable[[CommandEnvelope], Awaitable[CommandResult]]

DEFAULT_GRACE = timedelta(hours=1)
"""How long an issued invoice (or recorded payment) may take to reach the ERP before it is missing."""
PRINCIPAL = "system:reconciliation"
DETAIL_LIMIT = 1000
PAGE_SIZE = 500
RAISE_CONCURRENCY = 64
_TRANSIENT = (ErrorKind.UNAVAILABLE, ErrorKind.CONFLICT)


class ReportedMismatch(Finding):
    """A finding and what raising it did: the exception raised, or why none was."""

    exception_id: str = ""  # empty: an identical exception was already open, or raising failed
    raise_error: str = ""  # the reason raising failed (e.g. STORE_UNAVAILABLE); empty otherwise


class ReconciliationReport(Frozen):
    """What one reconciliation of one tenant compared and found."""

    reconciliation_id: str
    tenant_id: str
    grace_period: timedelta
    invoices_checked: int
    payments_checked: int
    erp_documents_read: int
    mismatches: list[ReportedMismatch]
    start_time: datetime
    finish_time: datetime
    retry_error: ErrorPayload | None = None  # a transient failure that left mismatches unraised


@dataclass(frozen=True)
class ErpSnapshot:
    """The ERP's documents, read once (a periodic round shares one read across tenants).

    The ERP is read before q2c's invoices, so every document names an invoice q2c already
    has (no false UNKNOWN_IN_Q2C), and what q2c posted or issued after `read_time` is judged
    in flight, not missing (no false MISSING_IN_ERP).
    """

    read_time: datetime
    invoices: list[ErpDocument]
    payments: list[ErpDocument]


class Reconciler:
    """Reconciles one tenant at a time against one ERP ledger."""

    def __init__(
        self,
        store: Store,
        ledger: ErpLedger,
        execute: Execute,
        *,
        grace_period: timedelta = DEFAULT_GRACE,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.execute = execute
        self.grace_period = grace_period
        self._queries = Queries(store)
        self._clock = clock

    def tenants(self) -> list[str]:
        """Every tenant with invoices (sync: the store read)."""
        return self.store.tenants_with_invoices()

    async def read_erp(self) -> ErpSnapshot:
        """Every ERP invoice and payment document; UnavailableError ERP_UNAVAILABLE if unreadable."""
        try:
            return ErpSnapshot(
                self._clock(),
                await asyncio.to_thread(self.ledger.list_invoices),
                await asyncio.to_thread(self.ledger.list_payments),
            )
        except ErpReadError as error:
            failure = error.failure
            metadata = {"failure_kind": failure.kind.value, "operation": failure.operation}
            if failure.status is not None:
                metadata["http_status"] = str(failure.status)
            message = f"the ERP could not be read: {failure.message}"
            raise UnavailableError("ERP_UNAVAILABLE", message, metadata) from None

    async def run(
        self,
        caller: Caller,
        reconciliation_id: str,
        grace_period: timedelta | None = None,
        *,
        erp: ErpSnapshot | None = None,
    ) -> ReconciliationReport:
        """Compare the caller's tenant with the ERP and raise an exception per new mismatch."""
        started = self._clock()
        grace = self.grace_period if grace_period is None else grace_period
        tenant = caller.tenant_id
        erp = erp or await self.read_erp()
        books = Books.of(await asyncio.to_thread(self._invoices, tenant))
        candidates = attribution_candidates(books, [*erp.invoices, *erp.payments])
        owned = await asyncio.to_thread(self.store.owned_engagements, tenant, candidates)
        findings = find_mismatches(books, erp.invoices, erp.payments, owned, erp.read_time, grace)
        outcomes: list[tuple[ReportedMismatch, ErrorPayload | None]] = []
        for start in range(0, len(findings), RAISE_CONCURRENCY):
            chunk = findings[start : start + RAISE_CONCURRENCY]
            outcomes += await asyncio.gather(*(self._raise(caller, reconciliation_id, f) for f in chunk))
        return ReconciliationReport(
            reconciliation_id=reconciliation_id,
            tenant_id=tenant,
            grace_period=grace,
            invoices_checked=len(books.issued),
            payments_checked=sum(len(i.payments) for i in books.issued),
            erp_documents_read=len(erp.invoices) + len(erp.payments),
            mismatches=[reported for reported, _ in outcomes],
            start_time=started,
            finish_time=self._clock(),
            retry_error=next((error for _, error in outcomes if error is not None), None),
        )

    async def _raise(
        self, caller: Caller, reconciliation_id: str, finding: Finding
    ) -> tuple[ReportedMismatch, ErrorPayload | None]:
        """Submit one finding; its exception id, or why none was raised (transient errors apart)."""
        suffix = f":{finding.payment_id}" if finding.payment_id else ""
        request_id = f"reconcile:{reconciliation_id}:{finding.invoice_id}:{finding.mismatch.value}{suffix}"
        fields = finding.model_dump()
        try:
            command = cmd.RaiseReconciliationMismatch(
                engagement_id=finding.engagement_id,
                invoice_id=finding.invoice_id,
                mismatch=finding.mismatch,
                detail=_clipped(finding.detail),
                reconciliation_id=reconciliation_id,
            )
        except ValueError:  # an ERP invoice id q2c could never have issued
            return ReportedMismatch(**fields, raise_error="VALIDATION_FAILED"), None
        system = Caller(
            tenant_id=caller.tenant_id,
            principal=PRINCIPAL,
            correlation_id=caller.correlation_id or f"reconciliation-{reconciliation_id}",
        )
        envelope = CommandEnvelope(
            caller=system, engagement_id=finding.engagement_id, request_id=request_id, command=command
        )
        result = await self.execute(envelope)  # never raises domain errors: they come back
        if result.error is not None:
            transient = result.error if result.error.kind in _TRANSIENT else None
            return ReportedMismatch(**fields, raise_error=result.error.reason), transient
        engagement = result.engagement
        if engagement is None and result.replayed:  # replays are slim: read the engagement back
            engagement = await asyncio.to_thread(
                self._queries.get_engagement, caller.tenant_id, finding.engagement_id
            )
        exception_id = _exception_raised(engagement, finding, reconciliation_id)
        return ReportedMismatch(**fields, exception_id=exception_id), None

    def _invoices(self, tenant_id: str) -> list[Invoice]:
        invoices: list[Invoice] = []
        token = ""
        while True:
            page = self.store.list_invoices(tenant_id, page_size=PAGE_SIZE, page_token=token)
            invoices += [invoice_from_row(row) for row in page.items]
            if not page.next_page_token:
                return invoices
            token = page.next_page_token


def _clipped(detail: str) -> str:
    return detail if len(detail) <= DETAIL_LIMIT else detail[: DETAIL_LIMIT - 3] + "..."


def _exception_raised(engagement: Engagement | None, finding: Finding, reconciliation_id: str) -> str:
    """The exception this reconciliation raised for the finding; "" when an open one covered it."""
    if engagement is None:
        return ""
    wanted = [finding.invoice_id, finding.mismatch.value, reconciliation_id]
    return next(
        (
            x.exception_id
            for x in engagement.exceptions.values()
            if x.check == RECONCILIATION_CHECK and x.item_ids == wanted
        ),
        "",
    )


async def reconcile_periodically(
    reconciler: Reconciler, tenants: Callable[[], list[str]], interval: float, stop: asyncio.Event
) -> None:
    """Reconcile every tenant `tenants()` names (a blocking call, run in a thread; e.g.
    `reconciler.tenants`), every `interval` seconds until `stop` is set. The ERP is read once
    per round; a failed round or tenant is logged and tried again next round."""
    while not stop.is_set():
        try:
            await _round(reconciler, await asyncio.to_thread(tenants), stop)
        except Exception:
            log.exception("reconciliation round failed; retrying in %ss", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def _round(reconciler: Reconciler, tenants: Sequence[str], stop: asyncio.Event) -> None:
    if not tenants:
        return
    erp = await reconciler.read_erp()
    reconciliation_id = f"auto-{utc_now():%Y%m%dT%H%M%S.%fZ}"
    for tenant in tenants:
        if stop.is_set():
            return
        caller = Caller(tenant_id=tenant, principal=PRINCIPAL, correlation_id=reconciliation_id)
        try:
            report = await reconciler.run(caller, reconciliation_id, erp=erp)
        except Exception:
            log.exception("reconciliation %s of tenant %s failed", reconciliation_id, tenant)
            continue
        if report.retry_error is not None:
            log.warning(
                "reconciliation %s of tenant %s: %s", reconciliation_id, tenant, report.retry_error.message
            )
        raised = sum(1 for m in report.mismatches if m.exception_id)
        log.info(
            "reconciliation %s of tenant %s: %d mismatches, %d exceptions raised",
            reconciliation_id,
            tenant,
            len(report.mismatches),
            raised,
        )
