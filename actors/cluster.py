"""Joining or starting Ray for a gateway process."""

from __future__ import annotations

import ray


def start_ray(address: str | None, num_cpus: int | None) -> bool:
    """Join the cluster at `address`, or start a local Ray; True when this process started it."""
    if address:
        ray.init(address=address, namespace="q2c", log_to_driver=False)
        return False
    # ray.init() picks a free GCS port, so a Redis on 6379 is left alone.
    ray.init(num_cpus=num_cpus, include_dashboard=False, namespace="q2c", log_to_driver=False)
    return True


def stop_ray() -> None:
    """Shut down the Ray this process started."""
    ray.shutdown()
