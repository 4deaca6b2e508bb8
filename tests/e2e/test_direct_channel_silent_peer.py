"""A shard's node that vanishes without closing its sockets breaks the direct channel; a shard
that is only busy does not.

The peer runs in a network namespace of its own behind a veth pair (iproute2, which
scripts/test.sh installs when missing; as root, or through `sudo -n` otherwise). Taking the
host's end of the pair down drops every packet silently, as a powered-off node or a partition
does: no FIN, no RST. Keepalive is shortened here (its limit is a module setting) so the test
takes seconds, not the production limit.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from actors import direct
from actors.direct import ChannelClient, ChannelLost, Endpoint

pytestmark = pytest.mark.e2e

LIMIT = 3
"""The shortened keepalive limit, seconds (1 s idle, then 2 probes 1 s apart)."""

PEER = """
import socket, sys
listener = socket.create_server((sys.argv[1], 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
while conn.recv(65536):  # takes the secret and every request, answers nothing: a busy shard
    pass
"""


@dataclass(frozen=True)
class Namespace:
    name: str
    host_link: str
    peer_address: str


AS_ROOT = [] if os.geteuid() == 0 else ["sudo", "-n"]


def _ip(*args: str) -> None:
    subprocess.run([*AS_ROOT, "ip", *args], check=True, capture_output=True)


@pytest.fixture
def namespace() -> Iterator[Namespace]:
    """A network namespace reachable from here over a veth pair, removed afterwards."""
    tag = secrets.token_hex(3)
    name, host_link, peer_link = f"q2c-ka-{tag}", f"q2ch{tag}", f"q2cn{tag}"
    subnet = f"10.{secrets.randbelow(200) + 20}.{secrets.randbelow(250)}"
    _ip("netns", "add", name)
    try:
        _ip("link", "add", host_link, "type", "veth", "peer", "name", peer_link)
        _ip("link", "set", peer_link, "netns", name)
        _ip("addr", "add", f"{subnet}.1/30", "dev", host_link)
        _ip("link", "set", host_link, "up")
        _ip("netns", "exec", name, "ip", "addr", "add", f"{subnet}.2/30", "dev", peer_link)
        _ip("netns", "exec", name, "ip", "link", "set", peer_link, "up")
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield Namespace(name, host_link, f"{subnet}.2")
    finally:
        subprocess.run([*AS_ROOT, "ip", "link", "del", host_link], capture_output=True)
        subprocess.run([*AS_ROOT, "ip", "netns", "del", name], capture_output=True)


@pytest.fixture
def short_keepalive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(direct, "KEEPALIVE_IDLE_SECONDS", 1)
    monkeypatch.setattr(direct, "KEEPALIVE_INTERVAL_SECONDS", 1)
    monkeypatch.setattr(direct, "KEEPALIVE_PROBES", 2)
    monkeypatch.setattr(direct, "KEEPALIVE_LIMIT_SECONDS", LIMIT)


async def test_a_busy_shard_keeps_its_channel_and_a_vanished_node_breaks_it(
    namespace: Namespace, short_keepalive: None
) -> None:
    peer = subprocess.Popen(
        [*AS_ROOT, "ip", "netns", "exec", namespace.name, sys.executable, "-c", PEER, namespace.peer_address],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert peer.stdout is not None
        port = int(await asyncio.to_thread(peer.stdout.readline))
        client = await ChannelClient.connect(Endpoint(namespace.peer_address, port, b"s" * 32))
        call = asyncio.create_task(client.call(b"a batch the shard is still working on"))

        # the peer's kernel answers every probe: three times the limit later the call still waits
        done, _ = await asyncio.wait({call}, timeout=3 * LIMIT)
        assert not done and client.usable

        _ip("link", "set", namespace.host_link, "down")  # from now on every packet is lost
        with pytest.raises(ChannelLost):
            await asyncio.wait_for(call, 10 * LIMIT)
        assert client.closed
    finally:
        peer.kill()
        peer.wait()
