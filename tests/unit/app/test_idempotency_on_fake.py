"""tests/host/test_idempotency.py over the in-memory store."""

from tests.host.test_idempotency import *  # noqa: F403
