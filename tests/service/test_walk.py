"""The walk of one command: which q2c files run for a SubmitTimeEntries, measured by tracing.

docs/architecture.md lists this walk; the test keeps the list honest. A profiler hook records
every q2c_core and actors file whose code runs while one SubmitTimeEntries goes from the servicer
to the database (LocalRuntime, SQLite), in order of first entry. The command's path (PATH: the
files that hand it on) must all run and stay within 12 files; every other file that
runs is a helper the path calls for a value (money, limits, entities, records, reference data,
the store's queries and schema), listed by the test's output. No call chain may re-enter a file
it has left (the old pipeline was entered seven times per command).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
import pytest

from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store
from q2c_core.app.runtime import LocalRuntime
from q2c_core.edge.app import GatewayServer, start_server
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.service.client import Api, Stubs, rid, time_entry
from tests.service.flows import active

ROOT = Path(__file__).resolve().parents[2]
ROOMS = (ROOT / "q2c_core", ROOT / "actors")
SERVICER = "q2c_core/edge/engagement_servicer.py"
WALK_LIMIT = 12
PATH = [
    SERVICER,  # the handler
    "q2c_core/edge/converters/convert_commands.py",  # request -> domain command
    "q2c_core/app/runtime.py",  # Runtime.run: envelope, rejection -> domain error
    "q2c_core/app/host.py",  # mailbox, batch, activation, group commit
    "q2c_core/app/commands.py",  # the pipeline: replay, decide, stage the writes
    "q2c_core/domain/decide.py",  # dispatch by command
    "q2c_core/domain/items.py",  # the entries checked, TimeEntriesSubmitted
    "q2c_core/domain/evolve.py",  # the rule table
    "q2c_core/domain/evolve_lifecycle.py",  # the rule that folds it
    "q2c_core/adapters/store/store.py",  # commit
    "q2c_core/adapters/store/_write.py",  # one transaction
    "q2c_core/app/audit/chain.py",  # the audit record's hash
]
"""The files the command itself passes through, in order: each hands it (or its events) on."""


def room_file(frame: FrameType) -> str | None:
    """The frame's file relative to the checkout when it is q2c code, else None."""
    path = Path(frame.f_code.co_filename)
    return path.relative_to(ROOT).as_posix() if any(path.is_relative_to(r) for r in ROOMS) else None


class FileTrace:
    """Files of q2c code entered until Store.commit returned, in order of first entry, and any
    file a call chain re-enters after calling out of it (A -> B -> A)."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.reentered: set[str] = set()
        self.commit_returned_at: int | None = None
        self._commit_code = Store.commit.__code__

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "return" and frame.f_code is self._commit_code and self.commit_returned_at is None:
            self.commit_returned_at = len(self.files)
        if event != "call" or self.commit_returned_at is not None:
            return
        name = room_file(frame)
        if name is None:
            return
        if name not in self.files:
            self.files.append(name)
        chain: list[str] = []  # innermost first, consecutive frames of one file collapsed
        caller: FrameType | None = frame
        while caller is not None:
            file = room_file(caller)
            if file is not None and (not chain or chain[-1] != file):
                chain.append(file)
            caller = caller.f_back
        self.reentered |= {f for f in chain if chain.count(f) > 1}

    def __enter__(self) -> FileTrace:
        threading.setprofile(self)
        sys.setprofile(self)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[GatewayServer]:
    """The real gateway over LocalRuntime on a fresh SQLite file (the walk is per process)."""
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('walk') / 'q2c.db'}")
    runtime = LocalRuntime(store)
    server = await start_server(runtime, security=credentials.security(store))
    try:
        yield server
    finally:
        await server.stop(grace=1.0)
        await runtime.close()
        store.close()


async def test_submit_time_entries_walks_at_most_twelve_files_from_servicer_to_database(
    gateway: GatewayServer,
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        api = Api(Stubs.on(channel), tenant_id=new_tenant_id(), principal="alice")
        engagement, _ = await active(api)
        request = pb.SubmitTimeEntriesRequest(
            request_id=rid(), engagement_id=engagement.engagement_id, entries=[time_entry(1)]
        )
        await api.engagements.SubmitTimeEntries(request)  # warm: first-call imports are not the walk
        request = pb.SubmitTimeEntriesRequest(
            request_id=rid(), engagement_id=engagement.engagement_id, entries=[time_entry(2)]
        )
        # worker threads started before the trace would not carry the hook: start fresh ones
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=4))
        with FileTrace() as trace:
            reply = await api.engagements.SubmitTimeEntries(request)
    assert [e.entry_id for e in reply.time_entries] == ["T1", "T2"]
    ran = trace.files[trace.files.index(SERVICER) :]
    helpers = [f for f in ran if f not in PATH]
    print("\npath:", *PATH, f"\nhelpers ({len(helpers)}):", *helpers, sep="\n  ")
    assert trace.commit_returned_at is not None, "the command never reached Store.commit"
    assert set(PATH) <= set(ran), set(PATH) - set(ran)  # every step runs
    assert len(PATH) <= WALK_LIMIT
    assert not trace.reentered, trace.reentered  # no call chain comes back into a file it left
