"""A token for tenant A proves nothing about tenant B: B's ids are unknown to A, B's data untouched."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import field_mask_pb2

from q2c.v1 import customer_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store
from tests import credentials
from tests.conftest_db import new_tenant_id
from tests.security.probes import correlation_id, refusal, row_counts, security_event
from tests.service.client import Api, Stubs, customer, rid


@pytest.fixture
async def tenant_b(stubs: Stubs) -> tuple[Api, customer_pb2.Customer, pb.Engagement]:
    """Tenant B with one customer and one DRAFT engagement."""
    api = Api(stubs, tenant_id=new_tenant_id(), principal="bob")
    created = await api.customers.CreateCustomer(
        customer_pb2.CreateCustomerRequest(request_id=rid(), customer=customer(display_name="B Corp"))
    )
    engagement = await api.engagements.CreateEngagement(
        pb.CreateEngagementRequest(request_id=rid(), customer_id=created.customer_id, display_name="B work")
    )
    return api, created, engagement


def _unknown_in_a(message: str, real_id: str, probe_id: str) -> str:
    return message.replace(real_id, "<id>").replace(probe_id, "<id>")


async def test_reading_another_tenants_customer_is_not_found_like_a_made_up_id(
    stubs: Stubs, tenant_b: tuple[Api, customer_pb2.Customer, pb.Engagement]
) -> None:
    _, theirs, _ = tenant_b
    a = Api(stubs, tenant_id=new_tenant_id(), principal="alice")
    real = await refusal(
        a.customers.GetCustomer(customer_pb2.GetCustomerRequest(customer_id=theirs.customer_id))
    )
    made_up = await refusal(a.customers.GetCustomer(customer_pb2.GetCustomerRequest(customer_id="cus-nope")))
    assert real[0] == made_up[0] == grpc.StatusCode.NOT_FOUND
    assert real[1].reason == made_up[1].reason
    listed = await a.customers.ListCustomers(customer_pb2.ListCustomersRequest())
    assert theirs.customer_id not in {c.customer_id for c in listed.customers}


async def test_reading_another_tenants_engagement_is_not_found_like_a_made_up_id(
    stubs: Stubs, tenant_b: tuple[Api, customer_pb2.Customer, pb.Engagement]
) -> None:
    _, _, theirs = tenant_b
    a = Api(stubs, tenant_id=new_tenant_id(), principal="alice")
    real_id, probe_id = theirs.engagement_id, "eng-made-up"
    real = await refusal(a.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=real_id)))
    made_up = await refusal(a.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=probe_id)))
    assert real[0] == made_up[0] == grpc.StatusCode.NOT_FOUND
    assert real[1].reason == made_up[1].reason
    listed = await a.engagements.ListEngagements(pb.ListEngagementsRequest())
    assert real_id not in {e.engagement_id for e in listed.engagements}


async def test_writing_another_tenants_customer_and_engagement_changes_nothing_of_theirs(
    stubs: Stubs, store: Store, tenant_b: tuple[Api, customer_pb2.Customer, pb.Engagement]
) -> None:
    b, their_customer, their_engagement = tenant_b
    before_rows = row_counts(store, b.tenant_id)
    before_customer = store.get_customer(b.tenant_id, their_customer.customer_id)
    before_engagement = store.get_engagement(b.tenant_id, their_engagement.engagement_id)
    a = Api(stubs, tenant_id=new_tenant_id(), principal="alice")
    update = customer_pb2.UpdateCustomerRequest(
        request_id=rid(),
        customer=customer_pb2.Customer(customer_id=their_customer.customer_id, display_name="Pwned"),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )
    qualify = pb.QualifyEngagementRequest(request_id=rid(), engagement_id=their_engagement.engagement_id)
    assert (await refusal(a.customers.UpdateCustomer(update)))[0] == grpc.StatusCode.NOT_FOUND
    assert (await refusal(a.engagements.QualifyEngagement(qualify)))[0] == grpc.StatusCode.NOT_FOUND
    assert row_counts(store, b.tenant_id) == before_rows
    assert store.get_customer(b.tenant_id, their_customer.customer_id) == before_customer
    assert store.get_engagement(b.tenant_id, their_engagement.engagement_id) == before_engagement
    again = await b.customers.GetCustomer(
        customer_pb2.GetCustomerRequest(customer_id=their_customer.customer_id)
    )
    assert again.display_name == "B Corp"


async def test_naming_another_tenant_in_x_tenant_id_is_refused_as_a_mismatch(
    stubs: Stubs, store: Store, tenant_b: tuple[Api, customer_pb2.Customer, pb.Engagement]
) -> None:
    b, theirs, _ = tenant_b
    a_tenant, correlation = new_tenant_id(), correlation_id()
    before = row_counts(store)
    metadata = (
        *credentials.bearer(a_tenant, "alice"),
        ("x-tenant-id", b.tenant_id),
        ("x-correlation-id", correlation),
    )
    update = customer_pb2.UpdateCustomerRequest(
        request_id=rid(),
        customer=customer_pb2.Customer(customer_id=theirs.customer_id, display_name="Pwned"),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )
    code, info = await refusal(stubs.customers.UpdateCustomer(update, metadata=metadata, timeout=10))
    assert (code, info.reason) == (grpc.StatusCode.PERMISSION_DENIED, "TENANT_MISMATCH")
    assert (info.metadata["claimed"], info.metadata["authenticated"]) == (b.tenant_id, a_tenant)
    assert row_counts(store) == before
    event = security_event(store, a_tenant, correlation)
    assert (event.method, event.code, event.reason) == (
        "/q2c.v1.CustomerService/UpdateCustomer",
        "PERMISSION_DENIED",
        "TENANT_MISMATCH",
    )
    assert event.principal == "alice"
    assert event.peer.startswith("ipv4:127.0.0.1:")


async def test_naming_another_principal_in_x_principal_is_refused(stubs: Stubs, store: Store) -> None:
    tenant_id, correlation = new_tenant_id(), correlation_id()
    metadata = (
        *credentials.bearer(tenant_id, "alice"),
        ("x-principal", "carol"),
        ("x-correlation-id", correlation),
    )
    code, info = await refusal(
        stubs.customers.ListCustomers(customer_pb2.ListCustomersRequest(), metadata=metadata)
    )
    assert (code, info.reason) == (grpc.StatusCode.PERMISSION_DENIED, "PRINCIPAL_MISMATCH")
    assert security_event(store, tenant_id, correlation).reason == "PRINCIPAL_MISMATCH"


async def test_hints_that_agree_with_the_token_are_accepted(stubs: Stubs) -> None:
    tenant_id = new_tenant_id()
    metadata = (*credentials.bearer(tenant_id, "alice"), ("x-tenant-id", tenant_id), ("x-principal", "alice"))
    listed = await stubs.customers.ListCustomers(customer_pb2.ListCustomersRequest(), metadata=metadata)
    assert list(listed.customers) == []
