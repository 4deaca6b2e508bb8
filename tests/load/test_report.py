"""The load tool's report: report.json schema and figures, report.md, and real PNG plots."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clients.load.record import Recorder
from clients.load.report import BillRunResult, Correctness, RunInfo, write_report
from clients.load.report_md import money

T0 = 500.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LATENCY_KEYS = {"p50", "p90", "p99", "p99_9", "max", "mean"}


def _recorder(with_bill_run: bool) -> Recorder:
    """10 s of calls: 1..1000 ms SubmitTimeEntries, fast ApproveTimeEntries with some errors."""
    recorder = Recorder(T0)
    rng = random.Random(1)
    for i in range(1, 1001):
        at = T0 + i / 100  # ends within 0..11 s
        recorder.record("SubmitTimeEntries", at - i / 1000, at - i / 1000, at, "OK")
        code = "ABORTED" if i % 50 == 0 else "OK"
        delay = rng.uniform(0.002, 0.004)
        recorder.record("ApproveTimeEntries", at - delay, at - delay, at, code)
    if with_bill_run:
        for k in range(11):
            recorder.bill_run_progress(T0 + 10 + k / 10, k * 10, 100, k * 9)
    return recorder


def _run(*, bill_run: bool, passed: bool = True) -> RunInfo:
    mismatches = [] if passed else ["E-7: expected 1,234.50 EUR, server 1,200.00 EUR"]
    return RunInfo(
        target="127.0.0.1:50051",
        mode="open",
        seed=42,
        processes=1,
        clients=None,
        rate=200.0,
        started_at=datetime(2026, 12, 6, 18, 0, tzinfo=UTC),
        duration_s=12.5,
        profile={"engagements": 100, "mix": {"tm": 0.6, "fixed_fee": 0.4}},
        bill_run=BillRunResult(
            bill_run_id="BR-1",
            state="COMPLETED",
            duration_s=1.0,
            engagements=100,
            invoices=90,
            invoices_per_s=90.0,
        )
        if bill_run
        else None,
        correctness=Correctness(
            passed=passed,
            invoices_checked=90,
            expected_minor={"EUR": 123450, "JPY": 5000},
            server_minor={"EUR": 123450 if passed else 120000, "JPY": 5000},
            mismatches=mismatches,
            billed_twice=0,
            approved_unbilled=0,
            lost_commands=0,
        ),
        server={
            "shards": 2,
            "version": "test",
            "planned_rpcs": {"CreateEngagement": 1200, "IssueInvoice": 12},
        },
    )


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    directory = tmp_path_factory.mktemp("report")
    return directory, write_report(directory, _recorder(with_bill_run=True), _run(bill_run=True))


def _json(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((directory / "report.json").read_text())
    return data


def test_report_writes_json_markdown_and_four_plots(report_dir: tuple[Path, list[Path]]) -> None:
    directory, written = report_dir
    names = ["report.json", "report.md", "throughput.png", "latency.png", "histogram.png", "bill_run.png"]
    assert [p.name for p in written] == names
    assert all((directory / name).is_file() for name in names)


def test_plots_are_real_pngs_drawn_by_matplotlib(report_dir: tuple[Path, list[Path]]) -> None:
    _, written = report_dir
    for path in written[2:]:
        content = path.read_bytes()
        assert content.startswith(PNG_SIGNATURE), path.name
        assert len(content) > 15_000, path.name  # axes, lines, labels and legend, not a blank canvas
        assert b"matplotlib" in content, path.name  # the Software text chunk Agg writes


def test_report_json_has_the_schema_and_the_measured_figures(report_dir: tuple[Path, list[Path]]) -> None:
    data = _json(report_dir[0])

    assert set(data) == {"run", "totals", "rpcs", "overall", "timeline", "bill_run", "correctness"}
    assert RunInfo.model_validate(data["run"]) == _run(bill_run=True)
    totals = data["totals"]
    assert (totals["commands"], totals["errors"]) == (2000, 20)
    assert totals["duration_s"] == pytest.approx(10.0)
    assert totals["throughput_per_s"] == pytest.approx(200.0)
    submit = data["rpcs"]["SubmitTimeEntries"]
    assert set(submit) == {"count", "errors_by_code", "throughput_per_s", "latency_ms"}
    assert set(submit["latency_ms"]) == LATENCY_KEYS
    assert submit["latency_ms"]["p50"] == pytest.approx(500, rel=2e-3)
    assert submit["latency_ms"]["p99"] == pytest.approx(990, rel=2e-3)
    assert submit["latency_ms"]["max"] == pytest.approx(1000, rel=2e-3)
    assert submit["latency_ms"]["p50"] == round(submit["latency_ms"]["p50"], 3)
    assert data["rpcs"]["ApproveTimeEntries"]["errors_by_code"] == {"ABORTED": 20}
    assert 2 <= data["rpcs"]["ApproveTimeEntries"]["latency_ms"]["p50"] <= 4.01
    assert set(data["overall"]["latency_ms"]) == LATENCY_KEYS


def test_report_json_timeline_has_a_row_per_second(report_dir: tuple[Path, list[Path]]) -> None:
    timeline = _json(report_dir[0])["timeline"]

    assert [row["t"] for row in timeline] == list(range(11))
    assert {"t", "commands", "errors", "p50_ms", "p99_ms"} <= set(timeline[0])
    assert sum(row["commands"] for row in timeline) == 2000
    assert sum(row["errors"] for row in timeline) == 20


def test_report_json_carries_bill_run_and_correctness(report_dir: tuple[Path, list[Path]]) -> None:
    data = _json(report_dir[0])

    assert BillRunResult.model_validate(data["bill_run"]).invoices == 90
    assert Correctness.model_validate(data["correctness"]).passed is True


def test_report_md_summarises_rpcs_bill_run_verdict_and_links_the_plots(
    report_dir: tuple[Path, list[Path]],
) -> None:
    text = (report_dir[0] / "report.md").read_text()

    assert text.startswith("# q2c load report: correctness passed")
    assert "| SubmitTimeEntries | 1,000 | 0 | 100.0 |" in text
    assert "| ApproveTimeEntries | 1,000 | ABORTED 20 |" in text
    assert "| invoices/s | 90.0 |" in text
    assert "**PASSED**: 90 invoices checked" in text
    assert "| EUR | 1,234.50 EUR | 1,234.50 EUR | 0.00 EUR |" in text
    assert "| server planned_rpcs | CreateEngagement 1,200, IssueInvoice 12 |" in text
    for name in ("throughput.png", "latency.png", "histogram.png", "bill_run.png"):
        assert f"]({name})" in text


def test_without_a_bill_run_there_is_no_bill_run_plot_and_the_report_says_so(tmp_path: Path) -> None:
    written = write_report(tmp_path, _recorder(with_bill_run=False), _run(bill_run=False, passed=False))

    assert "bill_run.png" not in [p.name for p in written]
    assert not (tmp_path / "bill_run.png").exists()
    text = (tmp_path / "report.md").read_text()
    assert "no bill run in this load run, so there is no bill_run.png" in text
    assert "**FAILED**" in text
    assert "- E-7: expected 1,234.50 EUR, server 1,200.00 EUR" in text
    assert _json(tmp_path)["bill_run"] is None


def test_money_uses_the_currency_minor_unit() -> None:
    assert money(123450, "EUR") == "1,234.50 EUR"
    assert money(5000, "JPY") == "5,000 JPY"
    assert money(-1005, "BHD") == "-1.005 BHD"


def test_a_run_that_recorded_nothing_still_writes_a_whole_report(tmp_path: Path) -> None:
    written = write_report(tmp_path, Recorder(T0), _run(bill_run=False))

    assert [p.name for p in written] == [
        "report.json",
        "report.md",
        "throughput.png",
        "latency.png",
        "histogram.png",
    ]
    data = _json(tmp_path)
    assert data["totals"]["commands"] == 0
    assert data["totals"]["throughput_per_s"] == 0
    assert data["overall"]["latency_ms"] == dict.fromkeys(LATENCY_KEYS, 0.0)
    assert data["timeline"] == []
    assert "| errors | 0 |" in (tmp_path / "report.md").read_text()
    assert all(p.read_bytes().startswith(PNG_SIGNATURE) for p in written[2:])
