"""actors/direct.py over real sockets: frames in order, the secret, broken and refused channels."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from actors.direct import HEADER, MAX_FRAME, ChannelClient, ChannelLost, ChannelServer, Endpoint


@pytest.fixture
def upper() -> Iterator[ChannelServer]:
    server = ChannelServer(lambda body: body.upper())
    yield server
    server.close()


async def test_replies_come_back_in_order_and_whole(upper: ChannelServer) -> None:
    client = await ChannelClient.connect(upper.endpoint)
    big = b"x" * (3 * 1024 * 1024)
    assert await client.call(b"first") == b"FIRST"
    assert await client.call(big) == big.upper()
    assert await client.call(b"") == b""
    client.close()


async def test_concurrent_calls_on_one_client_each_get_their_own_reply(upper: ChannelServer) -> None:
    client = await ChannelClient.connect(upper.endpoint)
    bodies = [f"call {i}".encode() for i in range(50)]
    replies = await asyncio.gather(*(client.call(body) for body in bodies))
    assert replies == [body.upper() for body in bodies]
    client.close()


async def test_a_wrong_secret_gets_no_reply(upper: ChannelServer) -> None:
    wrong = Endpoint(upper.endpoint.host, upper.endpoint.port, b"\x00" * len(upper.endpoint.secret))
    client = await ChannelClient.connect(wrong)
    with pytest.raises(ChannelLost):
        await client.call(b"let me in")
    assert client.closed


async def test_the_handler_is_not_reached_without_the_secret() -> None:
    seen: list[bytes] = []

    def record(body: bytes) -> bytes:
        seen.append(body)
        return body

    server = ChannelServer(record)
    try:
        with socket.create_connection((server.endpoint.host, server.endpoint.port)) as raw:
            raw.sendall(HEADER.pack(5) + b"hello" + HEADER.pack(4) + b"ping")
            assert raw.recv(16) == b""  # closed without an answer
        assert seen == []
    finally:
        server.close()


async def test_an_oversized_frame_closes_the_connection(upper: ChannelServer) -> None:
    secret = upper.endpoint.secret
    with socket.create_connection((upper.endpoint.host, upper.endpoint.port)) as raw:
        raw.sendall(HEADER.pack(len(secret)) + secret + HEADER.pack(MAX_FRAME + 1))
        assert raw.recv(16) == b""


async def test_a_handler_that_raises_ends_the_channel_and_the_caller_knows() -> None:
    def boom(body: bytes) -> bytes:
        if body == b"boom":
            raise RuntimeError("handler failed")
        return body

    server = ChannelServer(boom)
    try:
        client = await ChannelClient.connect(server.endpoint)
        assert await client.call(b"fine") == b"fine"
        with pytest.raises(ChannelLost):
            await client.call(b"boom")
        with pytest.raises(ChannelLost):  # a broken channel stays closed: the caller reconnects
            await client.call(b"fine")
        again = await ChannelClient.connect(server.endpoint)
        assert await again.call(b"fine") == b"fine"
        again.close()
    finally:
        server.close()


async def test_a_shard_that_dies_mid_call_gives_channel_lost() -> None:
    # a peer that takes the request and closes without replying, as a killed shard process does
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        host, port = listener.getsockname()
        got_request = threading.Event()

        def die_after_request() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(HEADER.size + 32 + HEADER.size + 9)
                got_request.set()

        peer = threading.Thread(target=die_after_request)
        peer.start()
        client = await ChannelClient.connect(Endpoint(host, port, b"s" * 32))
        with pytest.raises(ChannelLost):
            await client.call(b"in flight")
        peer.join()
        assert got_request.is_set()
        assert client.closed


async def test_a_client_knows_the_shard_hung_up_before_it_sends_again() -> None:
    # a peer that takes the secret and hangs up, as a shard whose process dies between batches
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        host, port = listener.getsockname()

        def hang_up() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(HEADER.size + 32)

        peer = threading.Thread(target=hang_up)
        peer.start()
        client = await ChannelClient.connect(Endpoint(host, port, b"s" * 32))
        await asyncio.to_thread(peer.join)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 10
        while client.usable and loop.time() < give_up:
            await asyncio.sleep(0)  # let the loop read the peer's FIN
        assert not client.usable


async def test_connecting_to_nothing_gives_channel_lost() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ChannelLost):
        await ChannelClient.connect(Endpoint("127.0.0.1", port, b"s" * 32))
