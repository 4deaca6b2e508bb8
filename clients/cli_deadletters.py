"""`q2c dead-letters list|get`: outbound deliveries that gave up, from `q2c.v1.DeliveryService`.

This CLI ships before DeliveryService does, so it has no generated stubs for it: it asks the
server (reflection) whether the service is hosted. If not, the command fails with exit code 8
("not available on this server"); if it is, the messages are built from the descriptors the
server publishes and shown generically (every scalar field; `--json` shows everything).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor, ServiceDescriptor
from google.protobuf.message import Message

from clients.cli_context import Context, Subparsers, add_list_options, command, group
from clients.cli_errors import not_available
from clients.cli_render import Column, details, more_caption, table

DELIVERY_SERVICE = "q2c.v1.DeliveryService"
LIST_METHOD = "ListDeadLetters"
GET_METHOD = "GetDeadLetter"
MAX_COLUMNS = 8


def _delivery_service(ctx: Context) -> ServiceDescriptor:
    """The DeliveryService descriptor, or exit 8 when the server does not host it."""
    hosted = ctx.api.hosted_services()
    if hosted is None or DELIVERY_SERVICE not in hosted:
        raise not_available("dead letters", DELIVERY_SERVICE, ctx.api.target)
    return ctx.api.describe_service(DELIVERY_SERVICE)


def _method(ctx: Context, name: str) -> tuple[Any, type[Message], Descriptor]:
    """A callable for one DeliveryService method, its request class and response descriptor."""
    service = _delivery_service(ctx)
    if name not in service.methods_by_name:
        raise not_available("dead letters", f"{DELIVERY_SERVICE}.{name}", ctx.api.target)
    method, request_type = ctx.api.raw_method(service, name)
    return method, request_type, service.methods_by_name[name].output_type


def _is_scalar(field: FieldDescriptor) -> bool:
    repeated = field.is_repeated
    return not repeated and field.type != FieldDescriptor.TYPE_MESSAGE


def _render(message: Message, field: FieldDescriptor) -> str:
    value = getattr(message, field.name)
    if field.type == FieldDescriptor.TYPE_ENUM and field.enum_type is not None:
        known = field.enum_type.values_by_number.get(value)
        return known.name if known is not None else str(value)
    return str(value)


def _columns(item: Descriptor) -> list[Column]:
    """The item's first scalar fields, as table columns."""
    scalars = [f for f in item.fields if _is_scalar(f)][:MAX_COLUMNS]
    return [(f.name, _renderer(f)) for f in scalars]


def _renderer(field: FieldDescriptor) -> Callable[[Message], str]:
    return lambda message: _render(message, field)


def _items_field(response: Descriptor) -> FieldDescriptor:
    """The repeated message field of a List response (e.g. dead_letters)."""
    repeated = [f for f in response.fields if f.is_repeated]
    return next(f for f in repeated if f.type == FieldDescriptor.TYPE_MESSAGE)


def list_dead_letters(ctx: Context, args: argparse.Namespace) -> int:
    """List dead letters (exit 8 when the server has no DeliveryService)."""
    method, request_type, response_descriptor = _method(ctx, LIST_METHOD)
    request = request_type()
    field = _items_field(response_descriptor)
    if "page_size" in request.DESCRIPTOR.fields_by_name:
        if args.page_token:
            request.page_token = args.page_token
        response = ctx.api.page_through(method, request, field.name, args.limit)
    else:
        response = ctx.api.call_raw(method, request)
    columns = _columns(field.message_type)
    caption = more_caption(getattr(response, "next_page_token", ""))
    ctx.out.emit(response, lambda r: [table("dead letters", columns, getattr(r, field.name), caption)])
    return 0


def get_dead_letter(ctx: Context, args: argparse.Namespace) -> int:
    """Show one dead letter (exit 8 when the server has no DeliveryService)."""
    method, request_type, _ = _method(ctx, GET_METHOD)
    request = request_type()
    id_field = next(f.name for f in request.DESCRIPTOR.fields if f.name.endswith("_id"))
    setattr(request, id_field, args.id)
    response = ctx.api.call_raw(method, request)
    fields = [f for f in response.DESCRIPTOR.fields if _is_scalar(f)]
    ctx.out.emit(
        response, lambda r: [details(f"dead letter {args.id}", [(f.name, _render(r, f)) for f in fields])]
    )
    return 0


def register(subparsers: Subparsers) -> None:
    """Add `dead-letters` to the top-level parser."""
    actions = group(subparsers, "dead-letters", "failed outbound deliveries (needs q2c.v1.DeliveryService)")
    add_list_options(command(actions, "list", list_dead_letters, "list dead letters"))
    command(actions, "get", get_dead_letter, "show one dead letter").add_argument(
        "id", help="the dead letter id"
    )
