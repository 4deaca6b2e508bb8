"""When commands are sent: a closed loop of N clients, or an open loop at a target rate.

Each engagement's commands go strictly in order, one in flight at a time; many engagements
are in flight together. A script whose command completed goes to the back of the ready queue,
so a client (closed loop) or the next send slot (open loop) takes the engagement that has
waited longest. At most `window` engagements are under way at once (the next one starts when
one finishes), so engagements complete all through the run and a `--duration` cut leaves
finished ones to bill rather than every engagement half done.

Open loop: the k-th send is scheduled at a fixed time (the rate ramps up linearly over
`ramp_up` seconds, then holds). When no engagement is ready at its slot, the send waits, but
its latency is still measured from the slot (coordinated omission corrected).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


class Script(Protocol):
    """An engagement's remaining commands."""

    def has_next(self) -> bool:
        """True while commands are left and none failed."""
        ...


Send = Callable[[Script, float | None], Awaitable[None]]
"""Sends a script's next command; the float is the open loop's scheduled time."""


@dataclass(frozen=True)
class Pace:
    """How to pace: `clients` (closed loop) or `rate` commands/s (open loop), ramp-up, deadline."""

    clients: int | None = None
    rate: float | None = None
    ramp_up: float = 0.0
    deadline: float | None = None
    """time.monotonic() after which no command is sent (in-flight ones finish)."""
    window: int | None = None
    """Engagements under way at once; default 4 per client (closed) or the rate's 2 s (open)."""

    def engagements_at_once(self) -> int:
        """The window, defaulted from the clients or the rate (at least 16)."""
        if self.window is not None:
            return max(1, self.window)
        if self.rate is not None:
            return max(16, int(self.rate * 2))
        return max(16, 4 * (self.clients or 1))


def send_offset(k: int, rate: float, ramp_up: float) -> float:
    """Seconds after the start at which the k-th send is due (rate ramping linearly over ramp_up)."""
    if ramp_up <= 0:
        return k / rate
    ramped = rate * ramp_up / 2  # sends due during the ramp
    if k <= ramped:
        return math.sqrt(2 * k * ramp_up / rate)
    return ramp_up + (k - ramped) / rate


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


class _Board:
    """The ready queue and the count of scripts not yet finished."""

    def __init__(self, scripts: list[Script], wakers: int, window: int) -> None:
        self.ready: asyncio.Queue[Script | None] = asyncio.Queue()
        self.pending = deque(scripts[window:])
        for script in scripts[:window]:
            self.ready.put_nowait(script)
        self.remaining = len(scripts)
        self.wakers = wakers

    def returned(self, script: Script) -> None:
        """A command of `script` completed: queue it again, or count it finished."""
        if script.has_next():
            self.ready.put_nowait(script)
            return
        self.remaining -= 1
        if self.pending:
            self.ready.put_nowait(self.pending.popleft())
        if self.remaining == 0:
            for _ in range(self.wakers):
                self.ready.put_nowait(None)

    async def next(self, deadline: float | None) -> Script | None:
        """The next ready script; None when all are finished or the deadline passed."""
        if deadline is None:
            return await self.ready.get()
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            script = await asyncio.wait_for(self.ready.get(), left)
        except TimeoutError:
            return None
        if script is not None and time.monotonic() >= deadline:  # the wait ended after it
            self.ready.put_nowait(script)
            return None
        return script


async def drive(scripts: list[Script], send: Send, pace: Pace) -> None:
    """Run every script to its end (or to the deadline) at the given pace."""
    live = [s for s in scripts if s.has_next()]
    if not live:
        return
    if pace.rate is not None:
        await _open_loop(_Board(live, 1, pace.engagements_at_once()), send, pace)
    else:
        clients = max(1, pace.clients or 1)
        board = _Board(live, clients, pace.engagements_at_once())
        start = time.monotonic()
        await asyncio.gather(
            *(_client(board, send, pace, start + pace.ramp_up * i / clients) for i in range(clients))
        )


async def _client(board: _Board, send: Send, pace: Pace, begin: float) -> None:
    await _sleep_until(begin)
    while True:
        script = await board.next(pace.deadline)
        if script is None:
            return
        await send(script, None)
        board.returned(script)


async def _open_loop(board: _Board, send: Send, pace: Pace) -> None:
    assert pace.rate is not None and pace.rate > 0
    start = time.monotonic()
    in_flight: set[asyncio.Task[None]] = set()

    async def one(script: Script, intended: float) -> None:
        await send(script, intended)
        board.returned(script)

    k = 0
    while True:
        intended = start + send_offset(k, pace.rate, pace.ramp_up)
        k += 1
        if pace.deadline is not None and intended > pace.deadline:
            break
        await _sleep_until(intended)
        script = await board.next(pace.deadline)
        if script is None:
            break
        task = asyncio.create_task(one(script, intended))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.gather(*in_flight)
