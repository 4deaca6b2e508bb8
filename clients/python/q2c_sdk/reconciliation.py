"""ReconciliationService methods of the q2c client (one per RPC; see `q2c/v1/reconciliation.proto`)."""

from __future__ import annotations

from typing import Unpack

from q2c.v1 import reconciliation_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import MutationOptions


class ReconciliationMethods(Bound):
    """ReconciliationService: q2c's invoices and payments reconciled with the ERP's documents."""

    def run_reconciliation(
        self, request: reconciliation_pb2.RunReconciliationRequest, **options: Unpack[MutationOptions]
    ) -> reconciliation_pb2.ReconciliationReport:
        """Reconciles the caller's tenant with the ERP now and returns the report; each mismatch
        raises a REVIEW exception for finance unless an identical one is still open.

        `ReconciliationService.RunReconciliation`. Mutation: idempotent by request_id (set
        automatically; retried on UNAVAILABLE, which completes the same reconciliation). Reads
        the whole ERP: give a generous `timeout` for large ledgers.
        """
        return self._transport.mutate(
            self._stubs.reconciliation.RunReconciliation,
            request,
            reconciliation_pb2.ReconciliationReport,
            options,
        )
