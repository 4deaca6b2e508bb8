"""CustomerService and RateCardService: reference data through the runtime's catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from q2c.v1 import customer_pb2, customer_pb2_grpc, rate_card_pb2, rate_card_pb2_grpc
from q2c_core.domain.errors import ValidationError
from q2c_core.domain.money import UnknownCurrencyError, check_currency
from q2c_core.edge.context import current_caller
from q2c_core.edge.converters import convert
from q2c_core.edge.runner import blocking

if TYPE_CHECKING:
    from q2c_core.app.runtime import Runtime

Context = Any


class CustomerServicer(customer_pb2_grpc.CustomerServiceServicer):
    """q2c.v1.CustomerService over the runtime's catalog."""

    def __init__(self, runtime: Runtime) -> None:
        self.catalog = runtime.catalog

    async def CreateCustomer(
        self, request: customer_pb2.CreateCustomerRequest, context: Context
    ) -> customer_pb2.Customer:
        """Create a customer."""
        spec = convert.customer_spec(request)
        customer = await blocking(
            self.catalog.create_customer, current_caller(), request.request_id or None, spec
        )
        return convert.customer_out(customer)

    async def GetCustomer(
        self, request: customer_pb2.GetCustomerRequest, context: Context
    ) -> customer_pb2.Customer:
        """One customer."""
        customer_id = convert.require_id(request.customer_id, "customer_id")
        customer = await blocking(self.catalog.get_customer, current_caller().tenant_id, customer_id)
        return convert.customer_out(customer)

    async def ListCustomers(
        self, request: customer_pb2.ListCustomersRequest, context: Context
    ) -> customer_pb2.ListCustomersResponse:
        """A page of customers."""
        status = convert.customer_status_filter(request.status)
        page = await blocking(
            self.catalog.list_customers,
            current_caller().tenant_id,
            status,
            convert.check_page_size(request.page_size),
            request.page_token,
        )
        return customer_pb2.ListCustomersResponse(
            customers=[convert.customer_out(c) for c in page.items],
            next_page_token=page.next_page_token,
        )

    async def UpdateCustomer(
        self, request: customer_pb2.UpdateCustomerRequest, context: Context
    ) -> customer_pb2.Customer:
        """Change the masked fields, if the etag (when given) still matches."""
        changes = convert.customer_changes(request)
        customer = await blocking(
            self.catalog.update_customer,
            current_caller(),
            request.request_id or None,
            request.customer.customer_id,
            changes,
            request.etag,
        )
        return convert.customer_out(customer)


def _currency_filter(code: str) -> str | None:
    if not code:
        return None
    try:
        return check_currency(code)
    except UnknownCurrencyError as error:
        raise ValidationError.one("currency_code", str(error)) from None


class RateCardServicer(rate_card_pb2_grpc.RateCardServiceServicer):
    """q2c.v1.RateCardService over the runtime's catalog."""

    def __init__(self, runtime: Runtime) -> None:
        self.catalog = runtime.catalog

    async def CreateRateCard(
        self, request: rate_card_pb2.CreateRateCardRequest, context: Context
    ) -> rate_card_pb2.RateCard:
        """Create a rate card, or the next revision of an existing one."""
        spec = convert.rate_card_spec(request)
        card = await blocking(
            self.catalog.create_rate_card,
            current_caller(),
            request.request_id or None,
            request.rate_card_id or None,
            spec,
        )
        return convert.rate_card_out(card)

    async def GetRateCard(
        self, request: rate_card_pb2.GetRateCardRequest, context: Context
    ) -> rate_card_pb2.RateCard:
        """One revision of a rate card (the latest by default)."""
        card_id = convert.require_id(request.rate_card_id, "rate_card_id")
        if request.revision < 0:
            raise ValidationError.one("revision", "must not be negative")
        card = await blocking(
            self.catalog.get_rate_card, current_caller().tenant_id, card_id, request.revision or None
        )
        return convert.rate_card_out(card)

    async def ListRateCards(
        self, request: rate_card_pb2.ListRateCardsRequest, context: Context
    ) -> rate_card_pb2.ListRateCardsResponse:
        """A page of rate cards (latest revision of each)."""
        page = await blocking(
            self.catalog.list_rate_cards,
            current_caller().tenant_id,
            _currency_filter(request.currency_code),
            convert.check_page_size(request.page_size),
            request.page_token,
        )
        return rate_card_pb2.ListRateCardsResponse(
            rate_cards=[convert.rate_card_out(c) for c in page.items],
            next_page_token=page.next_page_token,
        )
