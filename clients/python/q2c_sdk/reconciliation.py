"""ReconciliationService methods of the q2c client (see `q2c/v1/reconciliation.proto`).

One method per RPC, generated into `q2c_sdk._gen_reconciliation` by scripts/gen_sdk.py; friendly
helpers that do more than one call go here.
"""

from __future__ import annotations

from q2c_sdk._gen_reconciliation import ReconciliationServiceMethods


class ReconciliationMethods(ReconciliationServiceMethods):
    """ReconciliationService: q2c's invoices and payments reconciled with the ERP's documents.

    `run_reconciliation` reads the whole ERP: give a generous `timeout` for large ledgers (a retry
    after UNAVAILABLE completes the same reconciliation).
    """
