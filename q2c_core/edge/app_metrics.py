"""Metrics read through the app layer at scrape time, where a counter is not natural.

Deliveries and the outbox lag (all tenants), open business exceptions and SLA breaches by
queue and severity, bill runs and the progress of running ones, and the business KPIs of
`KpiReports` (folded from each tenant's event stream), for every tenant with audit records.
They come from the store, so every process of a deployment sees the same values; a scrape
reads them at most once per `ttl` seconds (the KPIs fold whole event streams).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.registry import Collector

from q2c_core.app.billing.runs import BillRun
from q2c_core.app.delivery.control import OUTBOX_CONSUMER
from q2c_core.app.kpi_report import DurationSummary, KpiReport
from q2c_core.app.runtime import RuntimeServices
from q2c_core.domain.entities import BusinessException, ExceptionState
from q2c_core.domain.reconciliation import RECONCILIATION_CHECK

log = logging.getLogger(__name__)

EXCEPTION_PAGES = 20
"""At most this many pages (of 500) of open exceptions are counted per tenant and scrape."""
RECENT_BILL_RUNS = 20
"""Bill runs per tenant looked at (the newest first page)."""
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _summary(
    family: SummaryMetricFamily, quantiles: GaugeMetricFamily, tenant: str, kpi: str, summary: DurationSummary
) -> None:
    family.add_metric([tenant], summary.count, summary.total.total_seconds())
    for quantile, value in (("0.5", summary.p50), ("0.9", summary.p90), ("0.99", summary.p99)):
        quantiles.add_metric([tenant, kpi, quantile], value.total_seconds())


class AppCollector(Collector):
    """q2c_* gauges and counters read from the store through the app's use cases."""

    def __init__(
        self,
        runtime: RuntimeServices,
        ttl: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        audit_every: float = 300.0,
    ) -> None:
        self.runtime = runtime
        self.ttl = ttl
        self.clock = clock
        self.audit_every = audit_every
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None
        self._audit: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterable[Metric]:
        """The families of the last read, read again when older than `ttl`; this gateway's
        bill-run sweeper counters as they are now."""
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] >= self.ttl:
                try:
                    self._cached = (time.monotonic(), self._read())
                except Exception:  # the store down must not take the gateway's own metrics down
                    log.exception("app metrics unavailable")
                    return self._sweeps()
            return [*self._cached[1], *self._sweeps()]

    def _sweeps(self) -> list[Metric]:
        sweeper = self.runtime.bill_run_sweeper
        resumed = CounterMetricFamily(
            "q2c_bill_runs_resumed", "Abandoned bill runs this gateway resumed (its coordinator was lost)."
        )
        resumed.add_metric([], sweeper.resumed_total)
        lost = CounterMetricFamily(
            "q2c_bill_runs_lost", "Bill runs this gateway failed because their coordinators kept being lost."
        )
        lost.add_metric([], sweeper.failed_total)
        return [resumed, lost]

    def _read(self) -> list[Metric]:
        now = self.clock()
        tenants = sorted(self.runtime.store.audit_tenants())
        return [
            *self._deliveries(now),
            *self._exceptions(tenants, now),
            *self._bill_runs(tenants),
            *self._kpis(tenants, now),
            *self._audit_results(tenants),
        ]

    def _audit_results(self, tenants: list[str]) -> list[Metric]:
        """Each tenant's whole audit chain verified against its latest checkpoint, at most once
        per `audit_every` seconds (it reads every record)."""
        if self._audit is not None and time.monotonic() - self._audit[0] < self.audit_every:
            return self._audit[1]
        ok = GaugeMetricFamily(
            "q2c_audit_chain_ok",
            "1 when the tenant's audit chain verified at the last check.",
            labels=["tenant"],
        )
        checked = GaugeMetricFamily(
            "q2c_audit_records_verified", "Audit records the last check verified.", labels=["tenant"]
        )
        at = GaugeMetricFamily(
            "q2c_audit_verified_timestamp_seconds", "When the last check ran (Unix time).", labels=["tenant"]
        )
        ledger = self.runtime.queries.audit_ledger(None)
        for tenant in tenants:
            result = ledger.verify(tenant, None)
            ok.add_metric([tenant], 1.0 if result.ok else 0.0)
            checked.add_metric([tenant], result.records_checked)
            at.add_metric([tenant], self.clock().timestamp())
        self._audit = (time.monotonic(), [ok, checked, at])
        return self._audit[1]

    def _deliveries(self, now: datetime) -> list[Metric]:
        store = self.runtime.deliveries.store
        lag = GaugeMetricFamily("q2c_outbox_lag_events", "Outbox events the delivery planner has not read.")
        lag.add_metric([], max(0, store.last_position() - store.cursor(OUTBOX_CONSUMER)))
        items = GaugeMetricFamily(
            "q2c_delivery_items", "Delivery items by destination and status.", labels=["target", "status"]
        )
        dead = GaugeMetricFamily("q2c_dead_letters", "Deliveries given up (DEAD).", labels=["target"])
        attempts = CounterMetricFamily("q2c_delivery_attempts", "Delivery attempts made.", labels=["target"])
        oldest = GaugeMetricFamily(
            "q2c_delivery_oldest_pending_seconds", "Age of the oldest pending delivery.", labels=["target"]
        )
        for stats in store.stats(None, now):
            target = stats.destination
            for status, count in (
                ("pending", stats.pending),
                ("due", stats.due),
                ("delivered", stats.delivered),
            ):
                items.add_metric([target, status], count)
            items.add_metric([target, "dead"], stats.dead)
            dead.add_metric([target], stats.dead)
            attempts.add_metric([target], stats.attempts)
            age = (now - stats.oldest_pending_time).total_seconds() if stats.oldest_pending_time else 0.0
            oldest.add_metric([target], max(0.0, age))
        return [lag, items, dead, attempts, oldest]

    def _open_exceptions(self, tenant: str) -> list[BusinessException]:
        found: list[BusinessException] = []
        token = ""
        for _ in range(EXCEPTION_PAGES):
            page = self.runtime.queries.list_exceptions(tenant, ExceptionState.OPEN, None, None, 500, token)
            found.extend(page.items)
            token = page.next_page_token
            if not token:
                break
        return found

    def _exceptions(self, tenants: list[str], now: datetime) -> list[Metric]:
        labels = ["tenant", "queue", "severity"]
        open_ = GaugeMetricFamily("q2c_exceptions_open", "Open business exceptions.", labels=labels)
        breached = GaugeMetricFamily(
            "q2c_exceptions_sla_breached", "Open business exceptions past their SLA.", labels=labels
        )
        oldest = GaugeMetricFamily(
            "q2c_exception_oldest_open_seconds",
            "Age of the oldest open exception.",
            labels=["tenant", "queue"],
        )
        mismatches = GaugeMetricFamily(
            "q2c_reconciliation_mismatches_open",
            "Open ERP reconciliation mismatches (REVIEW exceptions) by kind.",
            labels=["tenant", "kind"],
        )
        for tenant in tenants:
            exceptions = self._open_exceptions(tenant)
            kinds = Counter(e.item_ids[1] for e in exceptions if e.check == RECONCILIATION_CHECK)
            for kind, count in sorted(kinds.items()):
                mismatches.add_metric([tenant, kind], count)
            counts = Counter((e.owner_queue.value, e.severity.value) for e in exceptions)
            late = Counter(
                (e.owner_queue.value, e.severity.value)
                for e in exceptions
                if e.sla_due_time is not None and e.sla_due_time < now
            )
            ages: dict[str, float] = {}
            for e in exceptions:
                age = (now - e.raise_time).total_seconds()
                ages[e.owner_queue.value] = max(age, ages.get(e.owner_queue.value, 0.0))
            for (queue, severity), count in sorted(counts.items()):
                open_.add_metric([tenant, queue, severity], count)
                breached.add_metric([tenant, queue, severity], late[(queue, severity)])
            for queue, age in sorted(ages.items()):
                oldest.add_metric([tenant, queue], age)
        return [open_, breached, oldest, mismatches]

    def _bill_runs(self, tenants: list[str]) -> list[Metric]:
        states = GaugeMetricFamily(
            "q2c_bill_runs", "Recent bill runs by state (the newest page).", labels=["tenant", "state"]
        )
        processed = GaugeMetricFamily(
            "q2c_bill_run_engagements_processed",
            "Engagements a running bill run has processed.",
            labels=["tenant", "bill_run_id"],
        )
        total = GaugeMetricFamily(
            "q2c_bill_run_engagements",
            "Engagements a running bill run will process.",
            labels=["tenant", "bill_run_id"],
        )
        for tenant in tenants:
            runs: list[BillRun] = self.runtime.queries.list_bill_runs(tenant, RECENT_BILL_RUNS, "").items
            for state, count in sorted(Counter(run.state.value for run in runs).items()):
                states.add_metric([tenant, state], count)
            for run in runs:
                if not run.state.finished:
                    processed.add_metric([tenant, run.bill_run_id], run.engagements_processed)
                    total.add_metric([tenant, run.bill_run_id], run.engagements_total)
        return [states, processed, total]

    def _kpis(self, tenants: list[str], now: datetime) -> list[Metric]:
        durations = {
            "quote_to_activation": "Close-won to project activated.",
            "billing_cycle": "Work approved to invoice issued.",
            "cash_application": "Invoice issued to payment recorded.",
        }
        families = {
            name: SummaryMetricFamily(f"q2c_{name}_seconds", doc, labels=["tenant"])
            for name, doc in durations.items()
        }
        quantiles = GaugeMetricFamily(
            "q2c_kpi_quantile_seconds",
            "Nearest-rank percentiles of each duration KPI, all time.",
            labels=["tenant", "kpi", "quantile"],
        )
        unbilled = GaugeMetricFamily(
            "q2c_unbilled_amount", "Approved, billable work not yet invoiced.", labels=["tenant", "currency"]
        )
        exceptions = CounterMetricFamily(
            "q2c_invoice_exceptions", "Exceptions raised generating invoices.", labels=["tenant"]
        )
        for tenant in tenants:
            report: KpiReport = self.runtime.kpis.report(tenant, EPOCH, now)
            for name, summary in (
                ("quote_to_activation", report.quote_to_activation),
                ("billing_cycle", report.billing_cycle),
                ("cash_application", report.cash_application),
            ):
                _summary(families[name], quantiles, tenant, name, summary)
            for amount in report.unbilled.amounts:
                unbilled.add_metric([tenant, amount.currency], float(amount.amount))
            exceptions.add_metric([tenant], report.invoice_exceptions)
        return [*families.values(), quantiles, unbilled, exceptions]
