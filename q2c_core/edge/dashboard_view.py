"""What the operations dashboard shows of one tenant, read through the same app layer as gRPC.

Every figure comes from the runtime's use cases (`queries`, `catalog`, `kpis`, `deliveries`):
no second query path and no SQL here. Lists are paged like a gRPC client pages them, up to a
cap, so a large tenant costs a bounded number of reads per page view.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from q2c_core.app.billing.runs import BillRun
from q2c_core.app.delivery.model import DestinationStats
from q2c_core.app.kpi_report import KpiReport
from q2c_core.app.records import Page
from q2c_core.app.runtime import Runtime
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import BusinessException, EngagementState, ExceptionState
from q2c_core.domain.errors import Q2cError
from q2c_core.edge.metrics import RPC_METRICS, RpcMetrics

T = TypeVar("T")

PAGE_SIZE = 500
MAX_PAGES = 20
"""At most this many pages (of 500) of engagements, and of open exceptions, per view."""
RECENT_ENGAGEMENTS = 10
OLDEST_EXCEPTIONS = 25
BILL_RUNS = 10
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class QueueRow:
    """Open exceptions of one owner queue: how many, how many late, the oldest's age."""

    queue: str
    open: int
    breached: int
    oldest_age: timedelta


@dataclass(frozen=True, slots=True)
class EngagementRow:
    """A recently changed engagement with its customer's display name."""

    engagement: Engagement
    customer_name: str


@dataclass(frozen=True, slots=True)
class RpcLatency:
    """One gateway RPC's calls in this process, their mean and an upper bound of their p99."""

    method: str
    calls: int
    mean_seconds: float
    p99_bound_seconds: float


@dataclass(slots=True)
class Overview:
    """Everything on the dashboard for one tenant, read at `now`."""

    tenant_id: str
    now: datetime
    states: dict[str, int] = field(default_factory=dict)
    engagements_capped: bool = False
    recent: list[EngagementRow] = field(default_factory=list)
    queues: list[QueueRow] = field(default_factory=list)
    oldest_exceptions: list[BusinessException] = field(default_factory=list)
    exceptions_capped: bool = False
    deliveries: list[DestinationStats] = field(default_factory=list)
    outbox_lag: int = 0
    bill_runs: list[BillRun] = field(default_factory=list)
    kpis: KpiReport | None = None
    latencies: list[RpcLatency] = field(default_factory=list)


def first_pages(fetch: Callable[[str], Page[T]], capped: list[bool]) -> Iterator[list[T]]:
    """The pages of a listing, at most MAX_PAGES of them (`capped` says whether more were left)."""
    token = ""
    for _ in range(MAX_PAGES):
        page = fetch(token)
        yield page.items
        token = page.next_page_token
        if not token:
            return
    capped.append(True)


def engagement_states(runtime: Runtime, view: Overview) -> None:
    """Engagements by lifecycle state, and the most recently changed ones."""
    states: Counter[str] = Counter()
    recent: list[tuple[datetime, str, Engagement]] = []
    capped: list[bool] = []
    for items in first_pages(
        lambda token: runtime.queries.list_engagements(view.tenant_id, None, None, PAGE_SIZE, token), capped
    ):
        for engagement in items:
            states[engagement.state.value] += 1
            entry = (engagement.update_time, engagement.engagement_id, engagement)
            if len(recent) < RECENT_ENGAGEMENTS:
                heapq.heappush(recent, entry)
            else:
                heapq.heappushpop(recent, entry)
    view.states = {state.value: states[state.value] for state in EngagementState}
    view.engagements_capped = bool(capped)
    names: dict[str, str] = {}
    for _, _, engagement in sorted(recent, key=lambda item: (item[0], item[1]), reverse=True):
        if engagement.customer_id not in names:
            names[engagement.customer_id] = _customer_name(runtime, view.tenant_id, engagement.customer_id)
        view.recent.append(EngagementRow(engagement, names[engagement.customer_id]))


def _customer_name(runtime: Runtime, tenant_id: str, customer_id: str) -> str:
    try:
        return runtime.catalog.get_customer(tenant_id, customer_id).display_name
    except Q2cError:  # a customer that cannot be read must not hide the dashboard
        return customer_id


def open_exceptions(runtime: Runtime, view: Overview) -> None:
    """Open exceptions by owner queue (count, past SLA, oldest), and the oldest ones."""
    found: list[BusinessException] = []
    capped: list[bool] = []
    for items in first_pages(
        lambda token: runtime.queries.list_exceptions(
            view.tenant_id, ExceptionState.OPEN, None, None, PAGE_SIZE, token
        ),
        capped,
    ):
        found.extend(items)
    view.exceptions_capped = bool(capped)
    by_queue: dict[str, list[BusinessException]] = {}
    for exception in found:
        by_queue.setdefault(exception.owner_queue.value, []).append(exception)
    view.queues = [
        QueueRow(
            queue,
            len(items),
            sum(1 for e in items if is_late(e, view.now)),
            max(view.now - e.raise_time for e in items),
        )
        for queue, items in sorted(by_queue.items())
    ]
    view.oldest_exceptions = found[:OLDEST_EXCEPTIONS]  # listed oldest first


def is_late(exception: BusinessException, now: datetime) -> bool:
    """Past its SLA due time (never for an exception without an SLA)."""
    return exception.sla_due_time is not None and exception.sla_due_time < now


def stuck_work(runtime: Runtime, view: Overview) -> None:
    """Deliveries per destination (pending, retrying, dead letters) and the outbox lag."""
    overview = runtime.deliveries.stats(view.tenant_id)
    view.deliveries = sorted(overview.destinations, key=lambda stats: stats.destination)
    view.outbox_lag = overview.outbox_lag


def bill_runs(runtime: Runtime, tenant_id: str) -> list[BillRun]:
    """The tenant's newest bill runs with their progress."""
    return runtime.queries.list_bill_runs(tenant_id, BILL_RUNS, "").items


def overview(runtime: Runtime, tenant_id: str, latencies: list[RpcLatency], now: datetime) -> Overview:
    """The whole dashboard of one tenant (sync: it reads the store; call it off the event loop)."""
    view = Overview(tenant_id, now, latencies=latencies)
    engagement_states(runtime, view)
    open_exceptions(runtime, view)
    stuck_work(runtime, view)
    view.bill_runs = bill_runs(runtime, tenant_id)
    view.kpis = runtime.kpis.report(tenant_id, EPOCH, now + timedelta(seconds=1))
    return view


def rpc_latencies(metrics: RpcMetrics = RPC_METRICS, limit: int = 30) -> list[RpcLatency]:
    """The gateway's grpc_server_handling_seconds per method, from this process's counts
    (all tenants: methods and timings, no tenant data), the busiest first."""
    found = []
    for route in metrics.routes():
        count, total, cumulative = route.latency()
        if count > 0:
            _, service, name = route.labels
            found.append(RpcLatency(f"{service}/{name}", count, total / count, _p99_bound(cumulative, count)))
    return sorted(found, key=lambda row: (-row.calls, row.method))[:limit]


def _p99_bound(buckets: list[tuple[float, int]], count: int) -> float:
    """The smallest bucket bound holding 99 % of the calls (inf: beyond the last bound)."""
    for bound, cumulative in sorted(buckets):
        if cumulative >= 0.99 * count:
            return bound
    return float("inf")
