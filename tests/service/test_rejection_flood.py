"""Rejections cannot flood the audit log, over a real gateway (LocalRuntime and Ray, SQLite and
PostgreSQL): a thousand identical malformed mutations write a bounded number of audit records,
a thousand distinct ones are held to the principal's burst, and the chain still verifies."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from q2c.v1 import audit_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.rejection_log import BURST, PER_SECOND
from tests.service.client import Api, rid

FLOOD = 1000


async def _codes(calls: list[Any]) -> list[grpc.StatusCode]:
    """Each call's status code, a hundred in flight at a time."""
    codes: list[grpc.StatusCode] = []
    for i in range(0, len(calls), 100):
        for outcome in await asyncio.gather(*calls[i : i + 100], return_exceptions=True):
            assert isinstance(outcome, grpc.aio.AioRpcError), outcome
            codes.append(outcome.code())
    return codes


async def _rejected_records(api: Api, stream_id: str) -> list[audit_pb2.AuditRecord]:
    records: list[audit_pb2.AuditRecord] = []
    token = ""
    while True:
        page = await api.audit.ListAuditRecords(
            audit_pb2.ListAuditRecordsRequest(stream_id=stream_id, page_size=500, page_token=token)
        )
        records.extend(page.audit_records)
        token = page.next_page_token
        if not token:
            return records


def _malformed(engagement_id: str, request_id: str) -> pb.SubmitTimeEntriesRequest:
    """A mutation the gateway refuses before any host sees it (hours in exponent form)."""
    entry = pb.TimeEntryInput(entry_id="te-1", role="dev", hours="1e5")
    return pb.SubmitTimeEntriesRequest(request_id=request_id, engagement_id=engagement_id, entries=[entry])


async def test_a_thousand_identical_malformed_mutations_write_a_bounded_number_of_records(api: Api) -> None:
    request = _malformed("eng-flood-same", rid())
    codes = await _codes([api.engagements.SubmitTimeEntries(request) for _ in range(FLOOD)])

    assert set(codes) <= {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED}
    records = await _rejected_records(api, "eng-flood-same")
    assert 1 <= len(records) <= 2
    assert {r.outcome for r in records} == {audit_pb2.AUDIT_OUTCOME_REJECTED}
    assert (await api.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest())).ok


async def test_a_thousand_distinct_malformed_mutations_are_held_to_the_burst(api: Api) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    calls = [api.engagements.SubmitTimeEntries(_malformed("eng-flood-many", rid())) for _ in range(FLOOD)]
    await _codes(calls)
    elapsed = loop.time() - started

    records = await _rejected_records(api, "eng-flood-many")
    assert len(records) <= BURST + PER_SECOND * elapsed + 1
    assert (await api.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest())).ok
