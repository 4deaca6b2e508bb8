"""Minimal reproducers of bugs the fuzzer found, as strict xfails until they are fixed.

Each has an entry in tests/fuzz/known_bugs.py, which keeps the fuzz runs green meanwhile;
when a fix lands, the xfail here passes unexpectedly: delete the test's marker and the entry.
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import text

from q2c.v1 import audit_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.api.convert_audit import checkpoint_in
from q2c_core.domain.errors import ValidationError
from q2c_core.store import Store
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.service.client import Stubs

CHECKPOINT_TIME = (
    "VerifyAuditLog: checkpoint_in calls Timestamp.ToDatetime on the caller's create_time, which "
    "raises ValueError when seconds or nanos are out of range -> INTERNAL instead of INVALID_ARGUMENT"
)
NUL = (
    "PostgreSQL refuses NUL in text: psycopg DataError -> StoreError -> INTERNAL on reads and "
    "UNAVAILABLE (retryable!) on commands, instead of INVALID_ARGUMENT at the edge"
)
SEQUENCE = (
    "GetAuditCheckpoint passes sequence (int64 on the wire) to an INTEGER column: PostgreSQL "
    "raises NumericValueOutOfRange -> INTERNAL instead of NOT_FOUND / INVALID_ARGUMENT"
)
SANITISED_ID = (
    "a rejected command's audit record stores a sanitised request_id ('\\x01' -> '?') while its "
    "idempotency record keeps the original, so the two no longer refer to each other"
)


def _postgresql_only_xfail(request: pytest.FixtureRequest, database_url: str, reason: str) -> None:
    if database_url.startswith("postgresql"):
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def api(channel: grpc.aio.Channel) -> tuple[Stubs, tuple[tuple[str, str], ...]]:
    return Stubs.on(channel), credentials.bearer(new_tenant_id(), "fuzzer")


async def code_of(call: object) -> grpc.StatusCode:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.mark.xfail(strict=True, reason=CHECKPOINT_TIME)
@pytest.mark.parametrize("seconds, nanos", [(253402300800, 0), (0, 1_000_000_000), (0, -1)])
def test_a_checkpoint_with_an_impossible_time_is_a_validation_error(seconds: int, nanos: int) -> None:
    checkpoint = audit_pb2.AuditCheckpoint(
        sequence=1, create_time=Timestamp(seconds=seconds, nanos=nanos), signature="sig"
    )
    with pytest.raises(ValidationError):
        checkpoint_in(checkpoint)


@pytest.mark.xfail(strict=True, reason=CHECKPOINT_TIME)
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
    _postgresql_only_xfail(request, database_url, NUL)
    stubs, me = api(channel)
    read = stubs.engagements.GetEngagement(
        pb.GetEngagementRequest(engagement_id="a\x00b"), metadata=me, timeout=10
    )
    assert await code_of(read) in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)


async def test_a_nul_in_a_request_id_is_refused_as_input_not_unavailable(
    channel: grpc.aio.Channel, database_url: str, request: pytest.FixtureRequest
) -> None:
    _postgresql_only_xfail(request, database_url, NUL)
    stubs, me = api(channel)
    command = pb.QualifyEngagementRequest(request_id="\x00", engagement_id="nothing-here")
    code = await code_of(stubs.engagements.QualifyEngagement(command, metadata=me, timeout=10))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)


async def test_an_audit_checkpoint_sequence_beyond_int32_is_not_found(
    channel: grpc.aio.Channel, database_url: str, request: pytest.FixtureRequest
) -> None:
    _postgresql_only_xfail(request, database_url, SEQUENCE)
    stubs, me = api(channel)
    call = stubs.audit.GetAuditCheckpoint(
        audit_pb2.GetAuditCheckpointRequest(sequence=2**31), metadata=me, timeout=10
    )
    assert await code_of(call) in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)


@pytest.mark.xfail(strict=True, reason=SANITISED_ID)
async def test_a_rejected_commands_audit_record_and_idempotency_record_share_its_request_id(
    channel: grpc.aio.Channel, database_url: str
) -> None:
    tenant = new_tenant_id()
    stubs, me = Stubs.on(channel), credentials.bearer(tenant, "fuzzer")
    created = await stubs.engagements.CreateEngagement(
        pb.CreateEngagementRequest(request_id="c1", customer_id="nobody", display_name="x"),
        metadata=me,
        timeout=10,
    )
    complete = pb.CompleteEngagementRequest(request_id="\x01", engagement_id=created.engagement_id)
    assert await code_of(stubs.engagements.CompleteEngagement(complete, metadata=me, timeout=10)) == (
        grpc.StatusCode.FAILED_PRECONDITION
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
    assert len(idempotency) == len(audit) == 1
