"""A Ray cluster of several nodes on this machine, started with `ray start` (a head and workers).

    with ray_cluster(workers=1) as cluster:        # head (node_a) + one worker (node_b)
        print(cluster.address)                      # pass to `q2c serve --ray-address`
        cluster.kill_node(cluster.nodes[1])         # a machine loss: SIGKILL the node's processes
    # every process the cluster started is gone, its temp dir removed

Each node is its own `ray start` (own raylet, object store, agents) with explicit, distinct
ports, never 6379 (Redis holds it), one CPU, a small object store, a resource label (`node_a`,
`node_b`, ...) and its own session id: every process a node starts (raylet, agents, workers,
actors) shares the session of the `ray start` that began it, so stopping or killing a node is
signalling exactly those process ids. `ray stop` is never used: it stops every Ray on the machine.

The cluster's temp dir is its own, so `ray_current_cluster` is written there and a plain
`ray.init()` elsewhere on the machine (a test session's own Ray) never joins this cluster.
Node loss is detected by the GCS health check, tightened here (1 s period, 3 failures) so a
restarted actor is back within the bill-run coordinator's retry budget (about 13 s).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RAY = str(Path(sys.executable).with_name("ray"))
PORTS_PER_NODE = 10
WORKER_PORTS = 60
HEALTH_CHECK = {
    "RAY_health_check_initial_delay_ms": "1000",
    "RAY_health_check_period_ms": "1000",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}
"""GCS node health check: a lost node is declared dead ~3-4 s after it goes (default ~15 s)."""


def ray_env() -> dict[str, str]:
    """Environment for Ray processes and drivers of the cluster: token auth, fast node-loss
    detection, and no inherited RAY_ADDRESS pointing elsewhere."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(HEALTH_CHECK)
    env["RAY_AUTH_MODE"] = "token"
    return env


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def free_port_block(size: int) -> int:
    """The first port of `size` consecutive free ports in 20000-39999 (none of them 6379)."""
    rng = int.from_bytes(os.urandom(2), "big")
    for attempt in range(200):
        base = 20000 + ((rng + attempt * 997) % 19000) // 10 * 10
        if all(_port_free(p) for p in range(base, base + size)):
            return base
    raise RuntimeError("no free port block")


@dataclass
class RayNode:
    """One `ray start` of the cluster: its label resource, ports and session (process) id."""

    label: str
    head: bool
    base_port: int
    session: int = 0
    node_id: str = ""

    def flags(self) -> list[str]:
        """The `ray start` port flags of this node: base+0..9, workers from base+10."""
        p = self.base_port
        flags = [
            f"--node-manager-port={p + 1}",
            f"--object-manager-port={p + 2}",
            f"--dashboard-agent-grpc-port={p + 3}",
            f"--dashboard-agent-listen-port={p + 4}",
            f"--runtime-env-agent-port={p + 5}",
            f"--metrics-export-port={p + 6}",
            f"--min-worker-port={p + PORTS_PER_NODE}",
            f"--max-worker-port={p + PORTS_PER_NODE + WORKER_PORTS - 1}",
        ]
        if self.head:
            flags += [f"--port={p}", f"--ray-client-server-port={p + 7}", "--include-dashboard=false"]
        return flags

    def pids(self) -> list[int]:
        """Every live process of this node (the session `ray start` began)."""
        return session_pids(self.session)


def session_pids(session: int) -> list[int]:
    """Live pids whose session id is `session` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                fields = stat.rsplit(")", 1)[1].split()
                if int(fields[3]) == session and fields[0] != "Z":
                    found.append(int(entry))
    return found


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


@dataclass
class RayCluster:
    """A head and worker nodes on this machine; `address` is the head's GCS address."""

    temp_dir: Path
    object_store_bytes: int = 80 * 1024 * 1024
    pin: bool = False
    """Pin node i's processes to core i mod cores (taskset), as if each node were a machine."""
    nodes: list[RayNode] = field(default_factory=list)
    address: str = ""

    def _start(self, node: RayNode) -> None:
        command = [
            RAY,
            "start",
            "--head" if node.head else f"--address={self.address}",
            "--num-cpus=1",
            f"--object-store-memory={self.object_store_bytes}",
            f"--resources={json.dumps({node.label: 1})}",
            f"--temp-dir={self.temp_dir}",
            "--disable-usage-stats",
            *node.flags(),
        ]
        if self.pin:  # every process the node starts inherits the affinity
            command = ["taskset", "-c", str(self.nodes.index(node) % (os.cpu_count() or 1)), *command]
        # start_new_session: the node's processes keep this session id, whoever their parent.
        proc = subprocess.run(
            command, env=ray_env(), capture_output=True, text=True, start_new_session=True, timeout=120
        )
        node.session = _session_of_ray_start(proc, node)
        if proc.returncode != 0:
            raise RuntimeError(f"ray start ({node.label}) failed: {proc.stderr[-2000:]}")
        if node.head:
            self.address = (self.temp_dir / "ray_current_cluster").read_text().strip()
        node.node_id = self._wait_for_node(node)

    def add_node(self) -> RayNode:
        """Start the next node (the first is the head), labelled node_a, node_b, ..."""
        label = f"node_{chr(ord('a') + len(self.nodes))}"
        node = RayNode(label, head=not self.nodes, base_port=free_port_block(PORTS_PER_NODE + WORKER_PORTS))
        self.nodes.append(node)
        self._start(node)
        return node

    def _wait_for_node(self, node: RayNode, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for row in self.node_table():
                if row["Alive"] and row["Resources"].get(node.label):
                    return str(row["NodeID"])
            time.sleep(0.2)
        raise RuntimeError(f"{node.label} did not join the cluster")

    def probe(self) -> dict[str, Any]:
        """{"nodes": [...], "actors": [...]} read from the GCS by a short helper process
        (no driver: it never joins the cluster, and the caller may be in another Ray)."""
        proc = subprocess.run(
            [sys.executable, "-m", "bench.multinode", "probe", self.address],
            env=ray_env(),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=Path(__file__).resolve().parent.parent,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"probe failed: {proc.stderr[-2000:]}")
        answer: dict[str, Any] = json.loads(proc.stdout)
        return answer

    def node_table(self) -> list[dict[str, Any]]:
        """GCS node table rows (NodeID, Alive, Resources, ...)."""
        rows: list[dict[str, Any]] = self.probe()["nodes"]
        return rows

    def actors(self, prefix: str = "") -> dict[str, dict[str, Any]]:
        """Named actors (name starting with `prefix`) -> {state, node_id, pid, restarts}; of
        several actors that held one name (a dead one and its successor), the live one."""
        named = [a for a in self.probe()["actors"] if a["name"] and a["name"].startswith(prefix)]
        return {a["name"]: a for a in sorted(named, key=lambda a: a["state"] == "ALIVE")}

    def actor_history(self, prefix: str) -> list[tuple[str, str, str]]:
        """Every actor (dead ones too) whose name starts with `prefix`: (name, node label, state)."""
        named = [a for a in self.probe()["actors"] if a["name"] and a["name"].startswith(prefix)]
        return sorted((a["name"], self.label_of(a["node_id"]), a["state"]) for a in named)

    def label_of(self, node_id: str) -> str:
        """node_a, node_b, ... of a node id."""
        return next((n.label for n in self.nodes if n.node_id == node_id), "?")

    def kill_node(self, node: RayNode) -> int:
        """A machine loss: SIGKILL every process of the node (raylet, agents, workers, actors)
        until none is left. Returns how many processes were killed."""
        killed: set[int] = set()
        for _ in range(50):
            pids = node.pids()
            if not pids:
                return len(killed)
            killed.update(pids)
            _signal_all(pids, signal.SIGKILL)
            time.sleep(0.05)
        raise RuntimeError(f"{node.label}: processes survive SIGKILL: {node.pids()}")

    def stop(self) -> None:
        """Stop every node (workers first): SIGTERM, then SIGKILL what is left after 5 s."""
        for node in reversed(self.nodes):
            _signal_all(node.pids(), signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(n.pids() for n in self.nodes):
            time.sleep(0.1)
        for node in self.nodes:
            self.kill_node(node)


def _session_of_ray_start(proc: subprocess.CompletedProcess[str], node: RayNode) -> int:
    # `ray start` (the session leader) has exited; its session id lives on in the node's
    # processes. Find it from the raylet listening on this node's node-manager port.
    needle = f"--node_manager_port={node.base_port + 1}"
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                if needle in cmd and "raylet" in cmd:
                    return int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[3])
    raise RuntimeError(f"ray start ({node.label}): no raylet found: {proc.stderr[-2000:]}")


@contextlib.contextmanager
def ray_cluster(
    workers: int = 1, object_store_bytes: int = 80 * 1024 * 1024, *, pin: bool = False
) -> Iterator[RayCluster]:
    """A head plus `workers` worker nodes; everything stopped and removed afterwards."""
    temp_dir = Path(tempfile.mkdtemp(prefix="q2cmn-", dir="/tmp"))  # short: socket paths
    cluster = RayCluster(temp_dir, object_store_bytes, pin)
    try:
        for _ in range(1 + workers):
            cluster.add_node()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(temp_dir, ignore_errors=True)


def _probe(address: str) -> dict[str, Any]:
    from ray._private.internal_api import get_state_from_address

    state = get_state_from_address(address)
    actors = [
        {
            "name": a["Name"],
            "state": a["State"],
            "node_id": a["Address"]["NodeID"],
            "pid": a["Pid"],
            "restarts": a["NumRestarts"],
            "class": a["ActorClassName"],
        }
        for a in state.actor_table(None).values()
    ]
    nodes = [{k: row[k] for k in ("NodeID", "Alive", "Resources")} for row in state.node_table()]
    return {"nodes": nodes, "actors": actors}


if __name__ == "__main__":  # python -m bench.multinode probe <gcs address>
    if sys.argv[1:2] != ["probe"] or len(sys.argv) != 3:
        raise SystemExit("usage: python -m bench.multinode probe <gcs address>")
    print(json.dumps(_probe(sys.argv[2])))
