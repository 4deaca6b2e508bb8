"""CustomerService methods of the q2c client (one per RPC; see `q2c/v1/customer.proto`)."""

from __future__ import annotations

from typing import Unpack

from q2c.v1 import customer_pb2
from q2c_sdk.stubs import Bound
from q2c_sdk.transport import CallOptions, MutationOptions


class CustomerMethods(Bound):
    """CustomerService: every RPC as a typed method taking the request message and per-call options."""

    def create_customer(
        self, request: customer_pb2.CreateCustomerRequest, **options: Unpack[MutationOptions]
    ) -> customer_pb2.Customer:
        """Creates a customer; the server assigns customer_id.

        `CustomerService.CreateCustomer`. Mutation: idempotent by request_id (set automatically; retried on
        UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.customers.CreateCustomer, request, customer_pb2.Customer, options
        )

    def get_customer(
        self, request: customer_pb2.GetCustomerRequest, **options: Unpack[CallOptions]
    ) -> customer_pb2.Customer:
        """Returns one customer.

        `CustomerService.GetCustomer`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.customers.GetCustomer, request, customer_pb2.Customer, options
        )

    def list_customers(
        self, request: customer_pb2.ListCustomersRequest, **options: Unpack[CallOptions]
    ) -> customer_pb2.ListCustomersResponse:
        """Lists customers ordered by customer_id.

        `CustomerService.ListCustomers`. Read: retried on UNAVAILABLE.
        """
        return self._transport.read(
            self._stubs.customers.ListCustomers, request, customer_pb2.ListCustomersResponse, options
        )

    def update_customer(
        self, request: customer_pb2.UpdateCustomerRequest, **options: Unpack[MutationOptions]
    ) -> customer_pb2.Customer:
        """Updates the fields named in update_mask.

        `CustomerService.UpdateCustomer`. Mutation: idempotent by request_id (set automatically; retried on
        UNAVAILABLE).
        """
        return self._transport.mutate(
            self._stubs.customers.UpdateCustomer, request, customer_pb2.Customer, options
        )
