"""actors.cluster.start_ray's local head: GCS, raylet and its agents, without the autoscaler
monitor, the log monitor and the API server; actors, named actors and shutdown still work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]

# Run in a child process: the test session already has its own Ray (tests/conftest.py).
PROBE = """
import json, os, time
from pathlib import Path
import ray
from ray._private import node as ray_node
from actors.cluster import start_ray, stop_ray

def tree(root):
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent[int(entry)] = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        kids = [p for p, pp in parent.items() if pp == pid]
        found += kids
        todo += kids
    return found

def command(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\\0", b" ").decode()
    except OSError:
        return ""

def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

base = ray_node.Node
started = start_ray(None, 1)

@ray.remote(num_cpus=0)
class Probe:
    def pid(self):
        return os.getpid()

probe = Probe.options(name="probe", namespace="q2c").remote()  # kept: an unreferenced actor exits
actor_pid = ray.get(ray.get_actor("probe", namespace="q2c").pid.remote())
pids = tree(os.getpid())
commands = [command(p) for p in pids]
stop_ray()
deadline = time.monotonic() + 30
while any(alive(p) for p in pids) and time.monotonic() < deadline:
    time.sleep(0.1)  # polling the processes' exit, not synchronising with q2c
print(json.dumps({
    "started": started,
    "node_class_restored": ray_node.Node is base,
    "actor_in_tree": actor_pid in pids,
    "commands": commands,
    "alive_after_stop": [command(p) for p in pids if alive(p)],
}))
"""


def test_local_head_runs_actors_without_the_monitors_and_api_server() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["started"] and found["node_class_restored"] and found["actor_in_tree"]
    commands = found["commands"]
    assert any("gcs_server" in c for c in commands) and any("/raylet " in c for c in commands)
    for skipped in ("autoscaler/_private/monitor.py", "_private/log_monitor.py", "dashboard/dashboard.py"):
        assert not any(skipped in c for c in commands), skipped
    assert found["alive_after_stop"] == []
