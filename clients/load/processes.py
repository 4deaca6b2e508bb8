"""Driver worker processes (`--processes P`): spawned once per run, reused by both phases.

Each worker runs a share of the engagements over its own channel (clients and rate shared
out), posts its Recorder state about once a second for the live panel, and returns its final
state, which the parent merges.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

from clients.load.record import Recorder
from clients.load.shares import collect_states
from clients.load.workers import Job, Progress, run_job, run_phase


def _part(total: int, n: int, processes: int) -> int:
    """Share n of `total` dealt over `processes` (the shares add up to `total`)."""
    return max(1, total // processes + (1 if n < total % processes else 0))


def split(job: Job, processes: int) -> list[Job]:
    """The job's engagements dealt round-robin over `processes` shares; clients, rate and the
    window (engagements under way at once, as the whole run would default it) shared out."""
    shares = []
    window = job.pace.engagements_at_once()
    for n in range(processes):
        clients = _part(job.pace.clients, n, processes) if job.pace.clients is not None else None
        rate = job.pace.rate / processes if job.pace.rate is not None else None
        pace = replace(job.pace, clients=clients, rate=rate, window=_part(window, n, processes))
        shares.append(replace(job, engagements=job.engagements[n::processes], pace=pace, share=n))
    return [s for s in shares if s.engagements]


class Workers:
    """Where phases run: here (one process), or worker processes spawned once per run and
    reused by both phases, posting live states to the parent through a manager queue."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._stack = ExitStack()
        self._pool: ProcessPoolExecutor | None = None
        self._inbox: Any = None

        if processes > 1:
            context = multiprocessing.get_context("spawn")
            manager = self._stack.enter_context(context.Manager())
            self._inbox = manager.Queue()
            self._pool = self._stack.enter_context(ProcessPoolExecutor(processes, mp_context=context))

    def close(self) -> None:
        """Stop the worker processes and the manager."""
        self._stack.close()

    async def phase(self, job: Job, recorder: Recorder) -> dict[str, Progress]:
        """Run a phase; worker processes' recorders are merged into `recorder`."""
        if self._pool is None:
            return await run_phase(job, recorder)
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        collector = asyncio.create_task(collect_states(recorder, self._inbox, done))
        try:
            shares = split(job, self.processes)
            results = await asyncio.gather(
                *(loop.run_in_executor(self._pool, run_job, share, self._inbox) for share in shares)
            )
        finally:
            done.set()
            await collector
        progress: dict[str, Progress] = {}
        for state, part in results:
            recorder.merge(Recorder.from_state(state))
            progress.update(part)
        return progress
