"""AuditService through the real gateway: signed checkpoints and the security-event listing."""

from __future__ import annotations

from typing import Any

import grpc

from q2c.v1 import audit_pb2, customer_pb2
from q2c_core.app.audit.anchor import load_public_key, verify_checkpoint
from q2c_core.edge.converters.convert_audit import checkpoint_in
from tests import credentials
from tests.service.client import Api, Bound, customer, error_info, rich_error, rid


def _audit(api: Api, principal: str, scopes: tuple[str, ...]) -> Any:
    """The audit stub under a token of `principal` with `scopes` in the api's tenant."""
    return Bound(api.stubs.audit, credentials.bearer(api.tenant_id, principal, scopes))


async def test_a_checkpoint_signed_by_the_server_key_verifies_the_log(api: Api) -> None:
    await api.customers.CreateCustomer(
        customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer())
    )
    checkpoint = await api.audit.CreateAuditCheckpoint(
        audit_pb2.CreateAuditCheckpointRequest(request_id=rid())
    )
    public_key = load_public_key(credentials.dev_key().audit_public_key_file)

    assert checkpoint.tenant_id == api.tenant_id and checkpoint.sequence == 1
    assert len(checkpoint.stream_heads) == 1
    verify_checkpoint(checkpoint_in(checkpoint), public_key)  # offline, with the public key only
    verified = await api.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest())
    assert verified.ok and verified.checkpoint.sequence == 1


async def test_creating_a_checkpoint_needs_the_checkpoint_scope(api: Api) -> None:
    reader = _audit(api, "auditor", ("audit:read",))
    code, status = await rich_error(reader.CreateAuditCheckpoint(audit_pb2.CreateAuditCheckpointRequest()))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(status).metadata["scope"] == "audit:checkpoint"
    listed = await api.audit.ListAuditCheckpoints(audit_pb2.ListAuditCheckpointsRequest())
    assert list(listed.audit_checkpoints) == []


async def test_a_refusal_is_listed_for_the_tenant_with_its_reason_and_correlation_id(api: Api) -> None:
    reader = _audit(api, "auditor", ("audit:read",))
    await rich_error(
        reader.CreateAuditCheckpoint(
            audit_pb2.CreateAuditCheckpointRequest(), metadata=(("x-correlation-id", "probe-7"),)
        )
    )
    listed = await reader.ListSecurityEvents(audit_pb2.ListSecurityEventsRequest())
    [event] = [e for e in listed.security_events if e.correlation_id == "probe-7"]
    assert (event.tenant_id, event.principal, event.code, event.reason) == (
        api.tenant_id,
        "auditor",
        "PERMISSION_DENIED",
        "SCOPE_MISSING",
    )
    assert event.method == "/q2c.v1.AuditService/CreateAuditCheckpoint" and event.peer


async def test_refusals_without_a_tenant_are_listed_only_for_admins(api: Api, stubs: Any) -> None:
    probe = f"no-token-{rid()}"
    await rich_error(
        stubs.audit.ListAuditRecords(
            audit_pb2.ListAuditRecordsRequest(stream_id="x"),
            metadata=(("x-correlation-id", probe),),
            timeout=10,
        )
    )
    reader = _audit(api, "auditor", ("audit:read",))
    code, status = await rich_error(
        reader.ListSecurityEvents(audit_pb2.ListSecurityEventsRequest(include_unauthenticated=True))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert error_info(status).metadata["scope"] == "admin"
    own = await reader.ListSecurityEvents(audit_pb2.ListSecurityEventsRequest(page_size=500))
    assert probe not in {e.correlation_id for e in own.security_events}
    everything = await api.audit.ListSecurityEvents(
        audit_pb2.ListSecurityEventsRequest(include_unauthenticated=True, page_size=500)
    )
    [event] = [e for e in everything.security_events if e.correlation_id == probe]
    assert (event.tenant_id, event.code, event.reason) == ("", "UNAUTHENTICATED", "CREDENTIALS_MISSING")
