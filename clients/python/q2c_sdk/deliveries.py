"""DeliveryService methods of the q2c client (one per RPC; see `q2c/v1/delivery.proto`)."""

from __future__ import annotations

from typing import Unpack

from q2c.v1 import delivery_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import CallOptions, MutationOptions


class DeliveryMethods(Bound):
    """DeliveryService: outbound ERP / PSA deliveries, dead letters and their retry."""

    def list_dead_letters(
        self, request: delivery_pb2.ListDeadLettersRequest, **options: Unpack[CallOptions]
    ) -> delivery_pb2.ListDeadLettersResponse:
        """Lists the tenant's dead letters, oldest first, filtered by destination, operation and
        engagement.

        `DeliveryService.ListDeadLetters`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.deliveries.ListDeadLetters, request, delivery_pb2.ListDeadLettersResponse, options
        )

    def get_dead_letter(
        self, request: delivery_pb2.GetDeadLetterRequest, **options: Unpack[CallOptions]
    ) -> delivery_pb2.Delivery:
        """Returns one delivery item (usually a dead letter) with its attempt history.

        `DeliveryService.GetDeadLetter`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.deliveries.GetDeadLetter, request, delivery_pb2.Delivery, options
        )

    def retry_dead_letter(
        self, request: delivery_pb2.RetryDeadLetterRequest, **options: Unpack[MutationOptions]
    ) -> delivery_pb2.RetryDeadLetterResponse:
        """DEAD -> PENDING: one dead letter (`delivery_id`) or every one matching the filters
        (`all_matching=True`); returns the ids moved.

        `DeliveryService.RetryDeadLetter`. Mutation: idempotent by request_id (set automatically;
        retried on UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.deliveries.RetryDeadLetter, request, delivery_pb2.RetryDeadLetterResponse, options
        )

    def list_deliveries(
        self, request: delivery_pb2.ListDeliveriesRequest, **options: Unpack[CallOptions]
    ) -> delivery_pb2.ListDeliveriesResponse:
        """Lists the tenant's delivery items of any status, filtered by status, destination,
        operation and engagement.

        `DeliveryService.ListDeliveries`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.deliveries.ListDeliveries, request, delivery_pb2.ListDeliveriesResponse, options
        )

    def get_delivery_stats(
        self, request: delivery_pb2.GetDeliveryStatsRequest, **options: Unpack[CallOptions]
    ) -> delivery_pb2.DeliveryStats:
        """Returns the tenant's delivery counts per destination, and the outbox lag.

        `DeliveryService.GetDeliveryStats`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.deliveries.GetDeliveryStats, request, delivery_pb2.DeliveryStats, options
        )
