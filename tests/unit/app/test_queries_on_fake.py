"""tests/host/test_queries.py over the in-memory store."""

from tests.host.test_queries import *  # noqa: F403
