"""EventService: replay and follow the journal (the transactional outbox) in position order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from q2c.v1 import event_pb2, event_pb2_grpc
from q2c_core.api.convert_events import Subscription, event_out, subscription_in
from q2c_core.gateway.context import current_caller
from q2c_core.gateway.runner import blocking

if TYPE_CHECKING:
    from q2c_core.queries import Queries
    from q2c_core.runtime import Runtime

Context = Any
"""grpc.aio.ServicerContext (the interceptor owns metadata, deadlines and errors)."""

PAGE_SIZE = 500
"""Events read (and converted, off the event loop) per store query."""

FOLLOW_POLL_SECONDS = 0.2
"""How long a following subscriber waits at the end of the stream before reading again."""


class EventServicer(event_pb2_grpc.EventServiceServicer):
    """q2c.v1.EventService over the query side of a Runtime.

    Delivery is in position order and at-least-once: the store commits event-writing
    transactions in position order, so paging with `position > last sent` never skips an
    event committed later (see `q2c_core.store._write.EVENT_ORDER_LOCK_KEY`).
    """

    def __init__(self, runtime: Runtime) -> None:
        self.queries = runtime.queries

    async def SubscribeEvents(
        self, request: event_pb2.SubscribeEventsRequest, context: Context
    ) -> AsyncIterator[event_pb2.Event]:
        """The tenant's events after `after_position`; with `follow`, new ones as they commit.

        The next page is read while the current one is being sent. A client that cancels
        (or whose deadline passes) cancels this task at its next await.
        """
        subscription = subscription_in(request)
        tenant_id = current_caller().tenant_id
        after = subscription.after_position
        pending = asyncio.ensure_future(self._page(tenant_id, subscription, after))
        try:
            while True:
                page, last = await pending
                if last is not None:
                    after = last
                full = len(page) == PAGE_SIZE
                if full or subscription.follow:
                    pending = asyncio.ensure_future(
                        self._page(tenant_id, subscription, after, delay=0.0 if full else FOLLOW_POLL_SECONDS)
                    )
                for event in page:
                    yield event
                if not full and not subscription.follow:
                    return
        finally:
            pending.cancel()

    async def _page(
        self, tenant_id: str, subscription: Subscription, after: int, delay: float = 0.0
    ) -> tuple[list[event_pb2.Event], int | None]:
        """The next page as protos and the position of its last event (None when empty)."""
        if delay:
            await asyncio.sleep(delay)
        return await blocking(_read_page, self.queries, tenant_id, subscription, after)


def _read_page(
    queries: Queries, tenant_id: str, subscription: Subscription, after: int
) -> tuple[list[event_pb2.Event], int | None]:
    """One store page converted to protos (runs in a worker thread)."""
    events = queries.read_events(
        tenant_id, after, PAGE_SIZE, subscription.event_types, subscription.engagement_id
    )
    return [event_out(e) for e in events], (events[-1].position if events else None)
