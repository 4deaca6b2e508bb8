"""report.md of a load run, written from the content of report.json."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# ISO-4217 currencies whose minor unit is not the cent; every other currency has 2 places.
_PLACES = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3}
_IMAGES = {
    "throughput.png": "Throughput over time",
    "latency.png": "Latency percentiles over time",
    "histogram.png": "Latency distribution per RPC",
    "bill_run.png": "Bill-run progress",
}


def money(minor: int, currency: str) -> str:
    """Minor units as an amount: money(123450, "EUR") == "1,234.50 EUR"."""
    places = _PLACES.get(currency, 2)
    return f"{Decimal(minor).scaleb(-places):,.{places}f} {currency}"


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    marks = [("---:" if a == "r" else "---") for a in align.ljust(len(header), "l")]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _errors(by_code: dict[str, int]) -> str:
    return ", ".join(f"{code} {n:,}" for code, n in by_code.items()) or "0"


def _value(value: Any) -> str:
    """A server fact for a table cell: mappings and lists spelled out, not as Python reprs."""
    if isinstance(value, dict):
        return ", ".join(f"{key} {_value(item)}" for key, item in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(_value(item) for item in value) or "-"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _load(run: dict[str, Any]) -> str:
    if run["mode"] == "closed":
        return f"closed loop, {run['clients']} clients"
    return f"open loop, target {run['rate']:,} commands/s"


def _summary(data: dict[str, Any]) -> list[str]:
    run, totals, overall = data["run"], data["totals"], data["overall"]["latency_ms"]
    share = 100.0 * totals["errors"] / totals["commands"] if totals["commands"] else 0.0
    rows = [
        ["target", f"`{run['target']}`"],
        ["load", _load(run)],
        ["processes", str(run["processes"])],
        ["seed", str(run["seed"])],
        ["started at", str(run["started_at"])],
        ["run duration", f"{run['duration_s']:,.1f} s"],
        ["measured duration", f"{totals['duration_s']:,.1f} s"],
        ["commands", f"{totals['commands']:,}"],
        [
            "errors",
            f"{totals['errors']:,} ({share:.2f} %): {_errors(totals['errors_by_code'])}" if share else "0",
        ],
        ["throughput", f"{totals['throughput_per_s']:,.1f} commands/s"],
        [
            "latency",
            f"p50 {overall['p50']:,.3f} ms, p99 {overall['p99']:,.3f} ms, max {overall['max']:,.3f} ms",
        ],
    ]
    rows += [[f"server {key}", _value(value)] for key, value in sorted(run["server"].items())]
    return ["## Summary", "", *_table(["item", "value"], rows)]


def _rpcs(data: dict[str, Any]) -> list[str]:
    header = ["RPC", "count", "errors", "rate (/s)", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"]
    rows = []
    for name, rpc in data["rpcs"].items():
        lat = rpc["latency_ms"]
        numbers = [f"{lat[k]:,.3f}" for k in ("p50", "p90", "p99", "p99_9", "max")]
        rows.append(
            [
                name,
                f"{rpc['count']:,}",
                _errors(rpc["errors_by_code"]),
                f"{rpc['throughput_per_s']:,.1f}",
                *numbers,
            ]
        )
    overall = data["overall"]["latency_ms"]
    totals = data["totals"]
    numbers = [f"**{overall[k]:,.3f}**" for k in ("p50", "p90", "p99", "p99_9", "max")]
    rows.append(
        [
            "**all**",
            f"**{totals['commands']:,}**",
            f"**{totals['errors']:,}**",
            f"**{totals['throughput_per_s']:,.1f}**",
            *numbers,
        ]
    )
    intro = "Latency is from the intended send time to the reply (HDR histograms, 3 significant digits)."
    return ["## Per RPC", "", intro, "", *_table(header, rows, "lrrrrrrrr")]


def _bill_run(data: dict[str, Any], images: list[str]) -> list[str]:
    bill_run = data["bill_run"]
    lines = ["## Bill run", ""]
    if bill_run is None:
        lines.append("There was no bill run in this load run, so there is no bill_run.png.")
        return [*lines, ""]
    rows = [
        ["bill run", f"`{bill_run['bill_run_id']}`"],
        ["state", bill_run["state"]],
        ["duration", f"{bill_run['duration_s']:,.2f} s"],
        ["engagements", f"{bill_run['engagements']:,}"],
        ["invoices", f"{bill_run['invoices']:,}"],
        ["invoices/s", f"{bill_run['invoices_per_s']:,.1f}"],
    ]
    lines += _table(["item", "value"], rows)
    if "bill_run.png" not in images:
        lines += ["No progress was sampled during the bill run, so there is no bill_run.png.", ""]
    return lines


def _correctness(data: dict[str, Any]) -> list[str]:
    check = data["correctness"]
    lines = ["## Correctness", ""]
    if check is None:
        return [*lines, "The correctness check did not run.", ""]
    verdict = "**PASSED**" if check["passed"] else "**FAILED**"
    lines += [
        f"{verdict}: {check['invoices_checked']:,} invoices checked against totals recomputed "
        "independently from the generated scenario.",
        "",
    ]
    currencies = sorted(set(check["expected_minor"]) | set(check["server_minor"]))
    rows = []
    for cur in currencies:
        expected, server = check["expected_minor"].get(cur, 0), check["server_minor"].get(cur, 0)
        rows.append([cur, money(expected, cur), money(server, cur), money(server - expected, cur)])
    lines += _table(["currency", "expected", "server", "difference"], rows, "lrrr")
    counts = [
        ["items billed twice", f"{check['billed_twice']:,}"],
        ["approved items left unbilled", f"{check['approved_unbilled']:,}"],
        ["acknowledged commands lost", f"{check['lost_commands']:,}"],
        ["valid commands refused", f"{check.get('refused_commands', 0):,}"],
        ["engagements not checked (outcome unknown)", f"{check.get('uncertain', 0):,}"],
        ["invoice mismatches", f"{len(check['mismatches']):,}"],
    ]
    lines += _table(["must be 0", "found"], counts, "lr")
    if check["mismatches"]:
        lines += ["Mismatches (at most 50):", "", *[f"- {m}" for m in check["mismatches"]], ""]
    return lines


def _plots(images: list[str]) -> list[str]:
    lines = ["## Plots", ""]
    for name in images:
        lines += [f"### {_IMAGES.get(name, name)}", "", f"![{_IMAGES.get(name, name)}]({name})", ""]
    return lines


def markdown(data: dict[str, Any], images: list[str]) -> str:
    """The report as Markdown: summary, per-RPC table, bill run, correctness verdict, plots."""
    check = data["correctness"]
    verdict = "not checked" if check is None else ("passed" if check["passed"] else "FAILED")
    lines = [f"# q2c load report: correctness {verdict}", ""]
    lines += _summary(data) + _rpcs(data) + _bill_run(data, images) + _correctness(data) + _plots(images)
    return "\n".join(lines).rstrip() + "\n"
