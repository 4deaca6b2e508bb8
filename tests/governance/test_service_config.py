"""protos/q2c/v1/service_config.json, the published client service config (API_RULES.md rule 12):
every q2c.v1 service, retries on UNAVAILABLE only, retry throttling, no hedging; and grpcio
accepts it and retries exactly as it says."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest

from tests.governance.helpers import PROTOS

CONFIG_PATH = PROTOS / "q2c" / "v1" / "service_config.json"


def config() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(CONFIG_PATH.read_text(encoding="utf-8"))
    return loaded


def service_names() -> set[str]:
    names: set[str] = set()
    for proto in (PROTOS / "q2c" / "v1").glob("*.proto"):
        module = importlib.import_module(f"q2c.v1.{proto.stem}_pb2")
        names |= {svc.full_name for svc in module.DESCRIPTOR.services_by_name.values()}
    return names


def test_every_service_has_a_retry_policy_on_unavailable_only() -> None:
    cfg = config()
    covered: set[str] = set()
    for method_config in cfg["methodConfig"]:
        assert "hedgingPolicy" not in method_config, "grpcio ignores hedging (rule 12)"
        policy = method_config["retryPolicy"]
        assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
        assert 2 <= policy["maxAttempts"] <= 5
        for name in method_config["name"]:
            covered.add(name["service"])
    assert covered == service_names(), "service_config.json must name exactly the q2c.v1 services"
    assert cfg["retryThrottling"]["maxTokens"] > 0
    assert 0 < cfg["retryThrottling"]["tokenRatio"] <= 1


class _Flaky:
    """A raw handler that fails the first `failures` calls with `code`, then answers."""

    def __init__(self) -> None:
        self.calls = 0
        self.failures = 0
        self.code = grpc.StatusCode.UNAVAILABLE
        self.lock = threading.Lock()

    def __call__(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        with self.lock:
            self.calls += 1
            failing = self.calls <= self.failures
        if failing:
            context.abort(self.code, "injected")
        return b""


@pytest.fixture
def flaky() -> Iterator[tuple[_Flaky, str]]:
    handler = _Flaky()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "q2c.v1.CustomerService", {"GetCustomer": grpc.unary_unary_rpc_method_handler(handler)}
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield handler, f"127.0.0.1:{port}"
    finally:
        server.stop(0)


def call(target: str) -> grpc.StatusCode:
    options = [("grpc.service_config", CONFIG_PATH.read_text(encoding="utf-8")), ("grpc.enable_retries", 1)]
    with grpc.insecure_channel(target, options=options) as channel:
        stub = channel.unary_unary("/q2c.v1.CustomerService/GetCustomer")
        try:
            stub(b"", timeout=20)
        except grpc.RpcError as e:
            return e.code()
        return grpc.StatusCode.OK


def test_grpcio_retries_unavailable(flaky: tuple[_Flaky, str]) -> None:
    handler, target = flaky
    handler.failures = 2
    assert call(target) == grpc.StatusCode.OK
    assert handler.calls == 3


@pytest.mark.parametrize("code", [grpc.StatusCode.ABORTED, grpc.StatusCode.INTERNAL])
def test_grpcio_does_not_retry_other_codes(flaky: tuple[_Flaky, str], code: grpc.StatusCode) -> None:
    handler, target = flaky
    handler.failures, handler.code = 1, code
    assert call(target) == code
    assert handler.calls == 1
