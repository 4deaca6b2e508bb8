"""RateCardService methods of the q2c client (one per RPC; see `q2c/v1/rate_card.proto`)."""

from __future__ import annotations

from typing import Unpack

from q2c.v1 import rate_card_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import CallOptions, MutationOptions


class RateCardMethods(Bound):
    """RateCardService: every RPC as a typed method taking the request message and per-call options."""

    def create_rate_card(
        self, request: rate_card_pb2.CreateRateCardRequest, **options: Unpack[MutationOptions]
    ) -> rate_card_pb2.RateCard:
        """Creates a rate card (revision 1) or, when rate_card_id names an existing rate card, its next
        revision.

        `RateCardService.CreateRateCard`. Mutation: idempotent by request_id (set automatically; retried on
        UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.rate_cards.CreateRateCard, request, rate_card_pb2.RateCard, options
        )

    def get_rate_card(
        self, request: rate_card_pb2.GetRateCardRequest, **options: Unpack[CallOptions]
    ) -> rate_card_pb2.RateCard:
        """Returns one revision of a rate card (the latest by default).

        `RateCardService.GetRateCard`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.rate_cards.GetRateCard, request, rate_card_pb2.RateCard, options
        )

    def list_rate_cards(
        self, request: rate_card_pb2.ListRateCardsRequest, **options: Unpack[CallOptions]
    ) -> rate_card_pb2.ListRateCardsResponse:
        """Lists the latest revision of each rate card, ordered by rate_card_id.

        `RateCardService.ListRateCards`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.rate_cards.ListRateCards, request, rate_card_pb2.ListRateCardsResponse, options
        )
