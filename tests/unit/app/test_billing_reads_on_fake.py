"""tests/host/test_billing_reads.py over the in-memory store."""

from tests.host.test_billing_reads import *  # noqa: F403
