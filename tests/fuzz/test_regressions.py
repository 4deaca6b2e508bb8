"""Minimal reproducers of bugs the fuzzer found, kept as regression tests once fixed.

While a bug is open its test is a strict xfail with an entry in tests/fuzz/known_bugs.py (which
keeps the fuzz runs green meanwhile); when the fix lands, both go.
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import text

from q2c.v1 import audit_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store
from q2c_core.domain.errors import ValidationError
from q2c_core.edge.converters.convert_audit import checkpoint_in
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.service.client import Stubs


def api(channel: grpc.aio.Channel) -> tuple[Stubs, tuple[tuple[str, str], ...]]:
    return Stubs.on(channel), credentials.bearer(new_tenant_id(), "fuzzer")


async def code_of(call: object) -> grpc.StatusCode:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("seconds, nanos", [(253402300800, 0), (0, 1_000_000_000), (0, -1)])
def test_a_checkpoint_with_an_impossible_time_is_a_validation_error(seconds: int, nanos: int) -> None:
    checkpoint = audit_pb2.AuditCheckpoint(
        sequence=1, create_time=Timestamp(seconds=seconds, nanos=nanos), signature="sig"
    )
    with pytest.raises(ValidationError):
        checkpoint_in(checkpoint)


async def test_verify_audit_log_with_an_impossible_checkpoint_time_is_invalid_argument(
    channel: grpc.aio.Channel,
) -> None:
    stubs, me = api(channel)
    checkpoint = audit_pb2.AuditCheckpoint(sequence=1, create_time=Timestamp(nanos=10**9), signature="s")
    request = audit_pb2.VerifyAuditLogRequest(checkpoint=checkpoint)
    assert await code_of(stubs.audit.VerifyAuditLog(request, metadata=me, timeout=10)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )


async def test_a_nul_in_an_id_is_refused_as_input_not_an_internal_error(
    channel: grpc.aio.Channel, database_url: str, request: pytest.FixtureRequest
) -> None:
    stubs, me = api(channel)
    read = stubs.engagements.GetEngagement(
        pb.GetEngagementRequest(engagement_id="a\x00b"), metadata=me, timeout=10
    )
    assert await code_of(read) == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_nul_in_a_request_id_is_refused_as_input_not_unavailable(
    channel: grpc.aio.Channel, database_url: str, request: pytest.FixtureRequest
) -> None:
    stubs, me = api(channel)
    command = pb.QualifyEngagementRequest(request_id="\x00", engagement_id="nothing-here")
    code = await code_of(stubs.engagements.QualifyEngagement(command, metadata=me, timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_audit_checkpoint_sequence_beyond_int32_is_not_found(
    channel: grpc.aio.Channel, database_url: str, request: pytest.FixtureRequest
) -> None:
    stubs, me = api(channel)
    call = stubs.audit.GetAuditCheckpoint(
        audit_pb2.GetAuditCheckpointRequest(sequence=2**31), metadata=me, timeout=10
    )
    assert await code_of(call) == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_request_id_with_control_characters_is_refused_before_any_record(
    channel: grpc.aio.Channel, database_url: str
) -> None:
    tenant = new_tenant_id()
    stubs, me = Stubs.on(channel), credentials.bearer(tenant, "fuzzer")
    complete = pb.CompleteEngagementRequest(request_id="\x01", engagement_id="e-1")
    assert await code_of(stubs.engagements.CompleteEngagement(complete, metadata=me, timeout=10)) == (
        grpc.StatusCode.INVALID_ARGUMENT
    )
    store = Store.open(database_url, migrate=False)
    try:
        with store.engine.connect() as conn:
            query = "SELECT request_id FROM {} WHERE tenant_id = :t AND request_id = :r"
            params = {"t": tenant, "r": "\x01"}
            idempotency = conn.execute(text(query.format("idempotency")), params).all()
            audit = conn.execute(text(query.format("audit_records")), params).all()
    finally:
        store.close()
    # refused at the edge: no idempotency record, and no audit record under an id nobody can match
    assert (len(idempotency), len(audit)) == (0, 0)
