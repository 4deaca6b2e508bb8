"""tests/host/test_catalog.py over the in-memory store."""

from tests.host.test_catalog import *  # noqa: F403
