"""tests/host/test_ordering.py over the in-memory store."""

from tests.host.test_ordering import *  # noqa: F403
