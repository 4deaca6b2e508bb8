"""Open loop, coordinated omission: when a slow server holds the only ready engagement, later
sends keep their scheduled times, so the wait is charged to their latency."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from clients.load.schedule import Pace, drive


class _Script:
    def __init__(self, commands: int) -> None:
        self.left = commands

    def has_next(self) -> bool:
        return self.left > 0


def test_a_slow_reply_does_not_move_the_later_sends_scheduled_times() -> None:
    script = _Script(5)
    intended: list[float] = []
    sent: list[float] = []

    async def send(s: object, at: float | None) -> None:
        assert at is not None
        intended.append(at)
        sent.append(time.monotonic())
        script.left -= 1
        await asyncio.sleep(0.05)  # the server takes 50 ms; a slot comes every 10 ms

    asyncio.run(drive([script], send, Pace(rate=100)))
    gaps = [b - a for a, b in itertools.pairwise(intended)]
    assert gaps == pytest.approx([0.01] * 4, abs=1e-6)
    waits = [s - i for s, i in zip(sent, intended, strict=True)]
    assert waits[-1] >= 0.15  # the last send went ~4 x 40 ms after its slot, and is charged for it
