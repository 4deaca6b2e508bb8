"""EventService methods of the q2c client (see `q2c/v1/event.proto`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Unpack

from q2c.v1 import event_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import CallOptions


class EventMethods(Bound):
    """EventService: the replayable event stream."""

    def subscribe_events(
        self, request: event_pb2.SubscribeEventsRequest, **options: Unpack[CallOptions]
    ) -> Iterator[event_pb2.Event]:
        """Streams the tenant's events after `after_position`, in position order.

        `EventService.SubscribeEvents`. Server stream (a read): re-opened on UNAVAILABLE after
        the last event received, so a reconnect neither skips nor repeats what was delivered.
        """
        resume = event_pb2.SubscribeEventsRequest()
        resume.CopyFrom(request)
        for event in self._transport.stream(
            self._stubs.events.SubscribeEvents, resume, event_pb2.Event, options
        ):
            resume.after_position = event.position  # a re-open continues after it
            yield event
