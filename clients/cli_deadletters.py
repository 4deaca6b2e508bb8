"""`q2c dead-letters list|show|retry` and `q2c deliveries list|stats`: outbound ERP / PSA
deliveries from `q2c.v1.DeliveryService`.

A server without DeliveryService (older than this CLI) answers UNIMPLEMENTED: the command then
fails with exit code 8 ("not available on this server").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc

from clients.cli_context import (
    Context,
    Subparsers,
    add_enum_option,
    add_global_options,
    add_list_options,
    command,
    enum_value,
    group,
)
from clients.cli_errors import CliError, ErrorReport, ExitCode, not_available
from clients.cli_render import Column, details, enum_label, moment, more_caption, table
from clients.cli_tables import Views
from q2c.v1 import delivery_pb2 as pb

DELIVERY_SERVICE = "q2c.v1.DeliveryService"
ERROR_WIDTH = 60
"""Characters of an error message or payload shown in a table cell (--json has them whole)."""

DESTINATION = (pb.DeliveryDestination, "DELIVERY_DESTINATION_")
OPERATION = (pb.DeliveryOperation, "DELIVERY_OPERATION_")
STATUS = (pb.DeliveryStatus, "DELIVERY_STATUS_")
FAILURE = (pb.DeliveryFailureKind, "DELIVERY_FAILURE_KIND_")


@contextmanager
def _hosted(ctx: Context) -> Iterator[None]:
    """Turn UNIMPLEMENTED (a server without DeliveryService) into exit 8."""
    try:
        yield
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.UNIMPLEMENTED:
            raise not_available("dead letters", DELIVERY_SERVICE, ctx.api.target) from None
        raise


def _label(kind: tuple[object, str], value: int) -> str:
    return enum_label(kind[0], value, kind[1])


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= ERROR_WIDTH else flat[: ERROR_WIDTH - 3] + "..."


DELIVERY_COLUMNS: list[Column] = [
    ("id", lambda d: str(d.delivery_id)),
    ("destination", lambda d: _label(DESTINATION, d.destination)),
    ("operation", lambda d: _label(OPERATION, d.operation).lower()),
    ("status", lambda d: _label(STATUS, d.status)),
    ("engagement", lambda d: d.engagement_id),
    ("subject", lambda d: d.subject_id),
    ("attempts", lambda d: str(d.attempts)),
    ("failure", lambda d: _label(FAILURE, d.failure_kind)),
    ("last error", lambda d: _clip(d.last_error)),
    ("updated", lambda d: moment(d.update_time)),
]

ATTEMPT_COLUMNS: list[Column] = [
    ("#", lambda a: str(a.attempt)),
    ("time", lambda a: moment(a.attempt_time)),
    ("outcome", lambda a: "DELIVERED" if a.delivered else _label(FAILURE, a.failure_kind)),
    ("http", lambda a: str(a.http_status) if a.http_status else ""),
    ("message", lambda a: _clip(a.message)),
    ("payload", lambda a: _clip(a.payload)),
]

STATS_COLUMNS: list[Column] = [
    ("destination", lambda s: _label(DESTINATION, s.destination)),
    ("pending", lambda s: str(s.pending)),
    ("due", lambda s: str(s.due)),
    ("delivered", lambda s: str(s.delivered)),
    ("dead", lambda s: str(s.dead)),
    ("attempts", lambda s: str(s.attempts)),
    ("oldest pending", lambda s: moment(s.oldest_pending_time)),
]


def dead_letters_view(response: pb.ListDeadLettersResponse) -> Views:
    """ListDeadLettersResponse."""
    caption = more_caption(response.next_page_token)
    return [table("dead letters", DELIVERY_COLUMNS, response.dead_letters, caption)]


def deliveries_view(response: pb.ListDeliveriesResponse) -> Views:
    """ListDeliveriesResponse."""
    caption = more_caption(response.next_page_token)
    return [table("deliveries", DELIVERY_COLUMNS, response.deliveries, caption)]


def delivery_view(d: pb.Delivery) -> Views:
    """One item with every field, then its attempt history."""
    rows = [(header, render(d)) for header, render in DELIVERY_COLUMNS]
    rows[-2] = ("last error", " ".join(d.last_error.split()))
    rows += [
        ("key", d.key),
        ("invoice", d.invoice_id),
        ("event position", str(d.source_position)),
        ("http status", str(d.last_http_status) if d.last_http_status else ""),
        ("payload", d.last_payload),
        ("document", d.document_number),
        ("next attempt", moment(d.next_attempt_time)),
        ("created", moment(d.create_time)),
        ("delivered", moment(d.delivered_time)),
        ("dead since", moment(d.dead_time)),
    ]
    history = table("attempts", ATTEMPT_COLUMNS, d.attempt_history)
    return [details(f"delivery {d.delivery_id}", rows), history]


def retried_view(response: pb.RetryDeadLetterResponse) -> Views:
    """RetryDeadLetterResponse: how many moved, and which."""
    ids = ", ".join(str(i) for i in response.delivery_ids) or "none"
    return [details("retried", [("moved to PENDING", str(len(response.delivery_ids))), ("ids", ids)])]


def stats_view(response: pb.DeliveryStats) -> Views:
    """DeliveryStats: one row per destination; the outbox lag in the caption."""
    caption = f"outbox lag: {response.outbox_lag} event(s) not yet planned"
    return [table("deliveries", STATS_COLUMNS, response.destinations, caption)]


# -- commands ------------------------------------------------------------------------------------


def list_dead_letters(ctx: Context, args: argparse.Namespace) -> int:
    """Dead letters, oldest first."""
    request = pb.ListDeadLettersRequest(page_token=args.page_token, **_filters(args))
    with _hosted(ctx):
        ctx.out.emit(ctx.api.list_dead_letters(request, args.limit), dead_letters_view)
    return 0


def show(ctx: Context, args: argparse.Namespace) -> int:
    """One delivery item with its attempt history."""
    with _hosted(ctx):
        ctx.out.emit(ctx.api.get_dead_letter(args.id), delivery_view)
    return 0


def retry(ctx: Context, args: argparse.Namespace) -> int:
    """One dead letter, or every one matching (--all), back to PENDING."""
    if (args.id is None) == (not args.all):
        raise _usage("give a dead letter ID or --all (not both)")
    if args.id is not None and any(_filters(args).values()):
        raise _usage("--destination, --operation and --engagement apply only with --all")
    request = pb.RetryDeadLetterRequest(
        delivery_id=args.id or 0, all_matching=args.all, reason=args.reason, **_filters(args)
    )
    with _hosted(ctx):
        ctx.out.emit(ctx.api.retry_dead_letter(request), retried_view)
    return 0


def list_deliveries(ctx: Context, args: argparse.Namespace) -> int:
    """Delivery items of any status."""
    status = enum_value(*STATUS, args.status)
    request = pb.ListDeliveriesRequest(page_token=args.page_token, status=status, **_filters(args))
    with _hosted(ctx):
        ctx.out.emit(ctx.api.list_deliveries(request, args.limit), deliveries_view)
    return 0


def stats(ctx: Context, args: argparse.Namespace) -> int:
    """Counts per destination and the outbox lag."""
    with _hosted(ctx):
        ctx.out.emit(ctx.api.get_delivery_stats(), stats_view)
    return 0


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "destination": enum_value(*DESTINATION, args.destination),
        "operation": enum_value(*OPERATION, args.operation),
        "engagement_id": args.engagement or "",
    }


def _usage(message: str) -> CliError:
    """A usage error argparse cannot express (exit 2)."""
    return CliError(ErrorReport("USAGE", message, ExitCode.USAGE))


def _add_filters(parser: argparse.ArgumentParser, what: str) -> None:
    add_enum_option(parser, "--destination", *DESTINATION, "destination")
    add_enum_option(parser, "--operation", *OPERATION, "operation")
    parser.add_argument("--engagement", default="", help=f"only {what} of this engagement")


def _show_parser(actions: Subparsers, handler: Callable[[Context, argparse.Namespace], int]) -> None:
    help_text = "show one delivery item with its attempt history"
    parser = actions.add_parser("show", aliases=["get"], help=help_text, description=help_text)
    add_global_options(parser, suppress=True)
    parser.set_defaults(handler=handler)
    parser.add_argument("id", type=int, help="the delivery id")


def register(subparsers: Subparsers) -> None:
    """Add `dead-letters` and `deliveries` to the top-level parser."""
    actions = group(subparsers, "dead-letters", "outbound ERP / PSA deliveries that gave up: inspect, retry")
    parser = command(actions, "list", list_dead_letters, "list dead letters, oldest first")
    _add_filters(parser, "dead letters")
    add_list_options(parser)
    _show_parser(actions, show)
    parser = command(actions, "retry", retry, "move dead letters back to PENDING (one, or --all matching)")
    parser.add_argument("id", nargs="?", type=int, help="the dead letter's delivery id")
    parser.add_argument("--all", action="store_true", help="every dead letter matching the filters")
    _add_filters(parser, "dead letters")
    parser.add_argument("--reason", default="", help="why (recorded in the audit log)")

    actions = group(subparsers, "deliveries", "outbound ERP / PSA deliveries of any status")
    parser = command(actions, "list", list_deliveries, "list delivery items")
    add_enum_option(parser, "--status", *STATUS, "status")
    _add_filters(parser, "items")
    add_list_options(parser)
    command(actions, "stats", stats, "counts per destination and the outbox lag")
