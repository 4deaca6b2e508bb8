"""Bearer tokens on every call, token rotation, and credential refusals, against a scripted server."""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest

from q2c.v1 import customer_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_sdk import (
    CredentialsMissingError,
    PermissionDeniedError,
    Q2cClient,
    RetryPolicy,
    ScopeMissingError,
    TenantMismatchError,
    TokenExpiredError,
    UnauthenticatedError,
    tls_credentials,
)
from q2c_sdk.credentials import bearer_value
from tests.sdk.fake_server import FakeQ2c, rich_failure

CUSTOMERS = "CustomerService"
WAIT = 10.0


def _get(client: Q2cClient) -> customer_pb2.Customer:
    return client.get_customer(customer_pb2.GetCustomerRequest(customer_id="c-1"))


def _served_metadata(fake: FakeQ2c, client: Q2cClient) -> dict[str, str]:
    result = fake.run(lambda: _get(client))
    taken = fake.take(CUSTOMERS, "GetCustomer")
    taken.answer(customer_pb2.Customer())
    result.result(WAIT)
    return taken.metadata


def test_every_call_carries_the_bearer_token_and_no_identity_hints(fake: FakeQ2c) -> None:
    client = Q2cClient(channel=fake.recording, token="tok-1")

    metadata = _served_metadata(fake, client)

    assert metadata["authorization"] == "Bearer tok-1"
    assert "x-tenant-id" not in metadata
    assert "x-principal" not in metadata


def test_tenant_and_principal_hints_are_sent_only_when_given(fake: FakeQ2c) -> None:
    client = Q2cClient(channel=fake.recording, token="tok-1", tenant_id="acme")

    metadata = _served_metadata(fake, client)

    assert metadata["x-tenant-id"] == "acme"
    assert "x-principal" not in metadata


def test_a_rotated_token_file_is_picked_up_on_the_next_call(fake: FakeQ2c, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("first-token\n")
    client = Q2cClient(channel=fake.recording, token_file=token_file)
    assert _served_metadata(fake, client)["authorization"] == "Bearer first-token"

    token_file.write_text("second-token-after-rotation\n")
    os.utime(token_file, ns=(1, 1))  # a new mtime even on coarse-grained file systems

    assert _served_metadata(fake, client)["authorization"] == "Bearer second-token-after-rotation"


def test_a_token_provider_is_asked_before_every_call(fake: FakeQ2c) -> None:
    tokens = iter(["one", "two"])
    client = Q2cClient(channel=fake.recording, token_provider=lambda: next(tokens))

    assert _served_metadata(fake, client)["authorization"] == "Bearer one"
    assert _served_metadata(fake, client)["authorization"] == "Bearer two"


def test_a_token_with_its_scheme_is_not_prefixed_twice() -> None:
    assert bearer_value("Bearer abc") == "Bearer abc"
    assert bearer_value(" abc \n") == "Bearer abc"


def test_only_one_way_to_get_a_token_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at most one"):
        Q2cClient("127.0.0.1:1", token="a", token_file=tmp_path / "t")
    with pytest.raises(ValueError, match="empty"):
        Q2cClient("127.0.0.1:1", token=" ")


def test_unauthenticated_is_a_typed_error_and_never_retried(fake: FakeQ2c) -> None:
    # Even a policy that lists UNAUTHENTICATED does not retry it: the same token gets the same answer.
    eager = RetryPolicy(initial_backoff=0.001, retryable_codes=frozenset({grpc.StatusCode.UNAUTHENTICATED}))
    client = Q2cClient(channel=fake.recording, token="stale", retries=eager)
    result = fake.run(
        lambda: client.submit_time_entries(pb.SubmitTimeEntriesRequest(engagement_id="e-1"), request_id="r-1")
    )
    fake.take("EngagementService", "SubmitTimeEntries").fail(
        rich_failure(grpc.StatusCode.UNAUTHENTICATED, "TOKEN_EXPIRED", "the token has expired")
    )

    with pytest.raises(TokenExpiredError) as refused:
        result.result(WAIT)
    assert isinstance(refused.value, UnauthenticatedError)
    assert (refused.value.reason, refused.value.request_id) == ("TOKEN_EXPIRED", "r-1")
    assert len(fake.recording.timeouts) == 1


def test_credentials_missing_maps_to_its_own_class(fake: FakeQ2c) -> None:
    client = Q2cClient(channel=fake.recording)
    result = fake.run(lambda: _get(client))
    taken = fake.take(CUSTOMERS, "GetCustomer")
    assert "authorization" not in taken.metadata
    taken.fail(rich_failure(grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_MISSING", "no credentials"))

    with pytest.raises(CredentialsMissingError):
        result.result(WAIT)
    assert len(fake.recording.timeouts) == 1


def test_permission_denied_names_the_missing_scope_and_is_not_retried(fake: FakeQ2c) -> None:
    client = Q2cClient(channel=fake.recording, token="reader")
    result = fake.run(lambda: _get(client))
    fake.take(CUSTOMERS, "GetCustomer").fail(
        rich_failure(
            grpc.StatusCode.PERMISSION_DENIED,
            "SCOPE_MISSING",
            "GetCustomer needs scope customers.read",
            {"scope": "customers.read", "method": "/q2c.v1.CustomerService/GetCustomer"},
        )
    )

    with pytest.raises(ScopeMissingError) as refused:
        result.result(WAIT)
    assert isinstance(refused.value, PermissionDeniedError)
    assert refused.value.scope == "customers.read"
    assert len(fake.recording.timeouts) == 1


def test_tenant_mismatch_maps_to_its_own_class(fake: FakeQ2c) -> None:
    client = Q2cClient(channel=fake.recording, token="acme-token", tenant_id="globex")
    result = fake.run(lambda: _get(client))
    fake.take(CUSTOMERS, "GetCustomer").fail(
        rich_failure(
            grpc.StatusCode.PERMISSION_DENIED,
            "TENANT_MISMATCH",
            "x-tenant-id names tenant 'globex' but the credentials are for 'acme'",
            {"claimed": "globex", "authenticated": "acme"},
        )
    )

    with pytest.raises(TenantMismatchError) as refused:
        result.result(WAIT)
    assert refused.value.metadata["authenticated"] == "acme"


def test_tls_options_build_channel_credentials_only_when_given(tmp_path: Path) -> None:
    assert tls_credentials() is None
    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"-----BEGIN CERTIFICATE-----\n")
    assert isinstance(tls_credentials(tls_ca_file=ca), grpc.ChannelCredentials)
    with pytest.raises(ValueError, match="together"):
        tls_credentials(tls_ca_file=ca, tls_cert_file=ca)
    with pytest.raises(ValueError, match="not both"):
        tls_credentials(root_certificates=b"x", tls_ca_file=ca)
    with pytest.raises(ValueError, match="not both"):
        Q2cClient("127.0.0.1:1", tls_ca_file=ca, credentials=grpc.ssl_channel_credentials())
