"""Scopes: parsed from the token as a string or a list, `admin` grants all, one table per RPC."""

from __future__ import annotations

from typing import Any

import pytest

from q2c.v1 import customer_pb2, exception_pb2
from q2c_core.domain.errors import PermissionDeniedError
from q2c_core.edge.auth.authenticator import authorize
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.auth.jwt_verifier import JwtVerifier
from q2c_core.edge.auth.scopes import ADMIN, METHOD_SCOPES, SCOPES, missing_scopes, required_scopes
from tests import credentials
from tests.security import tokens

RESOLVE = "/q2c.v1.ExceptionService/ResolveException"
CREATE_CUSTOMER = "/q2c.v1.CustomerService/CreateCustomer"


def _verify(scope: Any) -> frozenset[str]:
    key = credentials.dev_key()
    verifier = JwtVerifier(issuer=key.issuer, audience=key.audience, public_key_file=key.jwt_public_key_file)
    return verifier.verify(tokens.signed({**tokens.claims("acme"), "scope": scope})).scopes


def test_a_space_separated_scope_string_is_split() -> None:
    assert _verify("customers:read  billing:read ") == {"customers:read", "billing:read"}


def test_a_scope_list_is_taken_as_is() -> None:
    assert _verify(["customers:read", "time:approve"]) == {"customers:read", "time:approve"}


def test_a_token_without_scopes_grants_none() -> None:
    assert _verify("") == frozenset()


def test_admin_grants_every_scope_of_every_rpc() -> None:
    admin = frozenset({ADMIN})
    assert missing_scopes(admin, tuple(SCOPES)) == []
    for method in METHOD_SCOPES:
        needed = required_scopes(method, exception_pb2.ResolveExceptionRequest(resolution=2))
        assert needed and missing_scopes(admin, needed) == []


def test_missing_scopes_names_only_the_missing_ones_in_order() -> None:
    granted = frozenset({"billing:read", "exceptions:resolve"})
    needed = ("billing:writeoff", "exceptions:resolve", "audit:read")
    assert missing_scopes(granted, needed) == ["billing:writeoff", "audit:read"]
    assert missing_scopes(granted, ("exceptions:resolve",)) == []


def test_a_scope_is_not_granted_by_its_prefix_or_a_wildcard() -> None:
    assert missing_scopes(frozenset({"billing", "billing:*", "customers:read"}), ("billing:write",)) == [
        "billing:write"
    ]


def test_each_rpc_needs_the_scope_its_table_entry_names() -> None:
    request = customer_pb2.CreateCustomerRequest()
    for method, rule in METHOD_SCOPES.items():
        if isinstance(rule, str):
            assert required_scopes(method, request) == (rule,)
    assert required_scopes("/q2c.v1.CustomerService/DeleteEverything", request) is None


@pytest.mark.parametrize(
    ("resolution", "needed"),
    [
        (exception_pb2.EXCEPTION_RESOLUTION_UNSPECIFIED, ("exceptions:resolve",)),
        (exception_pb2.EXCEPTION_RESOLUTION_RELEASE, ("exceptions:resolve", "billing:writeoff")),
        (exception_pb2.EXCEPTION_RESOLUTION_WRITE_OFF, ("exceptions:resolve", "billing:writeoff")),
    ],
    ids=["plain", "release", "write-off"],
)
def test_resolving_an_exception_needs_billing_writeoff_to_release_or_write_off(
    resolution: int, needed: tuple[str, ...]
) -> None:
    assert required_scopes(RESOLVE, exception_pb2.ResolveExceptionRequest(resolution=resolution)) == needed


def _caller(*scopes: str) -> Identity:
    return Identity("acme", "alice", frozenset(scopes), "jwt")


def test_authorize_names_the_missing_scope_and_the_method() -> None:
    with pytest.raises(PermissionDeniedError) as refused:
        authorize(_caller("customers:read"), CREATE_CUSTOMER, customer_pb2.CreateCustomerRequest())
    assert refused.value.reason == "SCOPE_MISSING"
    assert refused.value.metadata == {"scope": "customers:write", "method": CREATE_CUSTOMER}


def test_authorize_lets_the_scope_through() -> None:
    authorize(_caller("customers:write"), CREATE_CUSTOMER, customer_pb2.CreateCustomerRequest())
    authorize(_caller(ADMIN), CREATE_CUSTOMER, customer_pb2.CreateCustomerRequest())


def test_an_rpc_missing_from_the_table_is_refused_even_to_admin() -> None:
    unknown = "/q2c.v1.CustomerService/DeleteEverything"
    with pytest.raises(PermissionDeniedError) as refused:
        authorize(_caller(ADMIN), unknown, customer_pb2.CreateCustomerRequest())
    assert (refused.value.reason, refused.value.metadata) == ("SCOPE_MISSING", {"method": unknown})
