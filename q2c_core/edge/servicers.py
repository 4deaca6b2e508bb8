"""What every servicer shares: blocking reads off the event loop, and the Get / List handler shapes
(a servicer's getters and listers read from its `reads` attribute: queries, catalog or ledger)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from q2c_core.app.messages import CommandResult
from q2c_core.domain.engagement import Engagement
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters.convert_common import check_page_size, require_id

Context = Any
"""grpc.aio.ServicerContext (the interceptor owns metadata, deadlines and errors)."""

Message = Any
"""A generated q2c.v1 message (the generated code is untyped)."""

P = ParamSpec("P")
T = TypeVar("T")
Handler = Callable[..., Any]
"""An async RPC method: (servicer, request, context) -> reply."""


async def blocking(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a sync catalog / query call off the event loop (they raise domain errors)."""
    return await asyncio.to_thread(function, *args, **kwargs)


def engagement_of(result: CommandResult) -> Engagement:
    """The engagement an accepted command left (a full reply always carries it)."""
    if result.engagement is None:
        raise RuntimeError("the runtime accepted a command but returned no engagement")
    return result.engagement


def getter(
    doc: str,
    query: Callable[[Any, str, str], T],
    id_field: str,
    out: Callable[..., Message],
    view: Callable[[Any], dict[str, Any]] | None = None,
) -> Handler:
    """A Get handler: the request's `id_field` is required; `query(servicer.reads, tenant, id)`;
    `view(request)`: `out`'s keyword arguments for the view the request asks for (checked before
    the query)."""

    async def handler(self: Any, request: Any, context: Context) -> Message:
        resource_id = require_id(getattr(request, id_field), id_field)
        options = view(request) if view is not None else {}
        return out(await blocking(query, self.reads, current_caller().tenant_id, resource_id), **options)

    handler.__doc__ = doc
    return handler


def _no_filters(request: Any) -> tuple[()]:
    """A List without filters."""
    return ()


def lister(
    doc: str,
    query: Callable[..., Any],
    response: type[Message],
    out: Callable[..., Message],
    filters: Callable[[Any], tuple[Any, ...]] = _no_filters,
    reads: str = "reads",
    view: Callable[[Any], dict[str, Any]] | None = None,
) -> Handler:
    """A List handler: `query(servicer.<reads>, tenant, *filters(request), page_size, page_token)`
    fills the response's one repeated field with `out` of each item; `view(request)`: `out`'s
    keyword arguments for the view the request asks for (checked before the query)."""
    (items,) = [field.name for field in response.DESCRIPTOR.fields if field.is_repeated]

    async def handler(self: Any, request: Any, context: Context) -> Message:
        wanted, page_size = filters(request), check_page_size(request.page_size)
        options = view(request) if view is not None else {}
        tenant_id = current_caller().tenant_id
        page = await blocking(query, getattr(self, reads), tenant_id, *wanted, page_size, request.page_token)
        found = [out(item, **options) for item in page.items]
        return response(**{items: found}, next_page_token=page.next_page_token)

    handler.__doc__ = doc
    return handler
