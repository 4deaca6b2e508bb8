"""The options of `q2c load`: connection, workload (profile overrides), pacing, output."""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

from clients.cli_context import DEFAULT_TARGET

PROFILE_FLAGS = {
    "customers": (int, "customers to create (profile: customers)"),
    "engagements": (int, "engagements to create and bill (profile: engagements)"),
    "period": (str, "the billing month YYYY-MM (profile: period)"),
    "time_entries": (int, "time entries per T&M engagement (profile: time_entries)"),
    "time_batch": (int, "time entries per SubmitTimeEntries call (profile: time_batch)"),
    "expenses": (int, "expenses per engagement (profile: expenses)"),
    "expense_batch": (int, "expenses per SubmitExpenses call (profile: expense_batch)"),
    "milestones": (int, "milestones per fixed-fee engagement (profile: milestones)"),
    "approval_ratio": (float, "share of items approved, the rest rejected (profile: approval_ratio)"),
    "late_ratio": (float, "share of time entries submitted after the bill run (profile: late_ratio)"),
    "change_order_ratio": (
        float,
        "share of T&M engagements amended mid-period (profile: change_order_ratio)",
    ),
    "mid_month_start_ratio": (
        float,
        "share of engagements activated after the 1st (profile: mid_month_start_ratio)",
    ),
    "tax_exempt_ratio": (float, "share of tax-exempt customers (profile: tax_exempt_ratio)"),
}
"""Profile fields settable by flag: name -> (type, help)."""


MAX_RUN_TAG = 100
"""A request id is the tag plus at most 20 characters; the server takes ids of up to 128."""


def _mix(text: str) -> tuple[str, str]:
    model, sep, weight = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected MODEL=WEIGHT, got {text!r}")
    return model.strip(), weight.strip()


def _connection(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    group = parser.add_argument_group("connection (like every q2c client)")
    group.add_argument(
        "--target",
        default=env("Q2C_TARGET") or DEFAULT_TARGET,
        help=f"server HOST:PORT (env Q2C_TARGET, default {DEFAULT_TARGET})",
    )
    group.add_argument("--token", help="bearer token of the submitting principal (env Q2C_TOKEN)")
    group.add_argument(
        "--token-file",
        metavar="FILE",
        help="file holding the submitter's token, re-read when it changes (env Q2C_TOKEN_FILE)",
    )
    group.add_argument(
        "--approver-token",
        help="token of a second principal of the same tenant, who approves (env Q2C_APPROVER_TOKEN)",
    )
    group.add_argument(
        "--approver-token-file",
        metavar="FILE",
        help="file holding the approver's token (env Q2C_APPROVER_TOKEN_FILE)",
    )
    group.add_argument(
        "--tls-ca-file",
        metavar="PEM",
        help="speak TLS; the CA that verifies the server (env Q2C_TLS_CA_FILE)",
    )
    group.add_argument(
        "--tls-cert-file", metavar="PEM", help="client certificate for mutual TLS (env Q2C_TLS_CERT_FILE)"
    )
    group.add_argument(
        "--tls-key-file", metavar="PEM", help="the client certificate's private key (env Q2C_TLS_KEY_FILE)"
    )
    group.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="deadline per call in seconds (default 30)"
    )


def _workload(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "workload (a YAML profile, flags override it; see docs/load-testing.md)"
    )
    group.add_argument(
        "--profile", metavar="FILE", help="workload profile (YAML), e.g. deploy/load/month-end.yaml"
    )
    for name, (kind, text) in PROFILE_FLAGS.items():
        group.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, help=text)
    group.add_argument(
        "--mix",
        action="append",
        type=_mix,
        metavar="MODEL=WEIGHT",
        help=(
            "billing-model weight (repeat): time_and_materials, nte_capped, fixed_fee,"
            " retainer, subscription, pass_through"
        ),
    )
    group.add_argument(
        "--seed", type=int, default=1, help="seed of the generated scenario (default 1): same seed, same plan"
    )
    group.add_argument(
        "--run-tag", help="prefix of every request id and seeded name (default load-<seed>-<time>-<random>)"
    )


def _pacing(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pacing")
    loop = group.add_mutually_exclusive_group()
    loop.add_argument(
        "--clients", type=int, default=16, help="closed loop: N concurrent clients (default 16)"
    )
    loop.add_argument(
        "--rate", type=float, help="open loop: target commands/s, latency from each scheduled send time"
    )
    group.add_argument(
        "--ramp-up",
        type=float,
        default=0.0,
        metavar="S",
        help="closed: start clients over S seconds; open: ramp the rate over S seconds",
    )
    group.add_argument(
        "--duration",
        type=float,
        metavar="S",
        help="stop sending month-end commands after S seconds (default: run the whole plan)",
    )
    group.add_argument(
        "--window",
        type=int,
        metavar="N",
        help="engagements under way at once, the next starting as one finishes"
        " (default 4 per client, or 2 s of --rate; at least 16)",
    )
    group.add_argument(
        "--bill-run-retries",
        type=int,
        default=0,
        metavar="N",
        help="start up to N more bill runs for the month while one ends with failed engagements"
        " or not SUCCEEDED, as an operator would (default 0)",
    )
    group.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="P",
        help="split engagements across P driver processes, one channel each; --clients, --rate and"
        " --window are shared out (default 1)",
    )


def _output(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument(
        "--report-dir",
        metavar="DIR",
        help="where report.json, report.md and the PNGs go (default load-report-<timestamp>)",
    )
    live = group.add_mutually_exclusive_group()
    live.add_argument(
        "--live",
        dest="live",
        action="store_true",
        default=None,
        help="force the live display (default: only on a terminal)",
    )
    live.add_argument("--no-live", dest="live", action="store_false", help="no live display")
    group.add_argument(
        "--json", action="store_true", help="print report.json's totals and the verdict as one JSON line"
    )


def _positive(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for flag, value in (
        ("--clients", args.clients),
        ("--processes", args.processes),
        ("--window", args.window),
    ):
        if value is not None and value < 1:
            parser.error(f"{flag} must be at least 1")
    for flag, value in (
        ("--rate", args.rate),
        ("--duration", args.duration),
        ("--timeout", args.timeout),
        ("--ramp-up", args.ramp_up),
    ):
        if value is not None and not math.isfinite(value):
            parser.error(f"{flag} must be a finite number")
    for flag, value in (("--rate", args.rate), ("--duration", args.duration), ("--timeout", args.timeout)):
        if value is not None and value <= 0:
            parser.error(f"{flag} must be above 0")
    for flag, value in (
        ("--clients", None if args.rate is not None else args.clients),
        ("--window", args.window),
    ):
        if value is not None and value < args.processes:
            parser.error(
                f"--processes {args.processes} needs {flag} of at least {args.processes} (shared out)"
            )
    if args.ramp_up < 0 or args.bill_run_retries < 0:
        parser.error("--ramp-up and --bill-run-retries must not be negative")
    if args.run_tag is not None and not 0 < len(args.run_tag) <= MAX_RUN_TAG:
        parser.error(f"--run-tag must be 1 to {MAX_RUN_TAG} characters (request ids are at most 128)")


class LoadParser(argparse.ArgumentParser):
    """argparse with the numeric checks `q2c load` needs after parsing."""

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        """Parse, then check that counts and rates are positive (usage error otherwise)."""
        parsed = super().parse_args(args, namespace)
        _positive(self, parsed)
        return parsed


def build_parser() -> argparse.ArgumentParser:
    """Every option of `q2c load`."""
    from clients.load import command

    parser = LoadParser(
        prog="q2c load",
        description=command.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    _connection(parser)
    _workload(parser)
    _pacing(parser)
    _output(parser)
    return parser


def profile_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The profile fields the flags set (dotted keys for nested ones)."""
    overrides: dict[str, Any] = {name: getattr(args, name) for name in PROFILE_FLAGS}
    for model, weight in args.mix or []:
        overrides[f"billing_mix.{model}"] = weight
    return overrides
