"""ERP/PSA simulator shipped with q2c: an HTTP/JSON stand-in for downstream systems.

It runs as its own process with its own SQLite store, is idempotent by key, and injects
faults on demand (latency, timeouts, throttling, errors, maintenance windows, malformed
replies and crash-after-commit-before-reply). See ``simulator/README.md``.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
