"""ReconciliationService: reconcile the caller's tenant with the ERP (runtime.reconciler)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from q2c.v1 import reconciliation_pb2, reconciliation_pb2_grpc
from q2c_core.app.reconciliation.requests import run_requested
from q2c_core.domain.errors import PreconditionError
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters.convert_reconciliation import grace_period_in, report_out
from q2c_core.edge.deadlines import RECONCILIATION_SECONDS, require_time
from q2c_core.edge.servicers import Context

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime


class ReconciliationServicer(reconciliation_pb2_grpc.ReconciliationServiceServicer):
    """q2c.v1.ReconciliationService over a Runtime (its reconciler is None without an ERP)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def RunReconciliation(
        self, request: reconciliation_pb2.RunReconciliationRequest, context: Context
    ) -> reconciliation_pb2.ReconciliationReport:
        """Reconcile the caller's tenant now; the stored report for a request_id seen before."""
        grace = grace_period_in(request)
        reconciler = self.runtime.reconciler
        if reconciler is None:
            raise PreconditionError(
                "ERP_NOT_CONFIGURED", "this server has no ERP to reconcile with (start it with --erp-url)"
            )
        require_time("a reconciliation", RECONCILIATION_SECONDS)
        report = await run_requested(reconciler, current_caller(), request.request_id or None, grace)
        return report_out(report)
