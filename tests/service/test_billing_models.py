"""Every billing model priced end to end through gRPC, with exact amounts on the wire."""

from __future__ import annotations

from datetime import date

import grpc

from q2c.v1 import billing_pb2, common_pb2, customer_pb2, exception_pb2, rate_card_pb2
from q2c.v1 import engagement_pb2 as pb
from tests.service.billing_flows import (
    NO_TAX,
    accepted_milestone,
    active_on,
    amounts,
    approved_expense,
    approved_time,
    engagement,
    entry,
    expense_line,
    fixed_fee_line,
    generate_request,
    invoice_for,
    month,
    retainer_line,
    subscription_line,
    tm_line,
)
from tests.service.client import Api, error_info, gdate, money, rate_card, rich_error, rid

CAP_CHECK = "NOT_TO_EXCEED_CAP"


async def test_time_is_priced_at_the_rate_card_revision_effective_on_the_work_date(api: Api) -> None:
    billable = await active_on(api, lambda card: [tm_line(card)])
    await api.rate_cards.CreateRateCard(
        rate_card_pb2.CreateRateCardRequest(
            request_id=rid(),
            rate_card_id=billable.rate_card_id,
            rate_card=rate_card(start=date(2026, 3, 1), engineer="175.00", manager="200.00"),
        )
    )
    eid = billable.engagement_id
    await approved_time(api, eid, entry(1, date(2026, 2, 27)), entry(2, date(2026, 3, 2)))

    invoice = await invoice_for(api, eid, "2026-03")

    assert [(line.source_id, line.unit_price.amount, line.amount.amount) for line in invoice.lines] == [
        ("T1", "150.00", "1200.00"),
        ("T2", "175.00", "1400.00"),
    ]
    assert invoice.lines[0].source == billing_pb2.INVOICE_LINE_SOURCE_TIME_ENTRY
    assert invoice.subtotal == money("2600.00")
    assert (invoice.tax.rate, invoice.tax.amount.amount) == ("0.08875", "230.75")
    assert invoice.total == money("2830.75") and invoice.balance_due == money("2830.75")
    assert invoice.state == billing_pb2.INVOICE_STATE_DRAFT and invoice.po_reference == "PO-1"
    billed = await engagement(api, eid)
    assert {(e.status, e.invoice_id) for e in billed.time_entries} == {
        (pb.TIME_ENTRY_STATUS_BILLED, invoice.invoice_id)
    }
    assert list(billed.invoice_ids) == [invoice.invoice_id]


async def _cap_exception(api: Api, eid: str) -> exception_pb2.BusinessException:
    listed = await api.exceptions.ListExceptions(
        exception_pb2.ListExceptionsRequest(engagement_id=eid, state=exception_pb2.EXCEPTION_STATE_OPEN)
    )
    [cap] = [x for x in listed.exceptions if x.check == CAP_CHECK]
    return cap


async def _held_over_cap(api: Api) -> tuple[str, billing_pb2.Invoice]:
    """January bills T1 (1200.00) and holds T2, which would take the line over its 2000.00 cap."""
    billable = await active_on(api, lambda card: [tm_line(card, cap="2000")])
    eid = billable.engagement_id
    await approved_time(api, eid, entry(1, date(2026, 1, 5)), entry(2, date(2026, 1, 6)))
    january = await invoice_for(api, eid, "2026-01")
    assert amounts(january) == [("T1", "1200.00")]
    held = await engagement(api, eid)
    assert [e.status for e in held.time_entries] == [
        pb.TIME_ENTRY_STATUS_BILLED,
        pb.TIME_ENTRY_STATUS_HELD_AT_CAP,
    ]
    assert held.state == pb.ENGAGEMENT_STATE_ACTIVE  # a REVIEW exception never holds the engagement
    return eid, january


async def _resolve_cap(api: Api, eid: str, resolution: int) -> None:
    cap = await _cap_exception(api, eid)
    assert cap.severity == exception_pb2.EXCEPTION_SEVERITY_REVIEW
    await api.exceptions.ResolveException(
        exception_pb2.ResolveExceptionRequest(
            request_id=rid(),
            exception_id=cap.exception_id,
            resolution_note="customer agreed",
            resolution=resolution,  # type: ignore[arg-type]
        )
    )


async def test_released_cap_hours_are_billed_on_the_next_invoice(api: Api) -> None:
    eid, _ = await _held_over_cap(api)
    await _resolve_cap(api, eid, exception_pb2.EXCEPTION_RESOLUTION_RELEASE)
    released = await engagement(api, eid)
    assert released.time_entries[1].status == pb.TIME_ENTRY_STATUS_APPROVED

    february = await invoice_for(api, eid, "2026-02")

    assert amounts(february) == [("T2", "1200.00")]


async def test_written_off_cap_hours_are_never_billed(api: Api) -> None:
    eid, _ = await _held_over_cap(api)
    await _resolve_cap(api, eid, exception_pb2.EXCEPTION_RESOLUTION_WRITE_OFF)
    assert (await engagement(api, eid)).time_entries[1].status == pb.TIME_ENTRY_STATUS_WRITTEN_OFF

    code, status = await rich_error(api.engagements.GenerateInvoice(generate_request(eid, "2026-02")))

    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(status).reason == "NOTHING_TO_BILL"


async def test_cap_exception_needs_release_or_write_off(api: Api) -> None:
    eid, _ = await _held_over_cap(api)
    cap = await _cap_exception(api, eid)
    code, status = await rich_error(
        api.exceptions.ResolveException(
            exception_pb2.ResolveExceptionRequest(
                request_id=rid(), exception_id=cap.exception_id, resolution_note="ok"
            )
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(status).reason == "VALIDATION_FAILED"


async def test_hours_all_over_the_cap_are_held_and_nothing_is_billed(api: Api) -> None:
    billable = await active_on(api, lambda card: [tm_line(card, cap="1000")])
    eid = billable.engagement_id
    await approved_time(api, eid, entry(1, date(2026, 1, 5)))

    code, status = await rich_error(api.engagements.GenerateInvoice(generate_request(eid, "2026-01")))

    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(status).reason == "NOTHING_TO_BILL"
    after = await engagement(api, eid)
    assert after.time_entries[0].status == pb.TIME_ENTRY_STATUS_HELD_AT_CAP
    assert not after.invoice_ids
    cap = await _cap_exception(api, eid)
    assert cap.step == common_pb2.GATED_STEP_INVOICE and "TM-1" in cap.message


async def test_a_retry_of_an_invoice_whose_hours_were_all_held_is_nothing_to_bill_again(api: Api) -> None:
    billable = await active_on(api, lambda card: [tm_line(card, cap="1000")])
    eid = billable.engagement_id
    await approved_time(api, eid, entry(1, date(2026, 1, 5)))
    request = generate_request(eid, "2026-01")
    await rich_error(api.engagements.GenerateInvoice(request))

    code, status = await rich_error(api.engagements.GenerateInvoice(request))

    assert (code, error_info(status).reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOTHING_TO_BILL")
    assert not (await engagement(api, eid)).invoice_ids


async def test_fixed_fee_milestone_is_billed_once_when_accepted(api: Api) -> None:
    billable = await active_on(api, lambda card: [fixed_fee_line(M1="5000", M2="7000")])
    eid = billable.engagement_id
    await accepted_milestone(api, eid, "M1")

    january = await invoice_for(api, eid, "2026-01")

    assert amounts(january) == [("M1", "5000.00")]
    assert january.lines[0].source == billing_pb2.INVOICE_LINE_SOURCE_MILESTONE
    code, status = await rich_error(api.engagements.GenerateInvoice(generate_request(eid, "2026-02")))
    assert (code, error_info(status).reason) == (grpc.StatusCode.FAILED_PRECONDITION, "NOTHING_TO_BILL")
    await accepted_milestone(api, eid, "M2")
    assert amounts(await invoice_for(api, eid, "2026-02")) == [("M2", "7000.00")]


async def test_retainer_first_month_is_prorated_by_calendar_days(api: Api) -> None:
    billable = await active_on(api, lambda card: [retainer_line("3000.00")], activate_on=date(2026, 1, 16))
    eid = billable.engagement_id

    january = await invoice_for(api, eid, "2026-01")

    [line] = january.lines
    assert (line.source_id, line.quantity, line.amount.amount) == ("RET-1:2026-01", "0.516129", "1548.39")
    assert line.rounding_rule == "PRORATE_BY_CALENDAR_DAYS"
    assert (line.service_period.start_date, line.service_period.end_date) == (
        gdate(date(2026, 1, 16)),
        gdate(date(2026, 1, 31)),
    )
    february = await invoice_for(api, eid, "2026-02")
    assert [(x.quantity, x.amount.amount, x.service_period.month) for x in february.lines] == [
        ("1", "3000.00", "2026-02")
    ]


async def test_pass_through_expense_is_billed_with_markup(api: Api) -> None:
    billable = await active_on(api, lambda card: [expense_line("10")])
    eid = billable.engagement_id
    await approved_expense(api, eid, "X1", date(2026, 1, 12), "100.05")

    january = await invoice_for(api, eid, "2026-01")

    [line] = january.lines
    assert (line.source, line.source_id) == (billing_pb2.INVOICE_LINE_SOURCE_EXPENSE, "X1")
    assert (line.unit_price.amount, line.amount.amount) == ("110.055", "110.06")
    assert (await engagement(api, eid)).expenses[0].status == pb.EXPENSE_STATUS_BILLED


async def test_subscription_period_is_billed_whole_in_advance(api: Api) -> None:
    billable = await active_on(api, lambda card: [subscription_line("900.00")], activate_on=date(2026, 1, 15))
    eid = billable.engagement_id

    january = await invoice_for(api, eid, "2026-01")

    [line] = january.lines
    assert (line.source_id, line.amount.amount) == ("SUB-1:2026-01-15", "900.00")
    assert (line.service_period.start_date, line.service_period.end_date) == (
        gdate(date(2026, 1, 15)),
        gdate(date(2026, 4, 14)),
    )
    _, status = await rich_error(api.engagements.GenerateInvoice(generate_request(eid, "2026-02")))
    assert error_info(status).reason == "NOTHING_TO_BILL"
    assert amounts(await invoice_for(api, eid, "2026-04")) == [("SUB-1:2026-04-15", "900.00")]


async def test_tax_exempt_customer_is_charged_no_tax(api: Api) -> None:
    billable = await active_on(api, lambda card: [fixed_fee_line(M1="5000")], tax_profile=NO_TAX)
    await accepted_milestone(api, billable.engagement_id, "M1")

    invoice = await invoice_for(api, billable.engagement_id, "2026-01")

    assert invoice.tax.exempt and invoice.tax.rate == "0"
    assert invoice.tax.amount == money("0.00") and invoice.total == money("5000.00")


async def _one_entry_invoice(api: Api, currency: str, rate: str, hours: str, tax: str) -> billing_pb2.Invoice:
    billable = await active_on(
        api,
        lambda card: [tm_line(card, currency=currency)],
        currency=currency,
        rates={"engineer": rate},
        tax_profile=customer_pb2.TaxProfile(jurisdiction="XX", rate=tax),
    )
    await approved_time(api, billable.engagement_id, entry(1, date(2026, 1, 5), hours=hours))
    return await invoice_for(api, billable.engagement_id, "2026-01")


async def test_usd_line_rounds_half_up_to_cents(api: Api) -> None:
    invoice = await _one_entry_invoice(api, "USD", "133.333", "7.5", "0.20")
    assert (invoice.lines[0].unit_price.amount, invoice.lines[0].amount.amount) == ("133.333", "1000.00")
    assert (invoice.tax.amount.amount, invoice.total.amount) == ("200.00", "1200.00")


async def test_jpy_amounts_have_no_decimals(api: Api) -> None:
    invoice = await _one_entry_invoice(api, "JPY", "399.9", "2.5", "0.10")
    assert invoice.currency_code == "JPY"
    assert (invoice.subtotal.amount, invoice.tax.amount.amount, invoice.total.amount) == (
        "1000",
        "100",
        "1100",
    )
    assert invoice.amount_paid == money("0", "JPY")


async def test_bhd_amounts_have_three_decimals(api: Api) -> None:
    invoice = await _one_entry_invoice(api, "BHD", "8.2305", "1.5", "0.10")
    assert (invoice.subtotal.amount, invoice.tax.amount.amount, invoice.total.amount) == (
        "12.346",
        "1.235",
        "13.581",
    )
    assert invoice.balance_due == money("13.581", "BHD")


async def test_readiness_lists_informational_blockers_and_previews_lines(api: Api) -> None:
    billable = await active_on(api, lambda card: [tm_line(card), fixed_fee_line(M1="5000", M2="7000")])
    eid = billable.engagement_id
    await approved_time(api, eid, entry(1, date(2026, 1, 5)))
    await api.engagements.SubmitTimeEntries(
        pb.SubmitTimeEntriesRequest(request_id=rid(), engagement_id=eid, entries=[entry(2, date(2026, 1, 6))])
    )
    await api.engagements.CompleteMilestone(
        pb.CompleteMilestoneRequest(request_id=rid(), engagement_id=eid, milestone_id="M1")
    )

    readiness = await api.engagements.GetInvoiceReadiness(
        pb.GetInvoiceReadinessRequest(engagement_id=eid, period=month("2026-01"))
    )

    assert readiness.ready and readiness.period == month("2026-01")
    assert [(b.kind, list(b.item_ids)) for b in readiness.blockers] == [
        (pb.READINESS_BLOCKER_KIND_UNAPPROVED_TIME, ["T2"]),
        (pb.READINESS_BLOCKER_KIND_UNACCEPTED_MILESTONES, ["M1"]),
    ]
    assert [(x.source_id, x.line_id, x.amount.amount) for x in readiness.billable_lines] == [
        ("T1", "", "1200.00")
    ]
    assert (readiness.subtotal.amount, readiness.tax.amount, readiness.total.amount) == (
        "1200.00",
        "106.50",
        "1306.50",
    )
    assert not (await engagement(api, eid)).invoice_ids  # a preview bills nothing
