"""A tenant's KPIs for a period: summaries of the samples `KpiProjection` folds from its events
(definitions: docs/operations.md, "Business KPIs")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from q2c_core.app.kpis import (
    KPI_EVENT_TYPES,
    BillRunAttempt,
    DurationSample,
    Kpi,
    KpiProjection,
    Sample,
    Unbilled,
)
from q2c_core.app.ports import Store
from q2c_core.app.reference_data import ReferenceData

PAGE_SIZE = 1000
"""Events read per store call."""
PERCENTILES = (50, 90, 99)


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """Count, sum and nearest-rank percentiles of durations (all zero when there are none)."""

    count: int = 0
    total: timedelta = timedelta(0)
    p50: timedelta = timedelta(0)
    p90: timedelta = timedelta(0)
    p99: timedelta = timedelta(0)

    @classmethod
    def of(cls, durations: Sequence[timedelta]) -> DurationSummary:
        """The summary of these durations: percentile p is the ceil(p% x n)-th smallest."""
        if not durations:
            return cls()
        ordered, n = sorted(durations), len(durations)
        p50, p90, p99 = (ordered[-(-p * n // 100) - 1] for p in PERCENTILES)
        return cls(n, sum(ordered, timedelta(0)), p50, p90, p99)


@dataclass(frozen=True, slots=True)
class BillRunExceptions:
    """A bill run's GenerateInvoice attempts that changed an engagement, and the exceptions they raised."""

    bill_run_id: str
    invoices_attempted: int = 0
    exceptions: int = 0

    @property
    def exception_rate(self) -> Decimal:
        """Exceptions per attempt (0 without attempts)."""
        return Decimal(self.exceptions) / self.invoices_attempted if self.invoices_attempted else Decimal(0)


@dataclass(frozen=True, slots=True)
class KpiReport:
    """A tenant's KPIs for [start, end): samples that ended in it, unbilled work as of its end."""

    tenant_id: str
    start: datetime
    end: datetime
    quote_to_activation: DurationSummary
    billing_cycle: DurationSummary
    cash_application: DurationSummary
    unbilled: Unbilled
    invoice_exceptions: int
    bill_runs: list[BillRunExceptions]
    unreadable_events: int = 0


class KpiWindow:
    """Collects the samples that ended in [start, end)."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self._durations: dict[Kpi, list[timedelta]] = {kpi: [] for kpi in Kpi}
        self._exceptions = 0
        self._runs: dict[str, list[int]] = {}  # bill run -> [attempts, exceptions], first seen first

    def add(self, samples: Iterable[Sample]) -> None:
        """Count the samples that ended inside the window."""
        for sample in samples:
            if not self.start <= sample.at < self.end:
                continue
            if isinstance(sample, DurationSample):
                self._durations[sample.kpi].append(sample.duration)
            elif isinstance(sample, BillRunAttempt):
                self._runs.setdefault(sample.bill_run_id, [0, 0])[0] += 1
            else:
                self._exceptions += 1
                if sample.bill_run_id:
                    self._runs.setdefault(sample.bill_run_id, [0, 0])[1] += 1

    def report(self, tenant_id: str, unbilled: Unbilled, unreadable: int = 0) -> KpiReport:
        """The KPIs of the window, with the unbilled work as of its end."""
        return KpiReport(
            tenant_id=tenant_id,
            start=self.start,
            end=self.end,
            quote_to_activation=DurationSummary.of(self._durations[Kpi.QUOTE_TO_ACTIVATION]),
            billing_cycle=DurationSummary.of(self._durations[Kpi.BILLING_CYCLE]),
            cash_application=DurationSummary.of(self._durations[Kpi.CASH_APPLICATION]),
            unbilled=unbilled,
            invoice_exceptions=self._exceptions,
            bill_runs=[BillRunExceptions(run, *counts) for run, counts in self._runs.items()],
            unreadable_events=unreadable,
        )


class KpiReports:
    """A tenant's KPIs for a period, folded from its whole event stream (sync: run in a thread)."""

    def __init__(self, store: Store, page_size: int = PAGE_SIZE) -> None:
        self._store = store
        self._page_size = page_size

    def report(self, tenant_id: str, start: datetime, end: datetime) -> KpiReport:
        """Every followed event that occurred before `end`, folded in position order."""
        projection, window = KpiProjection(), KpiWindow(start, end)
        after = 0
        while True:
            page = self._store.read_all_events(tenant_id, after, self._page_size, event_types=KPI_EVENT_TYPES)
            for stored in page:
                if stored.occurred_at < end:
                    window.add(projection.apply(stored))
            if len(page) < self._page_size:
                break
            after = page[-1].position
        cards = ReferenceData(self._store).rate_cards(tenant_id, projection.rate_card_ids())
        return window.report(tenant_id, projection.unbilled(cards), projection.unreadable)
