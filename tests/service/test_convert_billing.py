"""Billing proto <-> domain conversion: periods, exact amounts, readiness, requests in."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from q2c.v1 import billing_pb2, common_pb2, exception_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.billing.runs import BillRun, BillRunSkip, BillRunSpec, BillRunState
from q2c_core.domain import commands as cmd
from q2c_core.domain.billing import BillingDraft, Blocker
from q2c_core.domain.errors import NotFoundError, PreconditionError, ValidationError
from q2c_core.domain.invoices import Invoice, InvoiceLine, InvoiceState, LineSource, Payment, TaxDetail
from q2c_core.domain.money import Money
from q2c_core.domain.periods import BillingPeriod
from q2c_core.edge.converters import convert
from q2c_core.edge.errors import status_for
from tests.service.client import contract_request, gdate, money, unpack

NOW = datetime(2026, 2, 1, tzinfo=UTC)
JANUARY = BillingPeriod.month(2026, 1)


def _paths(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [v.field for v in error.value.field_violations]


def _generate(**period: object) -> pb.GenerateInvoiceRequest:
    return pb.GenerateInvoiceRequest(
        engagement_id="e-1",
        period=common_pb2.BillingPeriod(**period),  # type: ignore[arg-type]
    )


def _line(amount: str, currency: str, quantity: str = "1") -> InvoiceLine:
    return InvoiceLine(
        line_id="L1",
        source=LineSource.TIME_ENTRY,
        source_id="T1",
        billing_line_id="TM-1",
        contract_revision=1,
        description="Consulting: work",
        quantity=Decimal(quantity),
        unit_price=Money.of(amount, currency),
        amount=Money.of(amount, currency),
        rounding_rule="ROUND_HALF_UP_PER_LINE",
    )


def _invoice(currency: str, subtotal: str, tax: str, total: str, **changes: object) -> Invoice:
    invoice = Invoice(
        invoice_id="e-1.inv.1",
        engagement_id="e-1",
        customer_id="c-1",
        period=JANUARY,
        currency=currency,
        lines=[_line(subtotal, currency)],
        subtotal=Money.of(subtotal, currency),
        tax=TaxDetail(
            jurisdiction="BH",
            rate=Decimal("0.1"),
            exempt=False,
            amount=Money.of(tax, currency),
            rounding_rule="TAX_ON_SUBTOTAL_HALF_UP",
        ),
        total=Money.of(total, currency),
        amount_paid=Money.zero(currency),
        create_time=NOW,
        update_time=NOW,
    )
    return invoice.model_copy(update=changes)


def test_month_period_becomes_the_calendar_month() -> None:
    command = convert.generate_invoice(_generate(month="2026-02")).command
    assert isinstance(command, cmd.GenerateInvoice)
    assert command.period == BillingPeriod(start=date(2026, 2, 1), end=date(2026, 2, 28))


def test_range_period_keeps_its_days() -> None:
    request = _generate(start_date=gdate(date(2026, 1, 5)), end_date=gdate(date(2026, 1, 20)))
    command = convert.generate_invoice(request).command
    assert isinstance(command, cmd.GenerateInvoice)
    assert (command.period.start, command.period.end) == (date(2026, 1, 5), date(2026, 1, 20))


@pytest.mark.parametrize(
    ("period", "paths"),
    [
        ({"month": "2026-13"}, ["period.month"]),
        ({"month": "2026-1"}, ["period.month"]),
        ({"month": "2026-01", "start_date": gdate(date(2026, 1, 1))}, ["period.month"]),
        ({"start_date": gdate(date(2026, 1, 1))}, ["period.end_date"]),
        ({"end_date": gdate(date(2026, 1, 1))}, ["period.start_date"]),
        ({"start_date": gdate(date(2026, 2, 1)), "end_date": gdate(date(2026, 1, 31))}, ["period.end_date"]),
        ({"start_date": gdate(date(2026, 1, 1)), "end_date": gdate(date(2027, 1, 2))}, ["period.end_date"]),
    ],
)
def test_invalid_periods_name_the_bad_period_field(period: dict[str, object], paths: list[str]) -> None:
    with pytest.raises(ValidationError) as error:
        convert.generate_invoice(_generate(**period))
    assert _paths(error) == paths


def test_missing_period_and_engagement_are_reported_together() -> None:
    with pytest.raises(ValidationError) as error:
        convert.generate_invoice(pb.GenerateInvoiceRequest())
    assert _paths(error) == ["engagement_id", "period"]


def test_calendar_month_goes_out_as_month_and_other_ranges_as_dates() -> None:
    assert convert.period_out(BillingPeriod(start=date(2026, 2, 1), end=date(2026, 2, 28))).month == "2026-02"
    partial = convert.period_out(BillingPeriod(start=date(2026, 2, 1), end=date(2026, 2, 27)))
    assert partial.month == ""
    assert (partial.start_date, partial.end_date) == (gdate(date(2026, 2, 1)), gdate(date(2026, 2, 27)))


def test_invoice_amounts_are_exact_strings_in_the_currency_minor_unit() -> None:
    jpy = convert.invoice_out(_invoice("JPY", "1000", "100", "1100"))
    assert (jpy.subtotal.amount, jpy.total.amount, jpy.amount_paid.amount) == ("1000", "1100", "0")
    bhd = convert.invoice_out(_invoice("BHD", "12.346", "1.235", "13.581"))
    assert (bhd.lines[0].amount.amount, bhd.tax.amount.amount, bhd.balance_due.amount) == (
        "12.346",
        "1.235",
        "13.581",
    )
    usd = convert.invoice_out(_invoice("USD", "1000.00", "0.00", "1000.00"))
    assert usd.amount_paid == money("0.00") and usd.balance_due == money("1000.00")
    assert usd.tax.rate == "0.1" and usd.period.month == "2026-01"


def test_invoice_etag_changes_with_each_payment_and_balance_follows() -> None:
    issued = _invoice(
        "USD", "100.00", "0.00", "100.00", state=InvoiceState.ISSUED, issue_date=date(2026, 2, 1)
    )
    payment = Payment(
        payment_id="p1", amount=Money.of("40", "USD"), received_date=date(2026, 2, 3), record_time=NOW
    )
    paid = issued.model_copy(
        update={"state": InvoiceState.PARTIALLY_PAID, "payments": [payment], "amount_paid": payment.amount}
    )
    before, after = convert.invoice_out(issued), convert.invoice_out(paid)
    assert before.etag != after.etag
    assert after.state == billing_pb2.INVOICE_STATE_PARTIALLY_PAID
    assert (after.amount_paid.amount, after.balance_due.amount) == ("40.00", "60.00")
    assert after.payments[0].received_date == gdate(date(2026, 2, 3))


def test_invoice_id_routes_to_its_engagement() -> None:
    assert convert.engagement_of_invoice("eng-7.inv.3") == "eng-7"
    assert convert.engagement_of_invoice("a.inv.b.inv.12") == "a.inv.b"


@pytest.mark.parametrize("invoice_id", ["eng-7", "eng-7.inv.", ".inv.3", "eng-7.inv.x"])
def test_malformed_invoice_id_is_invoice_not_found(invoice_id: str) -> None:
    with pytest.raises(NotFoundError) as error:
        convert.engagement_of_invoice(invoice_id)
    assert error.value.reason == "INVOICE_NOT_FOUND"


def test_payment_routes_to_the_engagement_and_keeps_the_exact_amount() -> None:
    request = billing_pb2.RecordPaymentRequest(
        request_id="r-1",
        invoice_id="eng-7.inv.2",
        amount=money("12.3456"),
        received_date=gdate(date(2026, 2, 3)),
    )
    mutation = convert.record_payment(request)
    assert (mutation.engagement_id, mutation.request_id) == ("eng-7", "r-1")
    assert isinstance(mutation.command, cmd.RecordPayment)
    assert mutation.command.amount == Money.of("12.3456", "USD")


def test_payment_without_amount_or_received_date_names_both_fields() -> None:
    with pytest.raises(ValidationError) as error:
        convert.record_payment(billing_pb2.RecordPaymentRequest(invoice_id="eng-7.inv.2"))
    assert sorted(_paths(error)) == ["amount", "received_date"]


def test_void_without_reason_is_a_violation_before_routing() -> None:
    with pytest.raises(ValidationError) as error:
        convert.void_invoice(billing_pb2.VoidInvoiceRequest(invoice_id="malformed"))
    assert _paths(error) == ["reason"]


def test_amendment_reuses_contract_lines_and_empty_po_keeps_the_current_one() -> None:
    contract = contract_request("e-1", "rc-1")
    request = pb.AmendContractRequest(
        engagement_id="e-1", effective_date=gdate(date(2025, 3, 15)), billing_lines=contract.billing_lines
    )
    command = convert.amend_contract(request).command
    assert isinstance(command, cmd.AmendContract)
    assert command.po_reference is None and len(command.billing_lines) == 3
    request.po_reference = "PO-2"
    assert convert.amend_contract(request).command.po_reference == "PO-2"  # type: ignore[union-attr]


def test_amendment_without_effective_date_or_terms_names_the_fields() -> None:
    request = pb.AmendContractRequest(engagement_id="e-1", billing_lines=[pb.BillingLine(line_id="X")])
    with pytest.raises(ValidationError) as error:
        convert.amend_contract(request)
    assert _paths(error) == ["effective_date", "billing_lines[0].terms"]


@pytest.mark.parametrize(
    ("number", "resolution"),
    [
        (exception_pb2.EXCEPTION_RESOLUTION_UNSPECIFIED, cmd.Resolution.RESOLVE),
        (exception_pb2.EXCEPTION_RESOLUTION_RELEASE, cmd.Resolution.RELEASE),
        (exception_pb2.EXCEPTION_RESOLUTION_WRITE_OFF, cmd.Resolution.WRITE_OFF),
    ],
)
def test_exception_resolution_enum_maps_to_the_domain(number: int, resolution: cmd.Resolution) -> None:
    request = exception_pb2.ResolveExceptionRequest(
        exception_id="x-1",
        resolution_note="ok",
        resolution=number,  # type: ignore[arg-type]
    )
    assert convert.resolve_exception(request).resolution is resolution


def test_readiness_lists_blockers_in_kind_order_with_unnumbered_preview_lines() -> None:
    draft = BillingDraft(
        currency="USD",
        lines=[_line("999.9975", "USD").model_copy(update={"amount": Money.of("1000.00", "USD")})],
        blockers=[
            Blocker("MISSING_PO_REFERENCE", "po"),
            Blocker("UNAPPROVED_TIME", "2 entries", ("T2", "T3")),
        ],
    )
    period = common_pb2.BillingPeriod(month="2026-01")
    out = convert.readiness_out("e-1", period, draft)
    assert not out.ready and out.period == period
    assert [b.kind for b in out.blockers] == [
        pb.READINESS_BLOCKER_KIND_UNAPPROVED_TIME,
        pb.READINESS_BLOCKER_KIND_MISSING_PO_REFERENCE,
    ]
    assert list(out.blockers[0].item_ids) == ["T2", "T3"]
    assert out.billable_lines[0].line_id == "" and out.billable_lines[0].unit_price.amount == "999.9975"
    assert (out.subtotal.amount, out.tax.amount, out.total.amount) == ("1000.00", "0.00", "1000.00")


def test_readiness_of_an_invoiced_period_previews_no_lines() -> None:
    draft = BillingDraft(
        currency="USD",
        lines=[_line("10.00", "USD")],
        blockers=[Blocker("PERIOD_ALREADY_INVOICED", "covered", ("e-1.inv.1",))],
    )
    out = convert.readiness_out("e-1", common_pb2.BillingPeriod(month="2026-01"), draft)
    assert not out.ready and not out.billable_lines and out.total.amount == "0.00"


def test_bill_run_totals_are_one_money_per_currency_in_code_order() -> None:
    run = BillRun(
        bill_run_id="br-1",
        tenant_id="t",
        spec=BillRunSpec(period=JANUARY, customer_ids=["c-1"]),
        state=BillRunState.SUCCEEDED,
        invoices_created=2,
        invoiced_totals={"USD": Decimal("10.5"), "JPY": Decimal("1000")},
        skips=[BillRunSkip(engagement_id="e-9", reason="MISSING_PO_REFERENCE", message="po")],
        create_time=NOW,
        update_time=NOW,
        finish_time=NOW,
    )
    out = convert.bill_run_out(run)
    assert list(out.invoiced_totals) == [money("1000", "JPY"), money("10.50")]
    assert out.state == billing_pb2.BILL_RUN_STATE_SUCCEEDED and out.period.month == "2026-01"
    assert out.skips[0].reason == "MISSING_PO_REFERENCE" and out.HasField("finish_time")


def test_bill_run_spec_checks_period_and_currency() -> None:
    with pytest.raises(ValidationError) as error:
        convert.bill_run_spec(
            billing_pb2.StartBillRunRequest(
                period=common_pb2.BillingPeriod(month="2026-00"), currency_code="XXX"
            )
        )
    assert _paths(error) == ["period.month", "currency_code"]
    spec = convert.bill_run_spec(
        billing_pb2.StartBillRunRequest(period=common_pb2.BillingPeriod(month="2026-01"), currency_code="JPY")
    )
    assert spec == BillRunSpec(period=JANUARY, currency="JPY")


def test_cancel_bill_run_needs_a_reason() -> None:
    with pytest.raises(ValidationError) as error:
        convert.cancel_bill_run(billing_pb2.CancelBillRunRequest(bill_run_id="br-1", reason="  "))
    assert _paths(error) == ["reason"]


def test_not_ready_has_one_precondition_violation_per_blocker() -> None:
    error = PreconditionError(
        "NOT_READY",
        "cannot invoice: MISSING_PO_REFERENCE, OPEN_BLOCKING_EXCEPTIONS",
        {"blockers": "MISSING_PO_REFERENCE,OPEN_BLOCKING_EXCEPTIONS", "engagement_id": "e-1"},
    )
    details = _precondition_failure(status_for(error))
    assert [(v.type, v.subject) for v in details.violations] == [
        ("MISSING_PO_REFERENCE", "engagements/e-1"),
        ("OPEN_BLOCKING_EXCEPTIONS", "engagements/e-1"),
    ]
    assert all(v.description for v in details.violations)


def _precondition_failure(status: grpc.Status) -> error_details_pb2.PreconditionFailure:
    binary = dict(status.trailing_metadata)["grpc-status-details-bin"]
    [failure] = unpack(status_pb2.Status.FromString(binary), error_details_pb2.PreconditionFailure)
    return failure
