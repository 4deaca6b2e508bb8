"""Server wiring: servicers (each handler wrapped by the edge), health and reflection on one
grpc.aio server."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from q2c.v1 import (
    audit_pb2,
    audit_pb2_grpc,
    billing_pb2,
    billing_pb2_grpc,
    customer_pb2,
    customer_pb2_grpc,
    delivery_pb2,
    delivery_pb2_grpc,
    engagement_pb2,
    engagement_pb2_grpc,
    event_pb2,
    event_pb2_grpc,
    exception_pb2,
    exception_pb2_grpc,
    rate_card_pb2,
    rate_card_pb2_grpc,
    reconciliation_pb2,
    reconciliation_pb2_grpc,
    reporting_pb2,
    reporting_pb2_grpc,
)
from q2c_core.edge.billing_servicer import BillingServicer
from q2c_core.edge.delivery_servicer import DeliveryServicer
from q2c_core.edge.engagement_servicer import EngagementServicer
from q2c_core.edge.event_servicer import EventServicer
from q2c_core.edge.interceptors import CallContextInterceptor
from q2c_core.edge.limits import RateLimiter, ServerLimits, StreamSlots
from q2c_core.edge.reconciliation_servicer import ReconciliationServicer
from q2c_core.edge.record_servicers import AuditServicer, ExceptionServicer
from q2c_core.edge.reference_servicers import CustomerServicer, RateCardServicer
from q2c_core.edge.rejections import RejectionAuditor
from q2c_core.edge.reporting_servicer import ReportingServicer
from q2c_core.edge.security import GatewaySecurity
from q2c_core.edge.server_options import server_options
from q2c_core.edge.tls import server_credentials

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime

SERVICE_NAMES: tuple[str, ...] = (
    customer_pb2.DESCRIPTOR.services_by_name["CustomerService"].full_name,
    rate_card_pb2.DESCRIPTOR.services_by_name["RateCardService"].full_name,
    engagement_pb2.DESCRIPTOR.services_by_name["EngagementService"].full_name,
    exception_pb2.DESCRIPTOR.services_by_name["ExceptionService"].full_name,
    audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name,
    billing_pb2.DESCRIPTOR.services_by_name["BillingService"].full_name,
    event_pb2.DESCRIPTOR.services_by_name["EventService"].full_name,
    delivery_pb2.DESCRIPTOR.services_by_name["DeliveryService"].full_name,
    reconciliation_pb2.DESCRIPTOR.services_by_name["ReconciliationService"].full_name,
    reporting_pb2.DESCRIPTOR.services_by_name["ReportingService"].full_name,
)
"""Fully qualified names of the q2c.v1 services this server hosts."""

_SERVING = health_pb2.HealthCheckResponse.SERVING
AUTH_DISABLED_HEALTH_NAME = "q2c.warning.AuthenticationDisabled"
"""Listed by health `List` (and answering `Check`) only when the server runs with --auth none."""


class GatewayServer:
    """A started gateway: its bound port, graceful stop and termination wait."""

    def __init__(
        self, server: aio.Server, health: HealthServicer, port: int, streams: StreamSlots | None = None
    ) -> None:
        self.server = server
        self.health = health
        self.port = port
        self.streams = streams
        """Open streams per tenant (None: uncapped)."""

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING everywhere, then drain in-flight calls for up to `grace` seconds."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)

    async def wait_for_termination(self) -> None:
        """Block until the server has stopped."""
        await self.server.wait_for_termination()


_REGISTRARS: tuple[tuple[Any, Any], ...] = (
    (customer_pb2_grpc.add_CustomerServiceServicer_to_server, CustomerServicer),
    (rate_card_pb2_grpc.add_RateCardServiceServicer_to_server, RateCardServicer),
    (engagement_pb2_grpc.add_EngagementServiceServicer_to_server, EngagementServicer),
    (exception_pb2_grpc.add_ExceptionServiceServicer_to_server, ExceptionServicer),
    (audit_pb2_grpc.add_AuditServiceServicer_to_server, AuditServicer),
    (billing_pb2_grpc.add_BillingServiceServicer_to_server, BillingServicer),
    (event_pb2_grpc.add_EventServiceServicer_to_server, EventServicer),
    (delivery_pb2_grpc.add_DeliveryServiceServicer_to_server, DeliveryServicer),
    (reconciliation_pb2_grpc.add_ReconciliationServiceServicer_to_server, ReconciliationServicer),
    (reporting_pb2_grpc.add_ReportingServiceServicer_to_server, ReportingServicer),
)
"""Generated registration function and servicer class of each q2c.v1 service."""


Wrap = Callable[[grpc.RpcMethodHandler, str], grpc.RpcMethodHandler]


class _GenericOnly:
    """What a generated add_*_to_server (or grpc's health and reflection) registers with,
    standing in for the server: its method handlers become generic handlers only.

    grpc.aio (1.85) serves each *registered* method from a task of its own and, for every call,
    waits on all of those tasks at once (`asyncio.wait`): with q2c's ~60 methods that wait
    registers and removes ~60 callbacks per call, about a tenth of the gateway's CPU for a
    health check (bench/gateway.py: 292 -> 260 us; grpc/grpc#43461). Generic handlers are
    looked up by name instead, per call, at the cost of a dict lookup."""

    def __init__(self, server: aio.Server) -> None:
        self.server = server

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        """Passed on to the server."""
        self.server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(
        self, service: str, handlers: Mapping[str, grpc.RpcMethodHandler]
    ) -> None:
        """Left out: the generic handler the same registration added serves these methods."""


class _WrappingRegistrar(_GenericOnly):
    """A `_GenericOnly` that also gives every method handler the edge's wrapper once, here, so
    a call runs no interceptor chain at all."""

    def __init__(self, server: aio.Server, wrap: Wrap) -> None:
        super().__init__(server)
        self.wrap = wrap
        self.registered = False

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        """The unwrapped generic handler is left out: the wrapped one is added below instead."""

    def add_registered_method_handlers(
        self, service: str, handlers: Mapping[str, grpc.RpcMethodHandler]
    ) -> None:
        """Register `service`'s handlers, each wrapped, as one generic handler."""
        wrapped = {name: self.wrap(handler, f"/{service}/{name}") for name, handler in handlers.items()}
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, wrapped),))
        self.registered = True


def _add_servicers(
    server: aio.Server, runtime: Runtime, security: GatewaySecurity, wrap: Wrap | None
) -> None:
    """Every q2c.v1 servicer; with `wrap`, their handlers wrapped at registration."""
    for register, servicer in _REGISTRARS:
        target: Any = _GenericOnly(server) if wrap is None else _WrappingRegistrar(server, wrap)
        if servicer is AuditServicer:
            register(servicer(runtime, audit_signer=security.audit_signer), target)
        else:
            register(servicer(runtime), target)
        if wrap is not None and not target.registered:
            raise RuntimeError(f"{register.__name__} registered no method handlers")


async def _add_health(server: aio.Server, auth_enabled: bool) -> HealthServicer:
    health = HealthServicer()
    warnings = () if auth_enabled else (AUTH_DISABLED_HEALTH_NAME,)
    for name in ("", *SERVICE_NAMES, *warnings):
        await health.set(name, _SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(health, _GenericOnly(server))
    return health


async def start_server(
    runtime: Runtime,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    security: GatewaySecurity,
    options: list[tuple[str, Any]] | None = None,
    interceptors: Sequence[aio.ServerInterceptor] = (),
    limits: ServerLimits | None = None,
) -> GatewayServer:
    """Build, bind and start the gateway; `port=0` picks a free port (see `.port`).

    `security` says whom to let in and whether to speak TLS; there is no default, so no
    server starts open by accident. `interceptors` run after (inside) the built-in one,
    closest to the servicers; tests use them to inject faults. `limits` (default: the generous
    `ServerLimits()`) sets rate limits, the stream cap, concurrent calls and transport options;
    entries of `options` replace the transport options of the same name.
    """
    limits = limits or ServerLimits()
    streams = StreamSlots(limits.max_streams_per_tenant)
    interceptor = CallContextInterceptor(
        security.authenticator,
        RejectionAuditor(runtime.rejections),
        security.security_log,
        rate_limiter=RateLimiter(limits.rates),
        streams=streams,
    )
    merged = dict(server_options(limits.transport))
    merged.update(options or [])
    # Without inner interceptors the edge wraps each handler once, at registration (no
    # interceptor runs per call); with them it is the outer interceptor, so they run inside it.
    server = aio.server(
        interceptors=[interceptor, *interceptors] if interceptors else None,
        options=list(merged.items()),
        maximum_concurrent_rpcs=limits.max_concurrent_rpcs or None,
    )
    _add_servicers(server, runtime, security, None if interceptors else interceptor.wrap)
    health = await _add_health(server, security.authenticator.enabled)
    # reflection.enable_server_reflection, registered as a generic handler (see _GenericOnly)
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    names = (*SERVICE_NAMES, health_name, reflection.SERVICE_NAME)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        reflection.aio.ReflectionServicer(names),
        _GenericOnly(server),
    )
    address = f"{host}:{port}"
    if security.tls is not None:
        bound = server.add_secure_port(address, server_credentials(security.tls))
    else:
        bound = server.add_insecure_port(address)
    if bound == 0:
        raise OSError(f"could not bind {host}:{port}")
    await server.start()
    return GatewayServer(server, health, bound, streams)
