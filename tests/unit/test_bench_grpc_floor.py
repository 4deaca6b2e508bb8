"""bench/grpc_floor.py, the do-nothing gRPC servers `bench.compare --systems floor` measures: each
answers any method of q2c's API with an empty reply, and the compare mix runs through them."""

from __future__ import annotations

import argparse
from pathlib import Path

import grpc
import pytest

from bench.compare import COMMANDS_PER_ENGAGEMENT, floor_server, plans, run_floor
from q2c.v1 import engagement_pb2, engagement_pb2_grpc


@pytest.mark.parametrize("kind", ["aio", "sync"])
def test_any_method_gets_an_empty_reply(kind: str, tmp_path: Path) -> None:
    with (
        floor_server(kind, tmp_path / "floor.log") as (target, _pid),
        grpc.insecure_channel(target) as channel,
    ):
        stub = engagement_pb2_grpc.EngagementServiceStub(channel)
        reply = stub.QualifyEngagement(
            engagement_pb2.QualifyEngagementRequest(request_id="r1", engagement_id="e1"), timeout=10
        )
        assert reply == engagement_pb2.Engagement()


def test_the_compare_mix_runs_through_both_floors(tmp_path: Path) -> None:
    args = argparse.Namespace(seed=7, warmup=1, clients=[2], deadline=10.0, view="basic")
    work = {2: plans(7, "C2", 3)}
    result = run_floor(args, work, tmp_path)
    assert set(result[2]) == {"aio", "sync"}
    for summary in result[2].values():
        assert summary["commands"] == 3 * COMMANDS_PER_ENGAGEMENT
        assert summary["errors"] == 0 and summary["problems"] == []
        assert summary["cpu_ms_per_command"]["server"] >= 0
