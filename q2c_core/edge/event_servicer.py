"""EventService: replay and follow the journal (the transactional outbox) in position order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from q2c.v1 import event_pb2, event_pb2_grpc
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters.convert_events import Subscription, event_out, subscription_in
from q2c_core.edge.servicers import Context, blocking

if TYPE_CHECKING:
    from q2c_core.app.ports import CommitNotifier
    from q2c_core.app.reads import Queries
    from q2c_core.app.runtime import Runtime

PAGE_SIZE = 500
"""Events read (and converted, off the event loop) per store query."""


class EventServicer(event_pb2_grpc.EventServiceServicer):
    """q2c.v1.EventService over the query side of a Runtime.

    Delivery is in position order and at-least-once: the store commits event-writing
    transactions in position order, so paging with `position > last sent` never skips an
    event committed later (the store takes an ordering lock when it writes events).

    A follower at the end of the stream does not poll: it waits on the store's commit notifier,
    which the commit path wakes (in process, and on PostgreSQL from other processes through one
    LISTEN connection per gateway); it reads again after a fallback interval only if no
    notification came (the store adapter implements app.ports.CommitNotifier).
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
        notifier = self.queries.event_notifier() if subscription.follow else None
        after = subscription.after_position
        pending = asyncio.ensure_future(self._page(tenant_id, subscription, after, notifier))
        try:
            while True:
                page, last, seen = await pending
                if last is not None:
                    after = last
                full = len(page) == PAGE_SIZE
                if full or subscription.follow:
                    since = None if full else seen
                    pending = asyncio.ensure_future(
                        self._page(tenant_id, subscription, after, notifier, since)
                    )
                for event in page:
                    yield event
                if not full and not subscription.follow:
                    return
        finally:
            pending.cancel()

    async def _page(
        self,
        tenant_id: str,
        subscription: Subscription,
        after: int,
        notifier: CommitNotifier | None,
        since: int | None = None,
    ) -> tuple[list[event_pb2.Event], int | None, int]:
        """The next page as protos, the position of its last event (None when empty) and the
        notifier's version read before it; with `since`, first wait for the version to move."""
        if notifier is not None and since is not None:
            await notifier.wait(tenant_id, since, self.queries.follow_fallback_seconds)
        seen = notifier.version(tenant_id) if notifier is not None else 0
        page, last = await blocking(_read_page, self.queries, tenant_id, subscription, after)
        return page, last, seen


def _read_page(
    queries: Queries, tenant_id: str, subscription: Subscription, after: int
) -> tuple[list[event_pb2.Event], int | None]:
    """One store page converted to protos (runs in a worker thread)."""
    events = queries.read_events(
        tenant_id, after, PAGE_SIZE, subscription.event_types, subscription.engagement_id
    )
    return [event_out(e) for e in events], (events[-1].position if events else None)
