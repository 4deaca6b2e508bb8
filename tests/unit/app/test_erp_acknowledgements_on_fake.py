"""tests/host/test_erp_acknowledgements.py over the in-memory store."""

from tests.host.test_erp_acknowledgements import *  # noqa: F403
