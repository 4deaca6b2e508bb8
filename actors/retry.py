"""Calling a shard actor again after it died: one implementation for lanes and bill runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from ray.exceptions import ActorUnavailableError, RayActorError

from actors.direct import ChannelLost
from q2c_core.app.messages import CommandEnvelope

log = logging.getLogger(__name__)
ACTOR_ERRORS = (RayActorError, ActorUnavailableError, ChannelLost)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often, and how patiently, to re-send to a shard Ray is restarting."""

    retries: int = 3
    backoff: float = 0.2
    max_sleep: float = 2.0

    def sleep(self, attempt: int) -> float:
        """Seconds to wait before retry number attempt+1 (linear from backoff, capped)."""
        return min(self.backoff * (attempt + 1), self.max_sleep)


LANE_POLICY = RetryPolicy()
BILL_RUN_POLICY = RetryPolicy(retries=10, backoff=0.25)


async def call_with_retries(
    call: Callable[[list[CommandEnvelope]], Awaitable[list[R]]],
    envelopes: list[CommandEnvelope],
    unavailable: Callable[[CommandEnvelope], R],
    policy: RetryPolicy = LANE_POLICY,
    label: str = "shard",
    attempt: int = 0,
) -> list[R]:
    """`call(envelopes)`; after an actor death re-send only those with a request_id (deduped).

    Commands without a request_id, and everything once the retries run out, get `unavailable`.
    """
    try:
        return await call(envelopes)
    except ACTOR_ERRORS as error:
        log.warning("%s failed a call (attempt %d): %s", label, attempt + 1, error)
    retry = [e for e in envelopes if e.request_id]
    if not retry or attempt >= policy.retries:
        return [unavailable(e) for e in envelopes]
    await asyncio.sleep(policy.sleep(attempt))  # let Ray restart the actor
    retried = iter(await call_with_retries(call, retry, unavailable, policy, label, attempt + 1))
    return [next(retried) if e.request_id else unavailable(e) for e in envelopes]
