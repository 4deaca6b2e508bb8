"""evolve and fold: an engagement's state from its events, by the rules of two explicit tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from q2c_core.domain import events as ev
from q2c_core.domain import evolve_billing, evolve_lifecycle
from q2c_core.domain.base import replaced
from q2c_core.domain.engagement import Engagement, Rule, created

RULES: dict[type[Any], Rule] = {**evolve_lifecycle.RULES, **evolve_billing.RULES}
"""Every evolve rule by event type (a test checks each event type has one)."""


def apply_event(event: ev.Event, state: Engagement, at: datetime) -> dict[str, Any]:
    """The state fields one event changes."""
    rule = RULES.get(type(event))
    if rule is None:
        raise TypeError(f"no evolve rule for {type(event).__name__}")
    return rule(event, state, at)


def evolve(state: Engagement | None, event: ev.Event, at: datetime) -> Engagement:
    """Apply one event recorded at `at`; the version counts events."""
    if state is None:
        if not isinstance(event, ev.EngagementCreated):
            raise ValueError(f"a journal must start with EngagementCreated, not {event.type}")
        return created(event, at)
    changes = apply_event(event, state, at)
    return replaced(state, {**changes, "version": state.version + 1, "update_time": at})


def fold(events: Iterable[tuple[ev.Event, datetime]], state: Engagement | None = None) -> Engagement | None:
    """Fold a journal (events with their times) into the state."""
    for event, at in events:
        state = evolve(state, event, at)
    return state
