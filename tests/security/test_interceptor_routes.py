"""What the interceptor works out once per RPC decides exactly as the per-call checks did.

The scope check is looked up once per method (`authorizer`) and must refuse exactly what
`authorize` refuses, with the same error; a method's wrapped handler is reused but never for
another handler, and unknown methods are not remembered (a flood of made-up names cannot grow
memory); the peer certificate is fetched only when a credential could come from it; generated
correlation ids are unique; repeated tenant / principal hints are all checked.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from cryptography import x509
from grpc import aio
from prometheus_client import CollectorRegistry

from q2c.v1 import customer_pb2, exception_pb2
from q2c_core.domain.errors import NotFoundError, PermissionDeniedError
from q2c_core.edge.auth.authenticator import Authenticator, authorize, authorizer
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.auth.mtls import CertificateMapper
from q2c_core.edge.auth.scopes import ADMIN, METHOD_SCOPES, SCOPES
from q2c_core.edge.context import current_caller
from q2c_core.edge.interceptors import CallContextInterceptor
from q2c_core.edge.metrics import RouteMetrics, RpcMetrics
from tests import credentials
from tests.security.pki import certificate_with
from tests.tls_certs import spiffe_id

METHOD = "/q2c.v1.CustomerService/GetCustomer"
REQUEST = customer_pb2.GetCustomerRequest(customer_id="c-1")
RESOLVE = "/q2c.v1.ExceptionService/ResolveException"


def _verdict(check: Any, *args: Any) -> tuple[str, str, dict[str, str]] | None:
    try:
        check(*args)
    except PermissionDeniedError as refused:
        return (refused.reason, refused.message, dict(refused.metadata))
    return None


def _requests(method: str) -> list[Any]:
    if method == RESOLVE:
        return [exception_pb2.ResolveExceptionRequest(resolution=value) for value in range(4)]
    return [object()]


SCOPE_SETS = [frozenset(), frozenset({ADMIN}), *(frozenset({scope}) for scope in SCOPES)]
SCOPE_SETS.append(frozenset({"exceptions:resolve", "billing:writeoff"}))


@pytest.mark.parametrize("method", [*sorted(METHOD_SCOPES), "/q2c.v1.CustomerService/Unlisted"])
def test_the_per_method_scope_check_refuses_exactly_what_authorize_refuses(method: str) -> None:
    check = authorizer(method)
    for scopes in SCOPE_SETS:
        identity = Identity("acme", "alice", scopes, "jwt")
        for request in _requests(method):
            expected = _verdict(authorize, identity, method, request)
            assert _verdict(check, identity, request) == expected, (method, scopes)


class StandIn:
    """Just enough of grpc.aio.ServicerContext; counts how often the TLS peer is asked for."""

    def __init__(self, metadata: tuple[tuple[str, Any], ...], certificate: bytes | None = None) -> None:
        self.metadata = metadata
        self.certificate = certificate
        self.peer_asked = 0
        self.sent: tuple[tuple[str, str], ...] = ()
        self.trailing: tuple[tuple[str, str], ...] = ()
        self.aborted: grpc.Status | None = None

    def invocation_metadata(self) -> tuple[tuple[str, Any], ...]:
        return self.metadata

    def auth_context(self) -> dict[str, list[bytes]]:
        self.peer_asked += 1
        return {"x509_pem_cert": [self.certificate]} if self.certificate else {}

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1"

    async def send_initial_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.sent = metadata

    def set_trailing_metadata(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.trailing = metadata

    def time_remaining(self) -> float | None:
        return 5.0

    async def abort_with_status(self, status: grpc.Status) -> None:
        self.aborted = status
        raise aio.AbortError()


class Handler:
    """A registered unary handler whose behaviour returns the caller it ran for."""

    request_deserializer = response_serializer = None
    unary_stream = stream_unary = stream_stream = None

    def __init__(self) -> None:
        async def behaviour(request: Any, context: Any) -> Any:
            return (self, current_caller())

        self.unary_unary = behaviour


class Details:
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


async def _handler(interceptor: CallContextInterceptor, method: str, handler: Any) -> Any:
    async def continuation(details: Any) -> Any:
        return handler

    return await interceptor.intercept_service(continuation, Details(method))


def _interceptor() -> CallContextInterceptor:
    return CallContextInterceptor(credentials.security().authenticator)


async def test_a_methods_handler_is_wrapped_once_and_never_reused_for_another_handler() -> None:
    interceptor = _interceptor()
    first, second = Handler(), Handler()
    wrapped = await _handler(interceptor, METHOD, first)
    assert await _handler(interceptor, METHOD, first) is wrapped
    rewrapped = await _handler(interceptor, METHOD, second)
    assert rewrapped is not wrapped
    context = StandIn(credentials.bearer("acme"))
    ran, _ = await rewrapped.unary_unary(REQUEST, context)
    assert ran is second


async def test_unknown_and_foreign_methods_are_passed_through_and_not_remembered() -> None:
    interceptor = _interceptor()
    for n in range(200):
        assert await _handler(interceptor, f"/q2c.v1.Made/Up{n}", None) is None
    health = Handler()
    assert await _handler(interceptor, "/grpc.health.v1.Health/Check", health) is health
    assert interceptor._handlers == {}


def _mtls_interceptor() -> CallContextInterceptor:
    tokens = credentials.security().authenticator
    assert isinstance(tokens, Authenticator)
    return CallContextInterceptor(Authenticator(tokens.tokens, CertificateMapper(default_scopes=[ADMIN])))


async def test_the_peer_certificate_is_not_fetched_when_a_bearer_token_wins() -> None:
    wrapped = await _handler(_mtls_interceptor(), METHOD, Handler())
    certificate = certificate_with(x509.UniformResourceIdentifier(spiffe_id("globex", "bob")))
    with_token = StandIn(credentials.bearer("acme", "alice"), certificate)
    _, caller = await wrapped.unary_unary(REQUEST, with_token)
    assert (caller.tenant_id, with_token.peer_asked) == ("acme", 0)
    without = StandIn((), certificate)
    _, caller = await wrapped.unary_unary(REQUEST, without)
    assert (caller.tenant_id, caller.principal, without.peer_asked) == ("globex", "bob", 1)
    blank = StandIn((("authorization", "  "),), certificate)
    _, caller = await wrapped.unary_unary(REQUEST, blank)
    assert (caller.tenant_id, blank.peer_asked) == ("globex", 1)


async def test_generated_correlation_ids_are_32_hex_digits_and_unique() -> None:
    wrapped = await _handler(_interceptor(), METHOD, Handler())
    seen = set()
    for _ in range(500):
        context = StandIn(credentials.bearer("acme"))
        _, caller = await wrapped.unary_unary(REQUEST, context)
        assert context.trailing == (("x-correlation-id", caller.correlation_id),)
        seen.add(caller.correlation_id)
    assert len(seen) == 500
    assert all(len(cid) == 32 and int(cid, 16) >= 0 for cid in seen)


async def test_a_client_correlation_id_names_the_caller_of_each_of_its_calls() -> None:
    wrapped = await _handler(_interceptor(), METHOD, Handler())
    for tenant, principal in (("acme", "alice"), ("acme", "bob"), ("globex", "alice"), ("acme", "alice")):
        context = StandIn((*credentials.bearer(tenant, principal), ("x-correlation-id", " flow-7 ")))
        _, caller = await wrapped.unary_unary(REQUEST, context)
        assert (caller.tenant_id, caller.principal, caller.correlation_id) == (tenant, principal, "flow-7")


@pytest.mark.parametrize(
    "hints",
    [
        (("x-tenant-id", "acme"), ("x-tenant-id", "globex")),
        (("x-principal", "alice"), ("x-principal", "mallory")),
        (("x-principal", b"alice"), ("x-tenant-id", "globex")),
    ],
    ids=["second-tenant-hint", "second-principal-hint", "after-a-binary-value"],
)
async def test_every_repeated_tenant_or_principal_hint_is_checked(hints: tuple[tuple[str, Any], ...]) -> None:
    behaviour_ran: list[Any] = []
    handler = Handler()
    real = handler.unary_unary

    async def counting(request: Any, context: Any) -> Any:
        behaviour_ran.append(request)
        return await real(request, context)

    handler.unary_unary = counting
    wrapped = await _handler(_interceptor(), METHOD, handler)
    context = StandIn((*credentials.bearer("acme", "alice"), *hints))
    with pytest.raises(aio.AbortError):
        await wrapped.unary_unary(REQUEST, context)
    assert context.aborted is not None and context.aborted.code == grpc.StatusCode.PERMISSION_DENIED
    assert behaviour_ran == []


class Counting(StandIn):
    """Records what the metrics held for the route when the status went out."""

    def __init__(
        self, metadata: tuple[tuple[str, Any], ...], route: RouteMetrics, remaining: float = 5.0
    ) -> None:
        super().__init__(metadata)
        self.route = route
        self.remaining = remaining
        self.counted_when_sent: dict[str, int] | None = None

    def time_remaining(self) -> float | None:
        return self.remaining

    async def abort_with_status(self, status: grpc.Status) -> None:
        self.counted_when_sent = dict(self.route.handled)
        await super().abort_with_status(status)


class Missing(Handler):
    def __init__(self) -> None:
        super().__init__()

        async def behaviour(request: Any, context: Any) -> Any:
            raise NotFoundError("CUSTOMER_NOT_FOUND", "no such customer")

        self.unary_unary = behaviour


@pytest.mark.parametrize(
    ("metadata", "handler", "remaining", "code"),
    [
        ((), Handler, 5.0, "UNAUTHENTICATED"),
        (credentials.bearer("acme"), Missing, 5.0, "NOT_FOUND"),
        (credentials.bearer("acme"), Handler, 0.0, "DEADLINE_EXCEEDED"),
    ],
)
async def test_a_failed_call_is_counted_before_its_status_is_sent(
    metadata: tuple[tuple[str, Any], ...], handler: type[Handler], remaining: float, code: str
) -> None:
    """A client that has the status may scrape at once: the call must already be counted."""
    metrics = RpcMetrics(CollectorRegistry())
    interceptor = CallContextInterceptor(credentials.security().authenticator, metrics=metrics)
    wrapped = await _handler(interceptor, METHOD, handler())
    context = Counting(metadata, metrics.route(METHOD, "unary"), remaining)
    with pytest.raises(aio.AbortError):
        await wrapped.unary_unary(REQUEST, context)
    assert context.aborted is not None and context.aborted.code.name == code
    assert context.counted_when_sent == {code: 1}
    assert context.route.handled == {code: 1}  # and counted once
