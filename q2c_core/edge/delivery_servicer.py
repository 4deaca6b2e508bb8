"""DeliveryService: dead letters, their retry, and delivery statistics (technical failures only;
business findings are ExceptionService's)."""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from q2c.v1 import delivery_pb2, delivery_pb2_grpc
from q2c_core.app.delivery.control import AUDIT_STREAM, DeliveryControl
from q2c_core.app.rejection_log import RejectedAttempt
from q2c_core.domain.errors import Q2cError
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters import convert_delivery as convert
from q2c_core.edge.deadlines import TENANT_STATS_SECONDS, require_time
from q2c_core.edge.servicers import Context, blocking, lister

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime

log = logging.getLogger(__name__)


class DeliveryServicer(delivery_pb2_grpc.DeliveryServiceServicer):
    """q2c.v1.DeliveryService over a Runtime's DeliveryControl."""

    def __init__(self, runtime: Runtime) -> None:
        self.control = self.reads = runtime.deliveries
        self.rejections = runtime.rejections

    ListDeadLetters = lister(
        "A page of the tenant's dead letters.",
        DeliveryControl.list_dead_letters,
        delivery_pb2.ListDeadLettersResponse,
        convert.delivery_out,
        lambda request: (convert.dead_letter_filter(request),),
    )

    async def GetDeadLetter(
        self, request: delivery_pb2.GetDeadLetterRequest, context: Context
    ) -> delivery_pb2.Delivery:
        """One item with its attempt history."""
        delivery_id = convert.delivery_id_in(request.delivery_id)
        item, attempts = await blocking(self.control.detail, current_caller().tenant_id, delivery_id)
        return convert.delivery_out(item, attempts)

    async def RetryDeadLetter(
        self, request: delivery_pb2.RetryDeadLetterRequest, context: Context
    ) -> delivery_pb2.RetryDeadLetterResponse:
        """Dead letters back to PENDING (one, or all matching); audited in stream "deliveries"."""
        try:
            wanted, reason = convert.retry_filter(request)
            moved = await blocking(
                self.control.retry, current_caller(), request.request_id or None, wanted, reason
            )
        except Q2cError as error:
            await self._audit_rejection(request, error)
            raise
        return delivery_pb2.RetryDeadLetterResponse(delivery_ids=moved)

    ListDeliveries = lister(
        "A page of the tenant's items of any status.",
        DeliveryControl.list_deliveries,
        delivery_pb2.ListDeliveriesResponse,
        convert.delivery_out,
        lambda request: (convert.delivery_filter(request),),
    )

    async def GetDeliveryStats(
        self, request: delivery_pb2.GetDeliveryStatsRequest, context: Context
    ) -> delivery_pb2.DeliveryStats:
        """Counts per destination and the outbox lag."""
        require_time("delivery statistics", TENANT_STATS_SECONDS)
        overview = await blocking(self.control.stats, current_caller().tenant_id)
        return convert.stats_out(overview)

    async def _audit_rejection(self, request: delivery_pb2.RetryDeadLetterRequest, error: Q2cError) -> None:
        """A refused retry goes on the "deliveries" chain with the accepted ones (the gateway's
        own rejection audit would file a retry filtered by engagement under the engagement)."""
        attempt = RejectedAttempt(
            stream_id=AUDIT_STREAM,
            command_type="RetryDeadLetter",
            request_id=request.request_id,
            payload_digest=hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest(),
            reason=error.reason,
        )
        try:
            await blocking(self.rejections.record, current_caller(), attempt)
        except Exception:
            log.exception("could not audit a rejected RetryDeadLetter")
        error.audited = True
