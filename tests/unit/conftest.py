"""Hypothesis settings for the pure-core suite: modest, deterministic, no deadlines."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "q2c-unit",
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("q2c-unit")
