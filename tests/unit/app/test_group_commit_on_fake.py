"""tests/host/test_group_commit.py over the in-memory store."""

from tests.host.test_group_commit import *  # noqa: F403
