"""Every row of the error table: status code and google.rpc details, over the wire."""

from __future__ import annotations

from datetime import date

import grpc
from google.rpc import error_details_pb2

from q2c.v1 import audit_pb2, customer_pb2
from q2c.v1 import engagement_pb2 as pb
from tests.service import flows
from tests.service.client import (
    Api,
    contract_request,
    error_info,
    field_paths,
    rich_error,
    rid,
    time_entry,
    unpack,
)


def _submit(eid: str, *entries: pb.TimeEntryInput) -> pb.SubmitTimeEntriesRequest:
    return pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=list(entries))


async def test_unknown_engagement_is_not_found(api: Api) -> None:
    code, status = await rich_error(
        api.engagements.QualifyEngagement(pb.QualifyEngagementRequest(request_id=rid(), engagement_id="nope"))
    )
    assert code == grpc.StatusCode.NOT_FOUND
    info = error_info(status)
    assert info.reason == "ENGAGEMENT_NOT_FOUND"
    assert info.metadata["id"] == "nope"


async def test_command_in_wrong_state_is_failed_precondition_with_state(api: Api) -> None:
    engagement = await flows.new_engagement(api, (await flows.new_customer(api)).customer_id)
    code, status = await rich_error(
        api.engagements.ActivateEngagement(
            pb.ActivateEngagementRequest(
                request_id=rid(), engagement_id=engagement.engagement_id, project_template_id="T"
            )
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(status)
    assert info.reason == "INVALID_STATE"
    assert info.metadata["state"] == "DRAFT"
    assert info.metadata["command"] == "ActivateEngagement"
    [failure] = unpack(status, error_details_pb2.PreconditionFailure)
    assert failure.violations[0].type == "INVALID_STATE"
    assert failure.violations[0].subject == f"engagements/{engagement.engagement_id}"


async def test_bad_time_entries_are_invalid_argument_with_field_paths(api: Api) -> None:
    engagement, _ = await flows.active(api)
    eid = engagement.engagement_id
    code, status = await rich_error(
        api.engagements.SubmitTimeEntries(
            _submit(eid, time_entry(1), time_entry(2, hours="-1"), time_entry(3, hours="25"))
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(status).reason == "VALIDATION_FAILED"
    assert field_paths(status) == ["entries[1].hours", "entries[2].hours"]


async def test_more_than_24_hours_a_day_across_entries_is_invalid(api: Api) -> None:
    engagement, _ = await flows.active(api)
    code, status = await rich_error(
        api.engagements.SubmitTimeEntries(
            _submit(engagement.engagement_id, time_entry(1, hours="16"), time_entry(2, hours="9"))
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field_paths(status) == ["entries[1].hours"]


async def test_unknown_role_for_the_rate_card_is_invalid(api: Api) -> None:
    engagement, _ = await flows.active(api)
    code, status = await rich_error(
        api.engagements.SubmitTimeEntries(_submit(engagement.engagement_id, time_entry(1, role="astronaut")))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field_paths(status) == ["entries[0].role"]


async def test_empty_and_oversized_batches_are_invalid(api: Api) -> None:
    engagement, _ = await flows.active(api)
    eid = engagement.engagement_id
    _, empty = await rich_error(api.engagements.SubmitTimeEntries(_submit(eid)))
    assert field_paths(empty) == ["entries"]
    code, big = await rich_error(
        api.engagements.SubmitTimeEntries(
            _submit(eid, *(time_entry(n, hours="0.01", day=date(2025, 3, 3 + n % 20)) for n in range(501)))
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field_paths(big) == ["entries"]


async def test_unknown_currency_is_invalid_at_every_depth(api: Api) -> None:
    engagement = await flows.won(api)
    request = contract_request(engagement.engagement_id, "rc", currency_code="XYZ")
    request.billing_lines[0].time_and_materials.not_to_exceed.currency_code = "ABC"
    code, status = await rich_error(api.engagements.ApproveContract(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field_paths(status) == [
        "currency_code",
        "billing_lines[0].time_and_materials.not_to_exceed.currency_code",
    ]
    _, customer = await rich_error(
        api.customers.CreateCustomer(
            customer_pb2.CreateCustomerRequest(
                customer=customer_pb2.Customer(display_name="X", billing_currency="EURO")
            )
        )
    )
    assert field_paths(customer) == ["customer.billing_currency"]


async def test_missing_engagement_id_and_invalid_date_are_field_violations(api: Api) -> None:
    request = contract_request("", "rc")
    request.start_date.month = 13
    code, status = await rich_error(api.engagements.ApproveContract(request))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field_paths(status) == ["start_date", "engagement_id"]


async def test_negative_page_size_is_invalid(api: Api) -> None:
    code, status = await rich_error(api.engagements.ListEngagements(pb.ListEngagementsRequest(page_size=-1)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert field_paths(status) == ["page_size"]
    _, token = await rich_error(
        api.engagements.ListEngagements(pb.ListEngagementsRequest(page_token="garbage!"))
    )
    assert field_paths(token) == ["page_token"]


async def test_stale_etag_on_update_customer_is_aborted(api: Api) -> None:
    customer = await flows.new_customer(api)
    code, status = await rich_error(
        api.customers.UpdateCustomer(
            customer_pb2.UpdateCustomerRequest(
                request_id=rid(),
                etag='"v0"',
                update_mask={"paths": ["display_name"]},
                customer=customer_pb2.Customer(customer_id=customer.customer_id, display_name="New"),
            )
        )
    )
    assert code == grpc.StatusCode.ABORTED
    assert error_info(status).reason == "ETAG_MISMATCH"


async def test_update_mask_must_name_known_fields(api: Api) -> None:
    customer = await flows.new_customer(api)
    for paths in ([], ["etag"], ["tax_profile.rate"]):
        code, status = await rich_error(
            api.customers.UpdateCustomer(
                customer_pb2.UpdateCustomerRequest(
                    update_mask={"paths": paths},
                    customer=customer_pb2.Customer(customer_id=customer.customer_id),
                )
            )
        )
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        assert field_paths(status) == ["update_mask"]


async def test_rejected_command_is_audited_and_changes_nothing(api: Api) -> None:
    engagement = await flows.new_engagement(api, (await flows.new_customer(api)).customer_id)
    eid = engagement.engagement_id
    await rich_error(
        api.engagements.CompleteEngagement(pb.CompleteEngagementRequest(request_id=rid(), engagement_id=eid))
    )
    records = (
        await api.audit.ListAuditRecords(audit_pb2.ListAuditRecordsRequest(stream_id=eid))
    ).audit_records
    assert [(r.command_type, r.outcome) for r in records] == [
        ("CreateEngagement", audit_pb2.AUDIT_OUTCOME_ACCEPTED),
        ("CompleteEngagement", audit_pb2.AUDIT_OUTCOME_REJECTED),
    ]
    assert records[1].rejection_reason == "INVALID_STATE"
    after = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid))
    assert after.version == engagement.version and after.state == pb.ENGAGEMENT_STATE_DRAFT


async def test_malformed_mutation_is_audited_as_rejected_and_changes_nothing(api: Api) -> None:
    engagement = await flows.new_engagement(api, (await flows.new_customer(api)).customer_id)
    eid = engagement.engagement_id
    code, _ = await rich_error(
        api.engagements.CancelEngagement(
            pb.CancelEngagementRequest(request_id=rid(), engagement_id=eid, reason="")
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    records = (
        await api.audit.ListAuditRecords(audit_pb2.ListAuditRecordsRequest(stream_id=eid))
    ).audit_records
    assert [(r.command_type, r.outcome, r.rejection_reason) for r in records][1:] == [
        ("CancelEngagement", audit_pb2.AUDIT_OUTCOME_REJECTED, "VALIDATION_FAILED"),
    ]
    assert (await api.audit.VerifyAuditLog(audit_pb2.VerifyAuditLogRequest(stream_id=eid))).ok
    after = await api.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=eid))
    assert after.version == engagement.version


async def test_tenant_cannot_see_another_tenants_engagement(api: Api) -> None:
    engagement = await flows.new_engagement(api, (await flows.new_customer(api)).customer_id)
    other = Api(api.stubs, tenant_id=api.tenant_id + "-b", principal="mallory")
    code, status = await rich_error(
        other.engagements.GetEngagement(pb.GetEngagementRequest(engagement_id=engagement.engagement_id))
    )
    assert code == grpc.StatusCode.NOT_FOUND
    assert error_info(status).reason == "ENGAGEMENT_NOT_FOUND"
