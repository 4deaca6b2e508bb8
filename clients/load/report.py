"""The report directory of a load run: report.json, report.md and PNG plots.

report.json holds what the Recorder measured (per-RPC counts, errors by status code,
throughput, HDR latency percentiles in ms rounded to 3 decimals, a per-second timeline) next to
the run's description, the bill run's figures and the correctness verdict. Throughput is over
the measured duration: from the run's origin to the end of the last recorded call.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from clients.load import plots
from clients.load.record import Recorder
from clients.load.report_md import markdown
from clients.load.timeline import latency_ms


class BillRunResult(BaseModel):
    """The month-end bill run as the load tool saw it."""

    bill_run_id: str
    state: str
    duration_s: float
    engagements: int
    invoices: int
    invoices_per_s: float


class Correctness(BaseModel):
    """The end-of-run check: the server's invoices against totals recomputed from the scenario."""

    passed: bool
    invoices_checked: int
    expected_minor: dict[str, int]  # currency -> expected invoiced total, minor units
    server_minor: dict[str, int]  # currency -> what the server's invoices add up to
    mismatches: list[str]  # "E-123: expected 1234.50 EUR, server 1200.00 EUR", at most 50
    billed_twice: int  # items on more than one invoice (must be 0)
    approved_unbilled: int  # approved items of the period on no invoice (must be 0)
    lost_commands: int  # acknowledged commands whose effect is missing (must be 0)
    refused_commands: int = 0  # valid planned commands the server refused (must be 0)
    uncertain: int = 0  # engagements left out: their last command's outcome is unknown


class RunInfo(BaseModel):
    """How the run was driven: target, mode, seed, processes, profile, and its outcome."""

    target: str
    mode: Literal["closed", "open"]
    seed: int
    processes: int
    clients: int | None  # closed loop: concurrent clients
    rate: float | None  # open loop: target commands/s
    started_at: datetime
    duration_s: float
    profile: dict[str, Any]  # the workload profile as given (model_dump)
    bill_run: BillRunResult | None
    correctness: Correctness | None
    server: dict[str, Any] = Field(default_factory=dict)  # anything known about the server


def _per_s(count: int, duration_s: float) -> float:
    return round(count / duration_s, 3) if duration_s > 0 else 0.0


def report_data(recorder: Recorder, run: RunInfo) -> dict[str, Any]:
    """The content of report.json."""
    duration = recorder.duration_s if recorder.duration_s > 0 else run.duration_s
    rpcs = {
        name: {
            "count": stats.count,
            "errors_by_code": dict(sorted(stats.errors_by_code.items())),
            "throughput_per_s": _per_s(stats.count, duration),
            "latency_ms": latency_ms(stats.histogram),
        }
        for name, stats in recorder.rpcs().items()
    }
    return {
        "run": run.model_dump(mode="json"),
        "totals": {
            "commands": recorder.commands,
            "errors": recorder.errors,
            "errors_by_code": dict(sorted(recorder.errors_by_code().items())),
            "throughput_per_s": _per_s(recorder.commands, duration),
            "duration_s": round(duration, 3),
        },
        "rpcs": rpcs,
        "overall": {"latency_ms": latency_ms(recorder.overall())},
        "timeline": recorder.timeline(),
        "bill_run": run.bill_run.model_dump(mode="json") if run.bill_run else None,
        "correctness": run.correctness.model_dump(mode="json") if run.correctness else None,
    }


def write_plots(directory: Path, recorder: Recorder) -> list[Path]:
    """throughput.png, latency.png, histogram.png, and bill_run.png when there was a bill run."""
    timeline = recorder.timeline()
    samples = recorder.bill_run()
    span = (samples[0].t, samples[-1].t) if len(samples) > 1 else None
    written = [
        plots.throughput(timeline, directory / "throughput.png", span),
        plots.latency(timeline, directory / "latency.png", span),
        plots.histogram({n: s.histogram for n, s in recorder.rpcs().items()}, directory / "histogram.png"),
    ]
    if samples:
        written.append(plots.bill_run(samples, directory / "bill_run.png"))
    return written


def write_report(directory: Path, recorder: Recorder, run: RunInfo) -> list[Path]:
    """Writes report.json, report.md and the PNGs; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    data = report_data(recorder, run)
    json_path = directory / "report.json"
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    images = write_plots(directory, recorder)
    md_path = directory / "report.md"
    md_path.write_text(markdown(data, [p.name for p in images]), encoding="utf-8")
    return [json_path, md_path, *images]
