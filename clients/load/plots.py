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

from clients.load.record import BillRunProgress

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


def _centres(timeline: Sequence[dict[str, Any]]) -> list[float]:
    return [p["t"] + p["width_s"] / 2 for p in timeline]


def throughput(timeline: Sequence[dict[str, Any]], path: Path) -> Path:
    """Commands/s and errors/s per timeline bucket."""
    figure, axes = _figure()
    x = _centres(timeline)
    axes.plot(x, [p["commands"] / p["width_s"] for p in timeline], label="commands/s", color="tab:blue")
    axes.plot(x, [p["errors"] / p["width_s"] for p in timeline], label="errors/s", color="tab:red")
    axes.set_title("Throughput over time")
    axes.set_xlabel("time since start (s)")
    axes.set_ylabel("calls per second (1/s)")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best")
    return _save(figure, path)


def latency(timeline: Sequence[dict[str, Any]], path: Path) -> Path:
    """p50, p90 and p99 latency per timeline bucket (log scale when they span a decade)."""
    figure, axes = _figure()
    x = _centres(timeline)
    lines = (("p50_ms", "p50", "tab:green"), ("p90_ms", "p90", "tab:orange"), ("p99_ms", "p99", "tab:red"))
    for key, label, colour in lines:
        axes.plot(x, [p[key] for p in timeline], label=label, color=colour)
    values = [p[key] for p in timeline for key, _, _ in lines if p[key] > 0]
    if values and max(values) / min(values) > 10:
        axes.set_yscale("log")
    axes.set_title("Latency percentiles over time (completions per interval)")
    axes.set_xlabel("time since start (s)")
    axes.set_ylabel("latency (ms)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="best")
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
    for item in histogram.get_recorded_iterator():
        value_ms = item.value_iterated_to / 1000.0
        index = min(max(bisect.bisect_right(edges, value_ms) - 1, 0), len(counts) - 1)
        counts[index] += item.count_added_in_this_iter_step
    total = histogram.get_total_count()
    return [100.0 * c / total for c in counts]


def histogram(histograms: dict[str, HdrHistogram], path: Path) -> Path:
    """The latency distribution of each RPC: percent of its calls per log-spaced latency bin."""
    figure, axes = _figure()
    recorded = {name: h for name, h in sorted(histograms.items()) if h.get_total_count()}
    if recorded:
        edges = _log_bins(recorded)
        colours = [f"C{i % 10}" for i in range(len(recorded))]
        styles = ["-", "--", ":", "-."]
        for i, (name, hist) in enumerate(recorded.items()):
            shares = _shares(hist, edges)
            label = f"{name} (n={hist.get_total_count():,})"
            axes.stairs(shares, edges, label=label, color=colours[i], linestyle=styles[i // 10 % 4])
        axes.legend(loc="upper right", fontsize="small", ncols=2 if len(recorded) > 8 else 1)
    axes.set_xscale("log")
    axes.set_title("Latency distribution per RPC")
    axes.set_xlabel("latency (ms, log scale)")
    axes.set_ylabel("share of the RPC's calls (%)")
    axes.grid(True, which="both", alpha=0.3)
    return _save(figure, path)


def bill_run(samples: Sequence[BillRunProgress], path: Path) -> Path:
    """Engagements processed (of the total) and invoices issued over the bill run."""
    figure, axes = _figure()
    x = [s.t for s in samples]
    axes.plot(x, [s.processed for s in samples], label="engagements processed", color="tab:blue")
    axes.plot(x, [s.invoices for s in samples], label="invoices", color="tab:green")
    axes.plot(x, [s.total for s in samples], label="engagements in the run", color="grey", linestyle="--")
    axes.set_title("Bill-run progress")
    axes.set_xlabel("time since start of the load run (s)")
    axes.set_ylabel("engagements / invoices (count)")
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best")
    return _save(figure, path)
