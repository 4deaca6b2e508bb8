"""Residency: which engagements a host holds in memory, live (hot) or compacted (hibernating).

An engagement in use is held live: the frozen domain model, ready to decide on. Live state is
large (an engagement with 20 time entries and an invoice takes ~130 KB of Python objects), so
one that stays unused for `hibernate_seconds`, or falls off the end of the `max_hot` most
recently used, is hibernated: kept as its snapshot JSON, zlib-compressed (~2-3 KB), and thawed
on its next command without touching the store. One unused for `idle_seconds` is evicted
altogether and re-activates from the store (snapshot + tail) when it is needed again.

Not thread-safe: the host touches it from its one worker at a time.
"""

from __future__ import annotations

import logging
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from q2c_core.domain.engagement import Engagement

log = logging.getLogger(__name__)
Key = tuple[str, str]  # (tenant_id, engagement_id)
SWEEP_LIMIT = 2_000
"""At most this many engagements are hibernated per sweep, so that no batch waits long on one."""


def freeze(state: Engagement) -> bytes:
    """The compact form of a state: its snapshot JSON (as stored), compressed."""
    return zlib.compress(state.model_dump_json().encode(), 1)


def thaw(frozen: bytes) -> Engagement:
    """The state `freeze` compacted (validated as a stored snapshot is)."""
    return Engagement.model_validate_json(zlib.decompress(frozen))


@dataclass(frozen=True, slots=True)
class ResidencyLimits:
    """How long and how many engagements stay live, and hibernating, in one host.

    `max_hot` bounds a shard's memory more than anything else: pymalloc keeps the arenas live
    states were in after they hibernate (a few surviving objects pin each), so RSS stays at the
    high-water mark of live engagements (~64 KB each with 20 time entries). bench/idle_memory.py,
    20,000 such engagements hibernated: 59 KB of RSS each after up to 20,000 live, 18 KB after up
    to 5,000. A thaw costs 0.1-0.4 ms when more than `max_hot` are in use at once.
    """

    max_hot: int = 5_000
    hibernate_seconds: float = 30.0
    max_hibernating: int = 100_000
    idle_seconds: float = 300.0


class Residency:
    """Live states in least-recently-used order, then compacted ones, with their snapshot versions."""

    def __init__(self, limits: ResidencyLimits) -> None:
        self.limits = limits
        self._hot: OrderedDict[Key, tuple[Engagement, float]] = OrderedDict()
        self._cold: OrderedDict[Key, tuple[bytes, float]] = OrderedDict()
        self.snapshot_at: dict[Key, int] = {}  # the version each stored snapshot holds
        self._cold_bytes = 0  # kept as a sum: stats read it from another thread
        self.evictions = 0
        self.hibernations = 0
        self.thaws = 0

    @property
    def hot_count(self) -> int:
        """Engagements held live."""
        return len(self._hot)

    @property
    def hibernating_count(self) -> int:
        """Engagements held compacted."""
        return len(self._cold)

    def hibernating_bytes(self) -> int:
        """The size of every compacted state together."""
        return self._cold_bytes

    def _uncold(self, key: Key) -> tuple[bytes, float] | None:
        cold = self._cold.pop(key, None)
        if cold is not None:
            self._cold_bytes -= len(cold[0])
        return cold

    def holds(self, key: Key) -> bool:
        """Whether the engagement is in memory, live or hibernating."""
        return key in self._hot or key in self._cold

    def get(self, key: Key) -> Engagement | None:
        """The live state of a resident engagement (thawing a hibernating one), else None."""
        hot = self._hot.get(key)
        if hot is not None:
            return hot[0]
        cold = self._uncold(key)
        if cold is None:
            return None
        try:
            state = thaw(cold[0])
        except Exception:  # never trust a cache over the store: re-activate from there
            log.exception("engagement %s did not thaw; re-activating it from the store", key[1])
            self.snapshot_at.pop(key, None)
            return None
        self.thaws += 1
        self._hot[key] = (state, cold[1])  # its place in the order is set by its next commit
        self._hot.move_to_end(key, last=False)
        return state

    def put(self, key: Key, state: Engagement, now: float) -> None:
        """Hold `state` live as the most recently used."""
        self._uncold(key)
        self._hot[key] = (state, now)
        self._hot.move_to_end(key)

    def forget(self, key: Key) -> None:
        """Drop an engagement (it re-activates from the store)."""
        self._hot.pop(key, None)
        self._uncold(key)
        self.snapshot_at.pop(key, None)

    def forget_many(self, keys: Iterable[Key]) -> None:
        """Drop engagements, counted as evictions."""
        for key in keys:
            if key in self._hot or key in self._cold:
                self.evictions += 1
            self.forget(key)

    def clear(self) -> None:
        """Drop every engagement."""
        self.evictions += len(self._hot) + len(self._cold)
        self._hot.clear()
        self._cold.clear()
        self._cold_bytes = 0
        self.snapshot_at.clear()

    def sweep(self, now: float, limit: int = SWEEP_LIMIT) -> None:
        """Evict what has been idle too long, hibernate the live ones over their limits."""
        limits = self.limits
        for order in (self._hot, self._cold):  # the least recently used come first
            while order:
                key, (_, last_used) = next(iter(order.items()))
                if now - last_used < limits.idle_seconds:
                    break
                self.forget(key)
                self.evictions += 1
        done = 0
        while self._hot and done < limit:
            key, (state, last_used) = next(iter(self._hot.items()))
            if len(self._hot) <= limits.max_hot and now - last_used < limits.hibernate_seconds:
                break
            del self._hot[key]
            done += 1
            try:
                frozen = freeze(state)
            except Exception:  # sweeps run after commits: drop it, it re-activates from the store
                log.exception("engagement %s did not freeze; evicting it instead", key[1])
                self.snapshot_at.pop(key, None)
                self.evictions += 1
                continue
            self._cold[key] = (frozen, last_used)
            self._cold_bytes += len(frozen)
            self.hibernations += 1
        while len(self._cold) > limits.max_hibernating:
            key = next(iter(self._cold))
            self.forget(key)
            self.evictions += 1
