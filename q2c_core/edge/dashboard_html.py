"""The dashboard's HTML: server-rendered, every value escaped, charts as inline SVG bars.

`_e` (html.escape, quotes included) is applied to every value that reaches the page, numbers
too, so no display name, exception message or id can become markup.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from q2c_core.app.billing.runs import BillRun
from q2c_core.app.kpi_report import DurationSummary, KpiReport
from q2c_core.edge.dashboard_view import Overview, is_late

BILL_RUNS_PATH = "/dashboard/bill-runs"
REFRESH_MS = 5000

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.4rem 0}td,th{padding:.2rem .6rem;border:1px solid #ddd;text-align:left}
td.n{text-align:right}tr.late td{background:#fde2e2}
.bar{fill:#4a78c2}.muted{color:#777}progress{width:10rem}
"""

SCRIPT = f"""
setInterval(function(){{
  fetch("{BILL_RUNS_PATH}",{{credentials:"same-origin"}}).then(function(r){{
    if(r.ok){{return r.text();}}}}).then(function(t){{
    if(t){{document.getElementById("bill-runs").innerHTML=t;}}}});
}},{REFRESH_MS});
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _age(delta: timedelta) -> str:
    if delta.total_seconds() < 60:
        return f"{max(0.0, delta.total_seconds()):.1f}s"
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s"


def _time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%SZ") if at else "—"


def _table(headers: Sequence[str], rows: Iterable[str], empty: str = "none") -> str:
    body = "".join(rows)
    if not body:
        return f'<p class="muted">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _row(*cells: object, late: bool = False) -> str:
    tds = "".join(
        f'<td class="n">{_e(c)}</td>' if isinstance(c, int | float) else f"<td>{_e(c)}</td>" for c in cells
    )
    return f'<tr class="late">{tds}</tr>' if late else f"<tr>{tds}</tr>"


def bar_chart(title: str, bars: Sequence[tuple[str, float, str]]) -> str:
    """Horizontal bars (label, value, value as text), scaled to the largest, as inline SVG."""
    if not bars:
        return f'<p class="muted">{_e(title)}: no data</p>'
    top = max(value for _, value, _ in bars) or 1.0
    height = 22 * len(bars) + 8
    parts = [f'<svg role="img" aria-label="{_e(title)}" width="560" height="{height}">']
    for index, (label, value, text) in enumerate(bars):
        y = 4 + 22 * index
        width = 300 * value / top
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12">{_e(label)}</text>'
            f'<rect class="bar" x="160" y="{y}" width="{width:.1f}" height="16"></rect>'
            f'<text x="{166 + width:.1f}" y="{y + 14}" font-size="12">{_e(text)}</text>'
        )
    parts.append("</svg>")
    return f"<h3>{_e(title)}</h3>" + "".join(parts)


def _states(view: Overview) -> str:
    note = " (first 10,000 counted)" if view.engagements_capped else ""
    bars = [(state, float(count), str(count)) for state, count in view.states.items()]
    recent = _table(
        ("engagement", "customer", "state", "updated"),
        (
            _row(
                r.engagement.display_name,
                r.customer_name,
                r.engagement.state.value,
                _time(r.engagement.update_time),
            )
            for r in view.recent
        ),
        "no engagements",
    )
    return (
        f'<h2>Engagements by lifecycle state{_e(note)}</h2><div id="states">'
        + _table(("state", "engagements"), (_row(s, c) for s, c in view.states.items()))
        + bar_chart("Engagements per state", bars)
        + "</div><h3>Recently changed</h3>"
        + recent
    )


def _exceptions(view: Overview) -> str:
    note = " (first 10,000 counted)" if view.exceptions_capped else ""
    queues = _table(
        ("owner queue", "open", "past SLA", "oldest"),
        (_row(q.queue, q.open, q.breached, _age(q.oldest_age), late=q.breached > 0) for q in view.queues),
        "no open exceptions",
    )
    oldest = _table(
        ("queue", "severity", "check", "engagement", "message", "age", "SLA due"),
        (
            _row(
                e.owner_queue.value,
                e.severity.value,
                e.check,
                e.engagement_id,
                e.message,
                _age(view.now - e.raise_time),
                ("LATE " if is_late(e, view.now) else "") + _time(e.sla_due_time),
                late=is_late(e, view.now),
            )
            for e in view.oldest_exceptions
        ),
        "no open exceptions",
    )
    return f"<h2>Open exceptions by queue and age{_e(note)}</h2>{queues}<h3>Oldest open</h3>{oldest}"


def _stuck(view: Overview) -> str:
    rows = (
        _row(
            s.destination,
            s.pending,
            s.due,
            s.dead,
            s.attempts,
            _age(view.now - s.oldest_pending_time) if s.oldest_pending_time else "—",
            late=s.dead > 0,
        )
        for s in view.deliveries
    )
    table = _table(
        ("target", "pending", "due now (retrying)", "dead letters", "attempts", "oldest pending (lag)"),
        rows,
        "nothing delivered to an ERP or PSA yet",
    )
    return f"<h2>Stuck work</h2>{table}<p>Outbox events not yet planned: {_e(view.outbox_lag)}</p>"


def bill_runs_fragment(runs: Sequence[BillRun]) -> str:
    """The bill-run table alone (what the page re-fetches every 5 s)."""
    rows = []
    for run in runs:
        total = max(run.engagements_total, 0)
        done = min(run.engagements_processed, total) if total else run.engagements_processed
        progress = f'<progress max="{_e(total or 1)}" value="{_e(done if total else 0)}"></progress>'
        rows.append(
            f"<tr><td>{_e(run.bill_run_id)}</td><td>{_e(run.spec.period.key)}</td>"
            f"<td>{_e(run.state.value)}</td><td>{progress} {_e(done)} / {_e(total)}</td>"
            f'<td class="n">{_e(run.invoices_created)}</td><td class="n">{_e(run.engagements_skipped)}</td>'
            f'<td class="n">{_e(run.engagements_failed)}</td><td>{_e(_time(run.create_time))}</td></tr>'
        )
    return _table(
        ("bill run", "period", "state", "engagements", "invoices", "skipped", "failed", "started"),
        rows,
        "no bill runs",
    )


def _seconds(summary: DurationSummary) -> list[tuple[str, float, str]]:
    return [
        (name, value.total_seconds(), _age(value))
        for name, value in (("p50", summary.p50), ("p90", summary.p90), ("p99", summary.p99))
    ]


def _kpis(report: KpiReport | None) -> str:
    if report is None:
        return ""
    charts = [
        bar_chart(f"{title} ({summary.count} samples)", _seconds(summary))
        for title, summary in (
            ("Quote to activation", report.quote_to_activation),
            ("Billing cycle", report.billing_cycle),
            ("Cash application", report.cash_application),
        )
    ]
    unbilled = [(m.currency, float(m.amount), f"{m.amount} {m.currency}") for m in report.unbilled.amounts]
    rates = [
        (
            run.bill_run_id[:20],
            float(run.exception_rate),
            f"{run.exception_rate:.2%} of {run.invoices_attempted}",
        )
        for run in report.bill_runs
    ]
    return (
        "<h2>KPIs (all time)</h2>"
        + "".join(charts)
        + bar_chart("Unbilled approved work by currency", unbilled)
        + f"<p>Unpriced items: {_e(report.unbilled.unpriced_items)}; "
        f"invoice exceptions: {_e(report.invoice_exceptions)}</p>"
        + bar_chart("Invoice exception rate per bill run", rates)
    )


def _bound(seconds: float) -> str:
    return "beyond the last bucket" if math.isinf(seconds) else f"≤ {seconds * 1000:g} ms"


def _latency(view: Overview) -> str:
    rows = (
        _row(r.method, r.calls, f"{r.mean_seconds * 1000:.1f} ms", _bound(r.p99_bound_seconds))
        for r in view.latencies
    )
    erp = (
        _row(s.destination, _age(view.now - s.oldest_pending_time) if s.oldest_pending_time else "caught up")
        for s in view.deliveries
    )
    return (
        "<h2>Latency by system</h2><h3>q2c RPCs (this gateway, all tenants)</h3>"
        + _table(("method", "calls", "mean", "p99 (bucket bound)"), rows, "no calls yet")
        + "<h3>ERP / PSA delivery lag</h3>"
        + _table(("target", "oldest undelivered"), erp, "nothing to deliver")
    )


def page(view: Overview, principal: str) -> str:
    """The whole dashboard of one tenant."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>q2c operations: {_e(view.tenant_id)}</title><style>{STYLE}</style></head><body>"
        f"<h1>q2c operations — tenant {_e(view.tenant_id)}</h1>"
        f'<p class="muted">as of {_e(_time(view.now))}, for {_e(principal)}; bill runs refresh every 5 s</p>'
        + _states(view)
        + _exceptions(view)
        + _stuck(view)
        + f'<h2>Bill runs</h2><div id="bill-runs">{bill_runs_fragment(view.bill_runs)}</div>'
        + _kpis(view.kpis)
        + _latency(view)
        + f"<script>{SCRIPT}</script></body></html>"
    )
