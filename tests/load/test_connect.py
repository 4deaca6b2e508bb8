"""The load tool's calls: UNAVAILABLE is retried with the very same request (same request id)
and recorded once, from the intended time; other errors are recorded at once, not retried."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from clients.load import connect
from clients.load.connect import Connection, Settings
from clients.load.record import Recorder
from q2c.v1 import engagement_pb2


def _error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="test")


class _Flaky:
    """A stub method failing with the given codes first, then answering."""

    def __init__(self, *codes: grpc.StatusCode) -> None:
        self.codes = list(codes)
        self.requests: list[Any] = []

    async def __call__(self, request: Any, **_: Any) -> str:
        self.requests.append(request)
        if self.codes:
            raise _error(self.codes.pop(0))
        return "reply"


def _call(method: _Flaky, recorder: Recorder) -> tuple[str, Any, int]:
    async def go() -> tuple[str, Any, int]:
        conn = Connection(Settings("127.0.0.1:1", token="t", approver_token="a"), recorder)
        try:
            request = engagement_pb2.QualifyEngagementRequest(request_id="r-1", engagement_id="e")
            code, reply = await conn.call("QualifyEngagement", method, request, intended=recorder.origin)
            assert conn.last_retries == conn.retries
            return code, reply, conn.retries
        finally:
            await conn.close()

    return asyncio.run(go())


def test_unavailable_is_retried_with_the_same_request_and_recorded_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connect, "BACKOFF_S", 0.0)
    recorder = Recorder(0.0)
    method = _Flaky(grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    code, reply, retries = _call(method, recorder)
    assert (code, reply, retries) == ("OK", "reply", 2)
    assert [r.request_id for r in method.requests] == ["r-1"] * 3
    assert recorder.rpcs()["QualifyEngagement"].count == 1
    assert recorder.errors == 0


def test_a_refusal_is_not_retried_and_is_recorded_by_its_code() -> None:
    recorder = Recorder(0.0)
    method = _Flaky(grpc.StatusCode.FAILED_PRECONDITION)
    code, reply, retries = _call(method, recorder)
    assert (code, reply, retries) == ("FAILED_PRECONDITION", None, 0)
    assert len(method.requests) == 1
    assert recorder.errors_by_code() == {"FAILED_PRECONDITION": 1}
