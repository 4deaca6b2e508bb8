"""A gRPC server that does nothing: the floor under any Python gRPC service on this machine.

    python -m bench.grpc_floor --port 50099 --kind aio     # grpc.aio, as q2c's gateway
    python -m bench.grpc_floor --port 50099 --kind sync    # grpc's thread-pool server

Every unary method of every service is answered at once with an empty message (the default of
whatever reply type the caller expects): no authentication, no decoding, no work. `bench.compare
--systems floor` drives the month-end mix through it with the same blocking client as q2c, so
its commands/s is the most any Python gRPC server could reach here, one RPC per command, and its
ratio to the eventsourcing library the most q2c's could be.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from concurrent import futures
from typing import Any

import grpc

EMPTY = b""


def _answer(request: bytes, context: Any) -> bytes:
    return EMPTY


async def _answer_async(request: bytes, context: Any) -> bytes:
    return EMPTY


class _Everything(grpc.GenericRpcHandler):
    """Every method, answered by one handler on raw bytes."""

    def __init__(self, kind: str) -> None:
        self._handler = grpc.unary_unary_rpc_method_handler(_answer_async if kind == "aio" else _answer)

    def service(self, handler_call_details: Any) -> Any:
        return self._handler


def serve_sync(port: int, workers: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    server.add_generic_rpc_handlers((_Everything("sync"),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"listening on 127.0.0.1:{port}", flush=True)
    stop.wait()
    server.stop(0)


async def serve_aio(port: int) -> None:
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((_Everything("aio"),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"listening on 127.0.0.1:{port}", flush=True)
    await stop.wait()
    await server.stop(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.grpc_floor", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--kind", choices=("aio", "sync"), default="aio")
    parser.add_argument("--workers", type=int, default=32, help="sync: the thread pool's size")
    args = parser.parse_args(argv)
    if args.kind == "aio":
        asyncio.run(serve_aio(args.port))
    else:
        serve_sync(args.port, args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
