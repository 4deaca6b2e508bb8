"""ReportingService: the tenant's business KPIs for a period (runtime.kpis, folded from its events)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from q2c.v1 import reporting_pb2, reporting_pb2_grpc
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters.convert_reporting import kpis_out, period_in
from q2c_core.edge.servicers import Context, blocking

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime


class ReportingServicer(reporting_pb2_grpc.ReportingServiceServicer):
    """q2c.v1.ReportingService over a Runtime's KPI reports."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime  # its KPI reports are looked up per call, as reads are wired late

    async def GetKpis(self, request: reporting_pb2.GetKpisRequest, context: Context) -> reporting_pb2.Kpis:
        """The caller's tenant's KPIs for [start_time, end_time)."""
        start, end = period_in(request)
        report = await blocking(self.runtime.kpis.report, current_caller().tenant_id, start, end)
        return kpis_out(report)
