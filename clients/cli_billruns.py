"""`q2c bill-runs start|list|get|watch|cancel`: month-end billing, with a live progress bar."""

from __future__ import annotations

import argparse

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from clients import cli_tables as views
from clients.cli_context import Context, Subparsers, add_list_options, command, group
from clients.cli_errors import ExitCode
from clients.cli_render import enum_label, moneys
from q2c.v1 import billing_pb2


def _state(run: billing_pb2.BillRun) -> str:
    return enum_label(billing_pb2.BillRunState, run.state, "BILL_RUN_STATE_")


def outcome(run: billing_pb2.BillRun) -> int:
    """0 when the run SUCCEEDED (or is still going), CHECK_FAILED when it FAILED or was CANCELLED."""
    failed = (billing_pb2.BILL_RUN_STATE_FAILED, billing_pb2.BILL_RUN_STATE_CANCELLED)
    return int(ExitCode.CHECK_FAILED) if run.state in failed else 0


def start(ctx: Context, args: argparse.Namespace) -> int:
    """Start a bill run for a month; with --watch, follow it to the end."""
    run = ctx.api.start_bill_run(args.month, args.customer or [], args.currency)
    if args.watch:
        return _watch(ctx, run)
    ctx.out.emit(run, views.bill_run)
    return 0


def list_runs(ctx: Context, args: argparse.Namespace) -> int:
    """Bill runs, newest first."""
    ctx.out.emit(ctx.api.list_bill_runs(args.limit, args.page_token), views.bill_runs)
    return 0


def get(ctx: Context, args: argparse.Namespace) -> int:
    """One bill run."""
    ctx.out.emit(ctx.api.get_bill_run(args.id), views.bill_run)
    return 0


def watch(ctx: Context, args: argparse.Namespace) -> int:
    """Follow a bill run until it finishes; exit 9 if it FAILED or was CANCELLED."""
    return _watch(ctx, ctx.api.get_bill_run(args.id))


def cancel(ctx: Context, args: argparse.Namespace) -> int:
    """Cancel a PENDING or RUNNING bill run."""
    ctx.out.emit(ctx.api.cancel_bill_run(args.id, args.reason), views.bill_run)
    return 0


def _watch(ctx: Context, run: billing_pb2.BillRun) -> int:
    """Stream the run (a progress bar on stderr unless --json), then print its final state."""
    if ctx.out.json_mode:
        final = run
        for update in ctx.api.watch_bill_run(run.bill_run_id):
            final = update
    else:
        final = _watch_with_progress(ctx, run)
    ctx.out.emit(final, views.bill_run)
    return outcome(final)


def _watch_with_progress(ctx: Context, run: billing_pb2.BillRun) -> billing_pb2.BillRun:
    """A rich progress bar: engagements processed of in scope, invoices created, totals."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("engagements  {task.fields[summary]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=ctx.out.stderr_console(), transient=False) as progress:
        task = progress.add_task(_label(run), total=None, summary="")
        final = run
        for final in ctx.api.watch_bill_run(run.bill_run_id):
            summary = f"{final.invoices_created} invoiced  {moneys(final.invoiced_totals)}".rstrip()
            progress.update(
                task,
                description=_label(final),
                total=final.engagements_total or None,
                completed=final.engagements_processed,
                summary=summary,
            )
    return final


def _label(run: billing_pb2.BillRun) -> str:
    return f"bill run {run.period.month or run.bill_run_id[:8]} {_state(run)}"


def register(subparsers: Subparsers) -> None:
    """Add `bill-runs` to the top-level parser."""
    actions = group(subparsers, "bill-runs", "month-end bill runs: start, follow, inspect")
    parser = command(actions, "start", start, "start a bill run for one month")
    parser.add_argument("--month", required=True, help="the month to bill, YYYY-MM (validated by the server)")
    parser.add_argument("--customer", action="append", help="only this customer (repeatable)")
    parser.add_argument("--currency", default="", help="only contracts in this ISO-4217 currency")
    parser.add_argument(
        "--watch", action="store_true", help="follow the run with a progress bar until it ends"
    )
    add_list_options(command(actions, "list", list_runs, "list bill runs, newest first"))
    command(actions, "get", get, "show one bill run").add_argument("id", help="the bill run id")
    command(actions, "watch", watch, "follow a bill run until it ends").add_argument(
        "id", help="the bill run id"
    )
    parser = command(actions, "cancel", cancel, "cancel a PENDING or RUNNING bill run")
    parser.add_argument("id", help="the bill run id")
    parser.add_argument("--reason", required=True, help="why (recorded in the audit log)")
