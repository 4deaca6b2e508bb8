"""tests/host/test_residency.py over the in-memory store."""

from tests.host.test_residency import *  # noqa: F403
