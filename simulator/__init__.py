"""ERP/PSA simulator shipped with q2c: an HTTP/JSON stand-in for downstream systems.

It runs as its own process with its own SQLite store, is idempotent by key, and injects
faults on demand (latency, timeouts, throttling, errors, maintenance windows, malformed
replies and crash-after-commit-before-reply). See ``simulator/README.md``.

Reading back (what q2c's reconciliation compares with): ``GET /erp/invoices`` and
``GET /erp/payments`` list every document in number order; with ``?limit=N`` (1..1000) one
page, continued by ``?after=<next_after>&limit=N`` until ``next_after`` is null.

Tests only: ``POST /admin/tamper`` plants a mismatch in a posted document, as if someone had
edited the ERP by hand. Body ``{"kind": "invoice"|"payment", "key": K, "set": {field: value}}``
overwrites payload fields; ``{"kind": ..., "key": K, "delete": true}`` deletes the document.
Replies 200 with the document as it now is (``deleted`` true after a delete), 404 for an
unknown key, 400 for a malformed body; never faulted. The key's fingerprint is kept, so a
re-post of the original payload replays the altered document. A duplicate needs no admin
call: post the same payload under another ``Idempotency-Key``.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
