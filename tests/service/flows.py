"""Lifecycle steps over gRPC, composed by the service tests."""

from __future__ import annotations

from typing import Any

from q2c.v1 import customer_pb2, rate_card_pb2
from q2c.v1 import engagement_pb2 as pb
from tests.service.client import Api, contract_request, customer, rate_card, rid

ACTIVE = pb.ENGAGEMENT_STATE_ACTIVE


async def new_customer(api: Api, **overrides: Any) -> customer_pb2.Customer:
    """Create a customer (fully mapped unless overridden)."""
    request = customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer(**overrides))
    result: customer_pb2.Customer = await api.customers.CreateCustomer(request)
    return result


async def new_rate_card(api: Api, **kwargs: Any) -> rate_card_pb2.RateCard:
    """Create a rate card (effective from 2025-01-01, open-ended, unless told otherwise)."""
    request = rate_card_pb2.CreateRateCardRequest(request_id=rid(), rate_card=rate_card(**kwargs))
    result: rate_card_pb2.RateCard = await api.rate_cards.CreateRateCard(request)
    return result


async def new_engagement(api: Api, customer_id: str) -> pb.Engagement:
    """Create a DRAFT engagement for the customer."""
    request = pb.CreateEngagementRequest(
        request_id=rid(), customer_id=customer_id, display_name="Platform build", opportunity_ref="OPP-1"
    )
    result: pb.Engagement = await api.engagements.CreateEngagement(request)
    return result


async def qualified(api: Api, **customer_overrides: Any) -> pb.Engagement:
    """A QUALIFIED engagement of a new customer."""
    cust = await new_customer(api, **customer_overrides)
    engagement = await new_engagement(api, cust.customer_id)
    request = pb.QualifyEngagementRequest(request_id=rid(), engagement_id=engagement.engagement_id)
    result: pb.Engagement = await api.engagements.QualifyEngagement(request)
    return result


async def won(api: Api) -> pb.Engagement:
    """A WON engagement."""
    engagement = await qualified(api)
    request = pb.CloseWonEngagementRequest(request_id=rid(), engagement_id=engagement.engagement_id)
    result: pb.Engagement = await api.engagements.CloseWonEngagement(request)
    assert result.state == pb.ENGAGEMENT_STATE_WON
    return result


async def active(api: Api) -> tuple[pb.Engagement, rate_card_pb2.RateCard]:
    """An ACTIVE engagement with the standard contract, and its rate card."""
    card = await new_rate_card(api)
    engagement = await won(api)
    await api.engagements.ApproveContract(contract_request(engagement.engagement_id, card.rate_card_id))
    request = pb.ActivateEngagementRequest(
        request_id=rid(), engagement_id=engagement.engagement_id, project_template_id="TPL-1"
    )
    result: pb.Engagement = await api.engagements.ActivateEngagement(request)
    assert result.state == ACTIVE, result
    return result, card
