"""The report's PNG plots: throughput, latency percentiles over time, latency histogram per RPC,
bill-run progress.

Figures are drawn with matplotlib's object API on the Agg canvas (no pyplot, so no global
backend and no GUI): safe from any thread and on a machine without a display.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from clients.load.record import BillRunProgress
from clients.load.timeline import recorded

DPI = 110
SIZE = (9.0, 4.8)
HISTOGRAM_BINS = 60


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, format="png")
    return path


def _plain_log_ticks(axis: Any, low: float, high: float) -> None:
    """Ticks at 1, 2, 5 per decade when the range is narrow (1 per decade otherwise), labelled
    as plain numbers ("20", "0.5"), not 2x10^1: narrow log ranges otherwise get crowded labels."""
    narrow = high / max(low, 1e-9) <= 100
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if narrow else (1.0,)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _dense(timeline: Sequence[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """One slot per bucket from 0 to the last, None where nothing ended (a gap, not a line)."""
    if not timeline:
        return []
    width = timeline[0]["width_s"]
    by_index = {int(p["t"] // width): p for p in timeline}
    return [by_index.get(i) for i in range(max(by_index) + 1)]


def _centres(slots: Sequence[dict[str, Any] | None], width: float) -> list[float]:
    return [(i + 0.5) * width for i in range(len(slots))]


def _width(timeline: Sequence[dict[str, Any]]) -> float:
    return float(timeline[0]["width_s"]) if timeline else 1.0


def _time_axis(axes: Axes, buckets: int, width: float, bill_run_span: tuple[float, float] | None) -> None:
    """Time from 0 to the last bucket's end, the bill run's span shaded (so a dip or a latency
    rise there reads as its cause)."""
    end = buckets * width
    if bill_run_span is not None:
        axes.axvspan(*bill_run_span, color="tab:purple", alpha=0.12, label="bill run")
        end = max(end, bill_run_span[1])
    axes.set_xlim(0, max(end, width))


def throughput(
    timeline: Sequence[dict[str, Any]], path: Path, bill_run_span: tuple[float, float] | None = None
) -> Path:
    """Commands/s and errors/s per timeline bucket (the bill run shaded when given)."""
    figure, axes = _figure()
    slots, width = _dense(timeline), _width(timeline)
    _time_axis(axes, len(slots), width, bill_run_span)
    edges = [i * width for i in range(len(slots) + 1)]
    for key, label, colour in (("commands", "commands/s", "tab:blue"), ("errors", "errors/s", "tab:red")):
        rates = [p[key] / width if p else 0.0 for p in slots]
        axes.stairs(rates, edges, label=label, color=colour, linewidth=1.5)
    axes.set_title("Throughput over time")
    axes.set_xlabel("time since start (s)")
    axes.set_ylabel("calls per second (1/s)")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    figure.legend(loc="outside lower center", ncols=4)
    return _save(figure, path)


def latency(
    timeline: Sequence[dict[str, Any]], path: Path, bill_run_span: tuple[float, float] | None = None
) -> Path:
    """p50, p90 and p99 latency per timeline bucket (log scale when they span a decade)."""
    figure, axes = _figure()
    slots, width = _dense(timeline), _width(timeline)
    _time_axis(axes, len(slots), width, bill_run_span)
    x = _centres(slots, width)
    lines = (("p50_ms", "p50", "tab:green"), ("p90_ms", "p90", "tab:orange"), ("p99_ms", "p99", "tab:red"))
    for key, label, colour in lines:
        axes.plot(x, [p[key] if p else math.nan for p in slots], label=label, color=colour, marker=".")
    values = [p[key] for p in timeline for key, _, _ in lines if p[key] > 0]
    if values and max(values) / min(values) > 10:
        axes.set_yscale("log")
        _plain_log_ticks(axes.yaxis, min(values), max(values))
    axes.set_title("Latency percentiles over time (completions per interval)")
    axes.set_xlabel("time since start (s)")
    axes.set_ylabel("latency (ms)")
    axes.grid(True, which="both", alpha=0.3)
    figure.legend(loc="outside lower center", ncols=4)
    return _save(figure, path)


def _log_bins(histograms: dict[str, HdrHistogram]) -> list[float]:
    """Log-spaced bin edges in ms covering every recorded latency."""
    low = min(h.get_min_value() for h in histograms.values()) / 1000.0
    high = max(h.get_max_value() for h in histograms.values()) / 1000.0
    low, high = max(low * 0.9, 0.001), high * 1.1
    step = (math.log10(high) - math.log10(low)) / HISTOGRAM_BINS
    return [10 ** (math.log10(low) + i * step) for i in range(HISTOGRAM_BINS + 1)]


def _shares(histogram: HdrHistogram, edges: list[float]) -> list[float]:
    """Percent of the histogram's calls in each bin."""
    counts = [0] * (len(edges) - 1)
    for value_us, count in zip(*recorded(histogram), strict=True):
        index = min(max(bisect.bisect_right(edges, value_us / 1000.0) - 1, 0), len(counts) - 1)
        counts[index] += count
    total = histogram.get_total_count()
    return [100.0 * c / total for c in counts]


def histogram(histograms: dict[str, HdrHistogram], path: Path) -> Path:
    """The latency distribution of each RPC, one small panel per RPC on a shared log x axis:
    percent of its calls per log-spaced latency bin, with its p50 and p99 marked."""
    recorded = {name: h for name, h in sorted(histograms.items()) if h.get_total_count()}
    columns = min(max(len(recorded), 1), 3)
    rows = max(math.ceil(len(recorded) / columns), 1)
    figure = Figure(figsize=(SIZE[0], 1.0 + 1.9 * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes_grid = figure.subplots(rows, columns, sharex=True, squeeze=False)
    edges = _log_bins(recorded) if recorded else [0.1, 1.0]
    for axes, (name, hist) in zip(axes_grid.flat, recorded.items(), strict=False):
        _rpc_panel(axes, name, hist, edges)
    for index, axes in enumerate(axes_grid.flat):
        if index >= len(recorded):
            axes.set_visible(False)
            axes_grid.flat[index - columns].xaxis.set_tick_params(labelbottom=True)
    if recorded:
        handles, labels = axes_grid.flat[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower right", ncols=3, fontsize="small")
    figure.suptitle("Latency distribution per RPC")
    figure.supxlabel("latency (ms, log scale)")
    figure.supylabel("share of the RPC's calls (%)")
    return _save(figure, path)


def _rpc_panel(axes: Axes, name: str, hist: HdrHistogram, edges: list[float]) -> None:
    axes.stairs(_shares(hist, edges), edges, fill=True, alpha=0.6, color="tab:blue", label="calls per bin")
    for level, colour in ((50.0, "tab:green"), (99.0, "tab:red")):
        value = hist.get_value_at_percentile(level) / 1000.0
        axes.axvline(value, color=colour, linestyle="--", linewidth=1, label=f"p{level:g}")
    axes.set_xscale("log")
    _plain_log_ticks(axes.xaxis, edges[0], edges[-1])
    axes.set_title(f"{name} (n={hist.get_total_count():,})", fontsize="small")
    axes.tick_params(labelsize="x-small")
    axes.grid(True, which="major", alpha=0.3)


def bill_run(samples: Sequence[BillRunProgress], path: Path) -> Path:
    """Engagements processed (against the run's total) and invoices created over the bill run."""
    figure, axes = _figure()
    x = [s.t for s in samples]
    marker = "o" if len(samples) <= 50 else None  # a short run has few samples: show each one
    total = max(s.total for s in samples)
    axes.axhline(total, color="grey", linestyle=":", label=f"engagements in the run ({total:,})")
    axes.plot(
        x, [s.processed for s in samples], label="engagements processed", color="tab:blue", marker=marker
    )
    invoices = [s.invoices for s in samples]
    axes.plot(x, invoices, label="invoices created", color="tab:green", linestyle="--", marker=marker and "x")
    axes.set_title("Bill-run progress")
    axes.set_xlabel("time since start of the load run (s)")
    axes.set_ylabel("engagements / invoices (count)")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    figure.legend(loc="outside lower center", ncols=4)
    return _save(figure, path)
