"""`q2c load`: simulate a month-end against a running q2c, check every invoice, write a report.

    q2c load --target HOST:PORT --token-file submitter.jwt --approver-token-file approver.jwt \\
             [--profile month-end.yaml] [--engagements N ...] [--clients N | --rate R]
             [--ramp-up S] [--duration S] [--processes P] [--seed N] [--report-dir DIR]

Tokens: two principals of one tenant (approvals need a second one), e.g.
    q2c auth token --tenant acme --principal load-submitter > submitter.jwt
    q2c auth token --tenant acme --principal load-approver  > approver.jwt

Exit codes: 0 the run finished and the correctness check passed; 2 usage or profile error (the
message names the field); 9 the correctness check failed; when seeding or starting the bill run
fails or the approver's token is refused, the q2c command's code for its status (6
UNAVAILABLE, 10 UNAUTHENTICATED, 11 PERMISSION_DENIED, 4 NOT_FOUND: an approver of another
tenant, ...); 1 unexpected local error; 130 interrupted. See docs/load-testing.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc

from clients.cli_errors import ExitCode, exit_code_for
from clients.load import profile as profiles
from clients.load import scenario
from clients.load.billrun import RunError
from clients.load.cli_options import build_parser, profile_overrides
from clients.load.connect import Settings
from clients.load.driver import Options, Outcome, run
from clients.load.live import LiveDisplay
from clients.load.record import Recorder
from clients.load.report import RunInfo, write_report
from clients.load.schedule import Pace
from clients.load.shares import SharedRecorder


def _settings(args: argparse.Namespace) -> Settings:
    env = os.environ.get
    token, token_file = args.token, args.token_file
    if not token and not token_file:
        token, token_file = env("Q2C_TOKEN"), env("Q2C_TOKEN_FILE")
    approver, approver_file = args.approver_token, args.approver_token_file
    if not approver and not approver_file:
        approver, approver_file = env("Q2C_APPROVER_TOKEN"), env("Q2C_APPROVER_TOKEN_FILE")
    settings = Settings(
        target=args.target,
        token=token or None,
        token_file=token_file or None,
        approver_token=approver or None,
        approver_token_file=approver_file or None,
        tls_ca_file=args.tls_ca_file or env("Q2C_TLS_CA_FILE"),
        tls_cert_file=args.tls_cert_file or env("Q2C_TLS_CERT_FILE"),
        tls_key_file=args.tls_key_file or env("Q2C_TLS_KEY_FILE"),
        timeout=args.timeout,
    )
    settings.check()
    return settings


def _pace(args: argparse.Namespace) -> Pace:
    if args.rate is not None:
        return Pace(rate=args.rate, ramp_up=args.ramp_up, window=args.window)
    return Pace(clients=args.clients, ramp_up=args.ramp_up, window=args.window)


def _summary(outcome: Outcome, recorder: Recorder, report_dir: Path) -> str:
    verdict = outcome.verdict
    lines = [f"{recorder.commands} commands, {recorder.errors} errors in {recorder.duration_s:.1f} s"]
    if outcome.bill_run:
        b = outcome.bill_run
        lines.append(
            f"bill run {b.bill_run_id}: {b.state}, {b.invoices} invoices"
            f" in {b.duration_s:.1f} s ({b.invoices_per_s}/s)"
        )
    if verdict:
        c = verdict.correctness
        lines.append(
            f"correctness {'PASSED' if c.passed else 'FAILED'}: {c.invoices_checked} invoices checked,"
            f" {len(c.mismatches)} mismatches, billed twice {c.billed_twice}, approved unbilled"
            f" {c.approved_unbilled}, lost commands {c.lost_commands}, refused {c.refused_commands}"
            + (
                f", {verdict.uncertain} engagements not checked (outcome unknown)"
                if verdict.uncertain
                else ""
            )
        )
        lines.extend(f"  {m}" for m in c.mismatches[:10])
    lines.append(f"report: {report_dir}")
    return "\n".join(lines)


def execute(args: argparse.Namespace) -> int:
    """Run the load as parsed; the exit code."""
    try:
        overrides = profile_overrides(args)
        profile = profiles.load(Path(args.profile) if args.profile else None, overrides)
        settings = _settings(args)
    except (profiles.ProfileError, ValueError) as error:
        print(f"q2c load: {error}", file=sys.stderr)
        return int(ExitCode.USAGE)
    stamp = datetime.now(UTC)
    run_tag = args.run_tag or f"load-{args.seed}-{stamp:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    plan = scenario.build(profile, args.seed, run_tag)
    report_dir = Path(args.report_dir or f"load-report-{stamp:%Y%m%d-%H%M%S}")
    origin = time.monotonic()
    recorder = SharedRecorder(origin)
    live_on = args.live if args.live is not None else sys.stderr.isatty()
    options = Options(settings, _pace(args), args.processes, args.duration, args.bill_run_retries)
    with LiveDisplay(recorder, settings.target, enabled=live_on) as live:
        try:
            outcome = asyncio.run(run(plan, options, recorder, live.phase))
        except RunError as error:
            print(f"q2c load: {error}", file=sys.stderr)
            status = getattr(grpc.StatusCode, error.code, grpc.StatusCode.UNKNOWN)
            return int(exit_code_for(status))
    info = RunInfo(
        target=settings.target,
        mode="open" if args.rate is not None else "closed",
        seed=args.seed,
        processes=args.processes,
        clients=None if args.rate is not None else args.clients,
        rate=args.rate,
        started_at=stamp,
        duration_s=round(time.monotonic() - origin, 3),
        profile=profile.model_dump(mode="json"),
        bill_run=outcome.bill_run,
        correctness=outcome.verdict.correctness if outcome.verdict else None,
        server={
            **outcome.server,
            "run_tag": run_tag,
            "planned_rpcs": plan.rpc_counts(),
            "retries": outcome.retries,
        },
    )
    write_report(report_dir, recorder, info)
    if args.json:
        data: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
        print(
            json.dumps(
                {
                    "totals": data["totals"],
                    "correctness": data.get("correctness"),
                    "report_dir": str(report_dir),
                }
            )
        )
    else:
        print(_summary(outcome, recorder, report_dir))
    passed = outcome.verdict is not None and outcome.verdict.correctness.passed
    return int(ExitCode.OK if passed else ExitCode.CHECK_FAILED)


def main(argv: Sequence[str] | None = None) -> int:
    """`q2c load ...`: parse, run, report; the exit code (see the module docstring)."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as stop:  # --help (0) or a usage error (2), already printed
        return stop.code if isinstance(stop.code, int) else int(ExitCode.USAGE)
    try:
        return execute(args)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    except Exception as error:  # one line, like the q2c command; Q2C_DEBUG=1 for the traceback
        if os.environ.get("Q2C_DEBUG"):
            raise
        print(f"q2c load: {type(error).__name__}: {error} (set Q2C_DEBUG=1 for a traceback)", file=sys.stderr)
        return int(ExitCode.LOCAL_ERROR)
