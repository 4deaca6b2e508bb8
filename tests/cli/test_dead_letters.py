"""`q2c dead-letters` against a server that does host q2c.v1.DeliveryService.

This CLI has no stubs for DeliveryService (it does not exist yet); it discovers the service by
reflection. A stand-in server, built from descriptors made here, shows that path works.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection

from clients.cli import main

FIELD = descriptor_pb2.FieldDescriptorProto
SERVICE = "q2c.v1.DeliveryService"


def _message(name: str, *fields: tuple[str, int, int, str]) -> descriptor_pb2.DescriptorProto:
    """A message type: (name, number, type, type_name) per field; type_name '' for scalars."""
    proto = descriptor_pb2.DescriptorProto(name=name)
    for field_name, number, kind, type_name in fields:
        label = FIELD.LABEL_REPEATED if type_name else FIELD.LABEL_OPTIONAL
        field = proto.field.add(name=field_name, number=number, type=kind, label=label)
        if type_name:
            field.type_name = type_name
    return proto


def _delivery_pool() -> descriptor_pool.DescriptorPool:
    """A stand-in q2c.v1.DeliveryService: ListDeadLetters (paged) and GetDeadLetter."""
    file = descriptor_pb2.FileDescriptorProto(name="fake/delivery.proto", package="q2c.v1", syntax="proto3")
    file.message_type.extend(
        [
            _message(
                "DeadLetter",
                ("dead_letter_id", 1, FIELD.TYPE_STRING, ""),
                ("event_type", 2, FIELD.TYPE_STRING, ""),
                ("attempts", 3, FIELD.TYPE_INT32, ""),
            ),
            _message(
                "ListDeadLettersRequest",
                ("page_size", 1, FIELD.TYPE_INT32, ""),
                ("page_token", 2, FIELD.TYPE_STRING, ""),
            ),
            _message(
                "ListDeadLettersResponse",
                ("dead_letters", 1, FIELD.TYPE_MESSAGE, ".q2c.v1.DeadLetter"),
                ("next_page_token", 2, FIELD.TYPE_STRING, ""),
            ),
            _message("GetDeadLetterRequest", ("dead_letter_id", 1, FIELD.TYPE_STRING, "")),
        ]
    )
    service = file.service.add(name="DeliveryService")
    service.method.add(
        name="ListDeadLetters",
        input_type=".q2c.v1.ListDeadLettersRequest",
        output_type=".q2c.v1.ListDeadLettersResponse",
    )
    service.method.add(
        name="GetDeadLetter", input_type=".q2c.v1.GetDeadLetterRequest", output_type=".q2c.v1.DeadLetter"
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return pool


def _handlers(pool: descriptor_pool.DescriptorPool) -> grpc.GenericRpcHandler:
    types = {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"q2c.v1.{name}"))
        for name in (
            "DeadLetter",
            "ListDeadLettersRequest",
            "ListDeadLettersResponse",
            "GetDeadLetterRequest",
        )
    }
    letter = types["DeadLetter"](dead_letter_id="dl-1", event_type="InvoiceIssued", attempts=5)

    def list_letters(request: Any, context: grpc.ServicerContext) -> Any:
        return types["ListDeadLettersResponse"](dead_letters=[letter])

    def get_letter(request: Any, context: grpc.ServicerContext) -> Any:
        if request.dead_letter_id != "dl-1":
            context.abort(grpc.StatusCode.NOT_FOUND, "dead letter not found")
        return letter

    def unary(fn: Any, request: str, response: str) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(
            fn,
            request_deserializer=types[request].FromString,
            response_serializer=types[response].SerializeToString,
        )

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "ListDeadLetters": unary(list_letters, "ListDeadLettersRequest", "ListDeadLettersResponse"),
            "GetDeadLetter": unary(get_letter, "GetDeadLetterRequest", "DeadLetter"),
        },
    )


@pytest.fixture(scope="module")
def delivery_target() -> Iterator[str]:
    """A sync gRPC server hosting only the stand-in DeliveryService, with reflection."""
    pool = _delivery_pool()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((_handlers(pool),))
    reflection.enable_server_reflection((SERVICE, reflection.SERVICE_NAME), server, pool=pool)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(grace=None)


def test_dead_letters_list_uses_the_service_found_by_reflection(
    delivery_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--target", delivery_target, "dead-letters", "list"]) == 0
    out = capsys.readouterr().out
    assert "dl-1" in out and "InvoiceIssued" in out and "attempts" in out


def test_dead_letters_get_in_json_and_not_found(
    delivery_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--target", delivery_target, "--json", "dead-letters", "get", "dl-1"]) == 0
    assert '"attempts": 5' in capsys.readouterr().out
    assert main(["--target", delivery_target, "dead-letters", "get", "dl-2"]) == 4
    assert capsys.readouterr().err.startswith("error: NOT_FOUND: dead letter not found")
