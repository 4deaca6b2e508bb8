"""`q2c customers|rate-cards|engagements|invoices|exceptions ...`: list, get, resolve."""

from __future__ import annotations

import argparse

from clients import cli_tables as views
from clients.cli_context import (
    Context,
    Subparsers,
    add_enum_option,
    add_list_options,
    command,
    enum_labels,
    enum_value,
    group,
)
from clients.cli_render import table
from q2c.v1 import billing_pb2, customer_pb2, engagement_pb2, exception_pb2, rate_card_pb2

ENGAGEMENT_STATE = (engagement_pb2.EngagementState, "ENGAGEMENT_STATE_")
ENGAGEMENT_VIEW = (engagement_pb2.EngagementView, "ENGAGEMENT_VIEW_")
INVOICE_STATE = (billing_pb2.InvoiceState, "INVOICE_STATE_")
EXCEPTION_STATE = (exception_pb2.ExceptionState, "EXCEPTION_STATE_")
SEVERITY = (exception_pb2.ExceptionSeverity, "EXCEPTION_SEVERITY_")
RESOLUTION = (exception_pb2.ExceptionResolution, "EXCEPTION_RESOLUTION_")
OWNER_QUEUE = (exception_pb2.OwnerQueue, "OWNER_QUEUE_")
CUSTOMER_STATUS = (customer_pb2.CustomerStatus, "CUSTOMER_STATUS_")


def list_customers(ctx: Context, args: argparse.Namespace) -> int:
    """Customers, optionally only active or inactive ones."""
    request = customer_pb2.ListCustomersRequest(
        page_token=args.page_token, status=enum_value(*CUSTOMER_STATUS, args.status)
    )
    ctx.out.emit(ctx.api.list_customers(request, args.limit), views.customers)
    return 0


def get_customer(ctx: Context, args: argparse.Namespace) -> int:
    """One customer."""
    ctx.out.emit(ctx.api.get_customer(args.id), views.customer)
    return 0


def list_rate_cards(ctx: Context, args: argparse.Namespace) -> int:
    """The latest revision of each rate card."""
    request = rate_card_pb2.ListRateCardsRequest(page_token=args.page_token, currency_code=args.currency)
    ctx.out.emit(ctx.api.list_rate_cards(request, args.limit), views.rate_cards)
    return 0


def get_rate_card(ctx: Context, args: argparse.Namespace) -> int:
    """One rate card revision."""
    card = ctx.api.get_rate_card(args.id, args.revision)
    ctx.out.emit(card, lambda c: [table(f"rate card {c.rate_card_id}", views.RATE_CARD_COLUMNS, [c])])
    return 0


def list_engagements(ctx: Context, args: argparse.Namespace) -> int:
    """Engagements, by state and customer."""
    request = engagement_pb2.ListEngagementsRequest(
        page_token=args.page_token,
        state=enum_value(*ENGAGEMENT_STATE, args.state),
        customer_id=args.customer,
    )
    ctx.out.emit(ctx.api.list_engagements(request, args.limit), views.engagements)
    return 0


def get_engagement(ctx: Context, args: argparse.Namespace) -> int:
    """One engagement (--view basic: its own fields, without contract lines, time or expenses)."""
    view = enum_value(*ENGAGEMENT_VIEW, args.view)
    ctx.out.emit(ctx.api.get_engagement(args.id, view), views.engagement)
    return 0


def list_invoices(ctx: Context, args: argparse.Namespace) -> int:
    """Invoices, by engagement, customer, state and bill run."""
    request = billing_pb2.ListInvoicesRequest(
        page_token=args.page_token,
        engagement_id=args.engagement,
        customer_id=args.customer,
        state=enum_value(*INVOICE_STATE, args.state),
        bill_run_id=args.bill_run,
    )
    ctx.out.emit(ctx.api.list_invoices(request, args.limit), views.invoices)
    return 0


def get_invoice(ctx: Context, args: argparse.Namespace) -> int:
    """One invoice."""
    ctx.out.emit(ctx.api.get_invoice(args.id), views.invoice)
    return 0


def list_exceptions(ctx: Context, args: argparse.Namespace) -> int:
    """The business-exception queue, by state, severity, engagement and owner queue; by age."""
    queue = args.queue.replace("-", "_") if args.queue else None
    request = exception_pb2.ListExceptionsRequest(
        page_token=args.page_token,
        state=enum_value(*EXCEPTION_STATE, args.state),
        severity=enum_value(*SEVERITY, args.severity),
        engagement_id=args.engagement,
        owner_queue=enum_value(*OWNER_QUEUE, queue),
        order_by=args.order,
    )
    ctx.out.emit(ctx.api.list_exceptions(request, args.limit), views.exceptions)
    return 0


def get_exception(ctx: Context, args: argparse.Namespace) -> int:
    """One business exception."""
    ctx.out.emit(ctx.api.get_exception(args.id), views.exception)
    return 0


def resolve_exception(ctx: Context, args: argparse.Namespace) -> int:
    """Resolve an OPEN exception with a note (and RELEASE / WRITE_OFF for a cap exception)."""
    request = exception_pb2.ResolveExceptionRequest(
        exception_id=args.id,
        resolution_note=args.note,
        resolution=enum_value(*RESOLUTION, args.resolution),
        request_id=args.request_id,
    )
    ctx.out.emit(ctx.api.resolve_exception(request), views.exception)
    return 0


def _get(actions: Subparsers, handler: object, what: str) -> argparse.ArgumentParser:
    parser = command(actions, "get", handler, f"show one {what}")  # type: ignore[arg-type]
    parser.add_argument("id", help=f"the {what} id")
    return parser


def _list(actions: Subparsers, handler: object, what: str) -> argparse.ArgumentParser:
    parser = command(actions, "list", handler, f"list {what}")  # type: ignore[arg-type]
    add_list_options(parser)
    return parser


def register(subparsers: Subparsers) -> None:
    """Add the record commands to the top-level parser."""
    actions = group(subparsers, "customers", "customers: who is billed")
    add_enum_option(_list(actions, list_customers, "customers"), "--status", *CUSTOMER_STATUS, "status")
    _get(actions, get_customer, "customer")

    actions = group(subparsers, "rate-cards", "rate cards: hourly rates per role")
    _list(actions, list_rate_cards, "rate cards").add_argument(
        "--currency", default="", help="only this currency"
    )
    _get(actions, get_rate_card, "rate card").add_argument(
        "--revision", type=int, default=0, help="0 = latest"
    )

    actions = group(subparsers, "engagements", "engagements: won opportunity to paid invoice")
    parser = _list(actions, list_engagements, "engagements")
    add_enum_option(parser, "--state", *ENGAGEMENT_STATE, "state")
    parser.add_argument("--customer", default="", help="only this customer's engagements")
    _get(actions, get_engagement, "engagement").add_argument(
        "--view",
        type=str.lower,
        choices=enum_labels(*ENGAGEMENT_VIEW),
        help="basic: the engagement's own fields only; full (the default): with its contract lines,"
        " time entries, expenses and milestones",
    )

    actions = group(subparsers, "invoices", "invoices: drafts, issued, paid, void")
    parser = _list(actions, list_invoices, "invoices")
    parser.add_argument("--engagement", default="", help="only this engagement's invoices")
    parser.add_argument("--customer", default="", help="only this customer's invoices")
    add_enum_option(parser, "--state", *INVOICE_STATE, "state")
    parser.add_argument("--bill-run", default="", help="only invoices this bill run generated")
    _get(actions, get_invoice, "invoice")

    _register_exceptions(subparsers)


def _register_exceptions(subparsers: Subparsers) -> None:
    actions = group(subparsers, "exceptions", "the business-exception queue")
    parser = _list(actions, list_exceptions, "business exceptions")
    add_enum_option(parser, "--state", *EXCEPTION_STATE, "state")
    add_enum_option(parser, "--severity", *SEVERITY, "severity")
    parser.add_argument("--engagement", default="", help="only this engagement's exceptions")
    parser.add_argument(
        "--queue",
        type=lambda text: text.lower().replace("_", "-"),
        choices=[label.replace("_", "-") for label in enum_labels(*OWNER_QUEUE)],
        help="only exceptions this operations queue owns",
    )
    order = parser.add_mutually_exclusive_group()
    order.add_argument(
        "--oldest-first",
        dest="order",
        action="store_const",
        const=exception_pb2.EXCEPTION_ORDER_OLDEST_FIRST,
        default=exception_pb2.EXCEPTION_ORDER_UNSPECIFIED,
        help="by age, oldest first (the default order)",
    )
    order.add_argument(
        "--newest-first",
        dest="order",
        action="store_const",
        const=exception_pb2.EXCEPTION_ORDER_NEWEST_FIRST,
        help="newest first",
    )
    _get(actions, get_exception, "exception")
    parser = command(actions, "resolve", resolve_exception, "resolve an OPEN exception")
    parser.add_argument("id", help="the exception id")
    parser.add_argument("--note", required=True, help="what was done about it (recorded in the audit log)")
    parser.add_argument(
        "--resolution",
        type=lambda text: text.lower().replace("-", "_"),
        choices=["release", "write_off"],
        help="for a not-to-exceed cap exception: release the held hours or write them off",
    )
    parser.add_argument("--request-id", default="", help="idempotency key (default: a fresh one)")
