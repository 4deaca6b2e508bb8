"""A replayed reply carries the engagement at its version, read from the journal only when needed."""

from __future__ import annotations

from typing import Any

import pytest

from q2c_core.app.host import EngagementHost
from tests.fakes.memory_store import MemoryStore
from tests.host.helpers import close_won, create, envelope, folded_journal, new_id, qualify


@pytest.fixture
def journal_reads(store: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The engagement ids whose journal is read, in order."""
    reads: list[str] = []
    read = store.read_events

    def counted(tenant_id: str, stream_id: str, after_seq: int = 0) -> Any:
        reads.append(stream_id)
        return read(tenant_id, stream_id, after_seq)

    monkeypatch.setattr(store, "read_events", counted)
    return reads


async def test_a_retry_of_the_latest_command_is_answered_from_the_resident_state(
    host: EngagementHost, store: MemoryStore, tenant_id: str, customer_id: str, journal_reads: list[str]
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    first = await host.submit(envelope(tenant_id, eid, qualify("go"), rid))

    again = await host.submit(envelope(tenant_id, eid, qualify("go"), rid))

    assert again.replayed and again.engagement == first.engagement
    assert again.engagement == folded_journal(store, tenant_id, eid)  # type: ignore[arg-type]
    assert journal_reads == [eid]  # folded_journal's own read: the host read nothing


async def test_a_retry_of_an_older_command_folds_the_journal_up_to_its_version(
    host: EngagementHost, store: MemoryStore, tenant_id: str, customer_id: str, journal_reads: list[str]
) -> None:
    eid, rid = new_id("eng"), new_id("req")
    assert (await host.submit(envelope(tenant_id, eid, create(customer_id)))).ok
    first = await host.submit(envelope(tenant_id, eid, qualify("go"), rid))
    assert (await host.submit(envelope(tenant_id, eid, close_won()))).ok

    again = await host.submit(envelope(tenant_id, eid, qualify("go"), rid))

    assert again.replayed and again.engagement == first.engagement
    assert again.engagement is not None and again.engagement.version == 2
    assert journal_reads == [eid]
