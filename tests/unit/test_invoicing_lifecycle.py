"""Invoices after generation (issue, pay, void), readiness, bill runs, change orders and closing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.entities import (
    BusinessException,
    EngagementState,
    ExceptionState,
    GatedStep,
    ItemStatus,
    MilestoneStatus,
    Severity,
    TimeAndMaterialsTerms,
)
from q2c_core.domain.errors import PreconditionError, ValidationError
from q2c_core.domain.evolve import evolve
from q2c_core.domain.invoices import Invoice, InvoiceState
from q2c_core.domain.periods import BillingPeriod
from q2c_core.domain.reference import RateCard

from .billing_builders import (
    accept,
    active,
    amounts,
    bill,
    cards,
    expenses,
    fixed,
    issue,
    money,
    month,
    pay,
    retainer,
    span,
    spend,
    taxed,
    tm,
    void,
    work,
)
from .builders import Driver, rate_card


def billed_march(**customer_fields: Any) -> tuple[Driver, Invoice]:
    """An engagement with one 1000.00 + 20 % tax = 1200.00 DRAFT invoice for March."""
    driver = active(
        tm(), expenses("0"), rate_cards=cards(engineer="100"), who=taxed("0.20", **customer_fields)
    )
    work(driver, "t1", date(2025, 3, 3), "8")
    spend(driver, "x1", money("200"))
    invoice = bill(driver, month("2025-03"))
    assert invoice.total == money("1200.00")
    return driver, invoice


def drop_po(driver: Driver) -> None:
    """The contract loses its PO reference (not reachable by commands: a change order keeps it)."""
    contract = driver.engagement.contract
    assert contract is not None
    driver.state = driver.engagement.model_copy(
        update={"contract": contract.model_copy(update={"po_reference": ""})}
    )


def reason_of(driver: Driver, command: object) -> str:
    with pytest.raises(PreconditionError) as raised:
        driver.run(command)
    return raised.value.reason


def invoicing_exceptions(driver: Driver) -> list[BusinessException]:
    """Open exceptions raised at invoicing (contract approval may have raised REVIEW ones)."""
    return [x for x in driver.engagement.open_exceptions() if x.step is GatedStep.INVOICE]


# --- issue ----------------------------------------------------------------------------------


def test_a_generated_invoice_is_a_draft_whose_total_is_lines_plus_tax() -> None:
    _, invoice = billed_march()
    assert invoice.state is InvoiceState.DRAFT
    assert invoice.subtotal == money("1000.00")
    assert invoice.total == invoice.subtotal + invoice.tax.amount
    assert invoice.amount_paid == money("0")
    assert invoice.po_reference == "PO-1"
    assert [line.line_id for line in invoice.lines] == ["L1", "L2"]


def test_issuing_sets_the_issue_date_and_the_due_date_from_the_payment_terms() -> None:
    driver, invoice = billed_march(payment_terms_days=45)
    driver.now = datetime(2025, 4, 2, 10, tzinfo=UTC)
    issued = issue(driver, invoice)
    assert issued.state is InvoiceState.ISSUED
    assert issued.issue_date == date(2025, 4, 2)
    assert issued.due_date == date(2025, 4, 2) + timedelta(days=45)


def test_issuing_an_invoice_that_is_not_a_draft_is_refused() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    assert reason_of(driver, cmd.IssueInvoice(invoice_id=invoice.invoice_id)) == "INVALID_INVOICE_STATE"
    pay(driver, invoice)
    assert reason_of(driver, cmd.IssueInvoice(invoice_id=invoice.invoice_id)) == "INVALID_INVOICE_STATE"


def test_issuing_a_void_invoice_is_refused() -> None:
    driver, invoice = billed_march()
    void(driver, invoice)
    assert reason_of(driver, cmd.IssueInvoice(invoice_id=invoice.invoice_id)) == "INVALID_INVOICE_STATE"


# --- payments -------------------------------------------------------------------------------


def test_a_partial_payment_leaves_the_invoice_partially_paid_with_a_balance() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    pay(driver, invoice, money("200.00"))
    current = driver.engagement.invoices[invoice.invoice_id]
    assert current.state is InvoiceState.PARTIALLY_PAID
    assert current.amount_paid == money("200.00")
    assert current.balance_due == money("1000.00")
    assert [p.amount for p in current.payments] == [money("200.00")]


def test_paying_the_whole_balance_makes_the_invoice_paid() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    pay(driver, invoice, money("200.00"))
    pay(driver, invoice, money("1000.00"))
    current = driver.engagement.invoices[invoice.invoice_id]
    assert current.state is InvoiceState.PAID
    assert current.balance_due.amount == 0


def test_a_payment_of_the_whole_balance_goes_straight_to_paid() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    pay(driver, invoice)
    assert driver.engagement.invoices[invoice.invoice_id].state is InvoiceState.PAID


def test_a_payment_above_the_balance_is_an_overpayment() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    pay(driver, invoice, money("1000.00"))
    command = cmd.RecordPayment(
        invoice_id=invoice.invoice_id, amount=money("200.01"), received_date=date(2025, 5, 1)
    )
    assert reason_of(driver, command) == "OVERPAYMENT"


def test_a_payment_in_another_currency_is_a_validation_error() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    with pytest.raises(ValidationError) as raised:
        driver.run(
            cmd.RecordPayment(
                invoice_id=invoice.invoice_id, amount=money("10", "EUR"), received_date=date(2025, 5, 1)
            )
        )
    assert raised.value.field_violations[0].field == "amount.currency_code"


def test_a_draft_cannot_be_paid() -> None:
    driver, invoice = billed_march()
    command = cmd.RecordPayment(
        invoice_id=invoice.invoice_id, amount=money("1"), received_date=date(2025, 5, 1)
    )
    assert reason_of(driver, command) == "INVALID_INVOICE_STATE"


def test_a_payment_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        cmd.RecordPayment(invoice_id="i", amount=money("0"), received_date=date(2025, 5, 1))


# --- void -----------------------------------------------------------------------------------


def test_voiding_an_issued_invoice_creates_a_credit_note_for_its_total_and_releases_its_items() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    void(driver, invoice, "wrong rate")
    voided = driver.engagement.invoices[invoice.invoice_id]
    assert voided.state is InvoiceState.VOID
    assert voided.credit_note is not None
    assert voided.credit_note.amount == invoice.total
    assert voided.credit_note.reason == "wrong rate"
    assert voided.balance_due.amount == 0
    entry, expense = driver.engagement.time_entries["t1"], driver.engagement.expenses["x1"]
    assert (entry.status, entry.invoice_id) == (ItemStatus.APPROVED, "")
    assert (expense.status, expense.invoice_id) == (ItemStatus.APPROVED, "")
    again = bill(driver, month("2025-03"))
    assert again.invoice_id != invoice.invoice_id
    assert amounts(again) == amounts(invoice)
    assert driver.engagement.time_entries["t1"].invoice_id == again.invoice_id


def test_voiding_a_draft_needs_no_credit_note() -> None:
    driver, invoice = billed_march()
    void(driver, invoice)
    assert driver.engagement.invoices[invoice.invoice_id].credit_note is None


def test_voiding_releases_milestones_and_recurring_periods_too() -> None:
    driver = active(fixed(m1="1000"), retainer("3100"))
    accept(driver, "m1")
    invoice = bill(driver, month("2025-01"))
    assert set(amounts(invoice)) == {"m1", "ret:2025-01"}
    void(driver, invoice)
    assert driver.engagement.milestones["m1"].invoice_id == ""
    assert not driver.engagement.billed_recurring
    assert amounts(bill(driver, month("2025-01"))) == amounts(invoice)


@pytest.mark.parametrize("paid", ["200.00", "1200.00"])
def test_a_paid_or_partially_paid_invoice_cannot_be_voided(paid: str) -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    pay(driver, invoice, money(paid))
    assert (
        reason_of(driver, cmd.VoidInvoice(invoice_id=invoice.invoice_id, reason="x"))
        == "INVALID_INVOICE_STATE"
    )


def test_a_void_invoice_cannot_be_voided_again() -> None:
    driver, invoice = billed_march()
    void(driver, invoice)
    assert (
        reason_of(driver, cmd.VoidInvoice(invoice_id=invoice.invoice_id, reason="x"))
        == "INVALID_INVOICE_STATE"
    )


# --- periods already invoiced ---------------------------------------------------------------


def test_the_same_period_cannot_be_invoiced_twice() -> None:
    driver, invoice = billed_march()
    work(driver, "late", date(2025, 3, 20))
    with pytest.raises(PreconditionError) as raised:
        driver.run(cmd.GenerateInvoice(period=month("2025-03")))
    assert raised.value.reason == "PERIOD_ALREADY_INVOICED"
    assert raised.value.metadata == {"invoice_id": invoice.invoice_id}


@pytest.mark.parametrize(
    "overlapping",
    [
        span(date(2025, 3, 31), date(2025, 4, 30)),
        span(date(2025, 2, 1), date(2025, 3, 1)),
        span(date(2025, 3, 10), date(2025, 3, 12)),
        span(date(2025, 1, 1), date(2025, 6, 30)),
        span(date(2025, 3, 1), date(2025, 3, 31)),
    ],
)
def test_a_period_overlapping_an_invoiced_one_cannot_be_invoiced(overlapping: BillingPeriod) -> None:
    driver, _ = billed_march()
    work(driver, "late", date(2025, 2, 20))
    assert reason_of(driver, cmd.GenerateInvoice(period=overlapping)) == "PERIOD_ALREADY_INVOICED"


def test_an_adjacent_period_can_be_invoiced() -> None:
    driver, _ = billed_march()
    work(driver, "apr", date(2025, 4, 1))
    assert set(amounts(bill(driver, span(date(2025, 4, 1), date(2025, 4, 15))))) == {"apr"}


def test_a_period_can_be_invoiced_again_after_its_invoice_is_voided() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    void(driver, invoice)
    assert bill(driver, span(date(2025, 3, 15), date(2025, 4, 15))).state is InvoiceState.DRAFT


def test_a_period_already_invoiced_is_reported_even_when_late_hours_are_over_the_cap() -> None:
    """engagement.proto GenerateInvoice: PERIOD_ALREADY_INVOICED is checked before anything else."""
    driver = active(tm(cap=money("1000")), rate_cards=cards(engineer="100"))
    work(driver, "t1", date(2025, 3, 3), "8")
    bill(driver, month("2025-03"))
    work(driver, "late", date(2025, 3, 4), "8")  # would take the line over its cap
    version = driver.engagement.version
    assert reason_of(driver, cmd.GenerateInvoice(period=month("2025-03"))) == "PERIOD_ALREADY_INVOICED"
    assert driver.engagement.version == version
    assert driver.engagement.time_entries["late"].status is ItemStatus.APPROVED


# --- readiness ------------------------------------------------------------------------------


def test_nothing_approved_means_nothing_to_bill() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"))
    work(driver, "t1", date(2025, 3, 3), approve=False)
    with pytest.raises(PreconditionError) as raised:
        driver.run(cmd.GenerateInvoice(period=month("2025-03")))
    assert raised.value.reason == "NOTHING_TO_BILL"
    assert not driver.engagement.invoices


def test_a_customer_requiring_a_po_blocks_a_contract_without_one() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"), po_reference="")
    work(driver, "t1", date(2025, 3, 3))
    driver.customer = taxed(po_required=True)
    with pytest.raises(PreconditionError) as raised:
        driver.run(cmd.GenerateInvoice(period=month("2025-03")))
    assert raised.value.reason == "NOT_READY"
    assert raised.value.metadata["blockers"] == "MISSING_PO_REFERENCE"
    assert driver.engagement.time_entries["t1"].status is ItemStatus.APPROVED


def test_open_blocking_exceptions_block_invoicing() -> None:
    # Not reachable through commands (blocking exceptions put the engagement ON_HOLD, where
    # GenerateInvoice is refused), so the exception is folded in directly.
    driver = active(tm(), rate_cards=cards(engineer="100"))
    work(driver, "t1", date(2025, 3, 3))
    blocking = BusinessException(
        exception_id="x-1",
        engagement_id="eng-1",
        customer_id="cust-1",
        step=GatedStep.ACTIVATE,
        check="SOMETHING",
        severity=Severity.BLOCKING,
        message="blocked",
        raise_time=driver.now,
    )
    driver.state = evolve(driver.state, ev.BusinessExceptionRaised(exception=blocking), driver.now)
    with pytest.raises(PreconditionError) as raised:
        driver.run(cmd.GenerateInvoice(period=month("2025-03")))
    assert raised.value.reason == "NOT_READY"
    assert "OPEN_BLOCKING_EXCEPTIONS" in raised.value.metadata["blockers"]


def test_a_period_already_invoiced_is_reported_before_not_ready() -> None:
    driver, _invoice = billed_march()
    driver.customer = taxed(po_required=True)
    drop_po(driver)
    assert reason_of(driver, cmd.GenerateInvoice(period=month("2025-03"))) == "PERIOD_ALREADY_INVOICED"


def test_generate_is_refused_outside_active_and_completed() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"))
    driver.run(cmd.CancelEngagement(reason="lost"))
    assert reason_of(driver, cmd.GenerateInvoice(period=month("2025-03"))) == "INVALID_STATE"


# --- bill runs ------------------------------------------------------------------------------


def test_a_bill_run_parks_a_missing_po_as_a_review_exception_once_per_period() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"), po_reference="")
    work(driver, "t1", date(2025, 3, 3))
    driver.customer = taxed(po_required=True)
    events = driver.run(cmd.GenerateInvoice(period=month("2025-03"), bill_run_id="run-1"))
    [raised] = events
    assert isinstance(raised, ev.BusinessExceptionRaised)
    parked = raised.exception
    assert (parked.check, parked.severity, parked.step) == (
        "MISSING_PO_REFERENCE",
        Severity.REVIEW,
        GatedStep.INVOICE,
    )
    assert parked.item_ids == ["2025-03"]
    assert "run-1" in parked.message
    assert driver.engagement.state is EngagementState.ACTIVE
    assert not driver.engagement.invoices
    # re-running the bill run for the same period raises no second exception
    assert reason_of(driver, cmd.GenerateInvoice(period=month("2025-03"), bill_run_id="run-2")) == "NOT_READY"
    assert len(invoicing_exceptions(driver)) == 1
    # another period gets its own
    driver.run(cmd.GenerateInvoice(period=month("2025-04"), bill_run_id="run-3"))
    assert sorted(x.item_ids[0] for x in invoicing_exceptions(driver)) == ["2025-03", "2025-04"]


def test_a_bill_run_parks_again_once_the_parked_exception_is_resolved() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"), po_reference="")
    work(driver, "t1", date(2025, 3, 3))
    driver.customer = taxed(po_required=True)
    [first] = driver.run(cmd.GenerateInvoice(period=month("2025-03"), bill_run_id="run-1"))
    assert isinstance(first, ev.BusinessExceptionRaised)
    driver.run(
        cmd.ResolveException(exception_id=first.exception.exception_id, resolution_note="asked for a PO")
    )
    [second] = driver.run(cmd.GenerateInvoice(period=month("2025-03"), bill_run_id="run-2"))
    assert isinstance(second, ev.BusinessExceptionRaised)
    assert second.exception.exception_id != first.exception.exception_id


def test_a_bill_run_does_not_park_nothing_to_bill() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"))
    assert (
        reason_of(driver, cmd.GenerateInvoice(period=month("2025-03"), bill_run_id="run-1"))
        == "NOTHING_TO_BILL"
    )
    assert not invoicing_exceptions(driver)


def test_a_bill_run_invoice_records_its_run() -> None:
    driver = active(tm(), rate_cards=cards(engineer="100"))
    work(driver, "t1", date(2025, 3, 3))
    assert bill(driver, month("2025-03"), bill_run_id="run-9").bill_run_id == "run-9"


def test_a_bill_run_rerun_for_an_invoiced_period_bills_nothing_and_parks_nothing() -> None:
    driver, _invoice = billed_march()
    driver.customer = taxed(po_required=True)
    drop_po(driver)
    command = cmd.GenerateInvoice(period=month("2025-03"), bill_run_id="run-2")
    assert reason_of(driver, command) == "PERIOD_ALREADY_INVOICED"
    assert not invoicing_exceptions(driver)


# --- change orders --------------------------------------------------------------------------


def two_cards() -> dict[str, list[RateCard]]:
    return {
        "rc-1": [rate_card(date(2025, 1, 1), rates={"engineer": "100"})],
        "rc-2": [rate_card(date(2025, 1, 1), rate_card_id="rc-2", rates={"engineer": "150"})],
    }


def test_a_change_order_mid_month_reprices_later_work_only() -> None:
    driver = active(tm(), rate_cards=two_cards())
    work(driver, "before", date(2025, 3, 14))
    driver.run(cmd.AmendContract(effective_date=date(2025, 3, 15), billing_lines=[tm(rate_card_id="rc-2")]))
    work(driver, "on", date(2025, 3, 15))
    work(driver, "after", date(2025, 3, 20))
    invoice = bill(driver, month("2025-03"))
    assert amounts(invoice) == {
        "before": Decimal("800.00"),
        "on": Decimal("1200.00"),
        "after": Decimal("1200.00"),
    }
    revisions = {line.source_id: line.contract_revision for line in invoice.lines}
    assert revisions == {"before": 1, "on": 2, "after": 2}
    assert [c.revision for c in driver.engagement.contract_revisions] == [1, 2]
    first_terms = driver.engagement.contract_revisions[0].billing_lines[0].terms
    assert isinstance(first_terms, TimeAndMaterialsTerms) and first_terms.rate_card_id == "rc-1"


def test_a_change_order_inside_an_invoiced_period_is_refused() -> None:
    driver = active(tm(), rate_cards=two_cards())
    work(driver, "t1", date(2025, 2, 3))
    bill(driver, month("2025-02"))
    command = cmd.AmendContract(effective_date=date(2025, 2, 28), billing_lines=[tm(rate_card_id="rc-2")])
    with pytest.raises(PreconditionError) as raised:
        driver.run(command)
    assert raised.value.reason == "EFFECTIVE_DATE_IN_INVOICED_PERIOD"
    assert raised.value.metadata["invoiced_through"] == "2025-02-28"
    driver.run(cmd.AmendContract(effective_date=date(2025, 3, 1), billing_lines=[tm(rate_card_id="rc-2")]))
    assert [c.revision for c in driver.engagement.contract_revisions] == [1, 2]


def test_a_change_order_inside_a_voided_period_is_allowed() -> None:
    driver = active(tm(), rate_cards=two_cards())
    work(driver, "t1", date(2025, 2, 3))
    void(driver, bill(driver, month("2025-02")))
    driver.run(cmd.AmendContract(effective_date=date(2025, 2, 15), billing_lines=[tm(rate_card_id="rc-2")]))
    assert driver.engagement.contract_revisions[-1].effective == date(2025, 2, 15)


def test_a_change_order_must_keep_accepted_milestones_as_they_are() -> None:
    driver = active(fixed(m1="1000", m2="2000"))
    accept(driver, "m1")
    for lines in ([fixed(m1="1500", m2="2000")], [fixed(m2="2000")]):
        with pytest.raises(ValidationError, match="m1"):
            driver.run(cmd.AmendContract(effective_date=date(2025, 3, 1), billing_lines=lines))


def test_a_change_order_must_keep_billed_milestones_as_they_are() -> None:
    driver = active(fixed(m1="1000", m2="2000"))
    accept(driver, "m1")
    bill(driver, month("2025-02"))
    with pytest.raises(ValidationError, match="m1"):
        driver.run(cmd.AmendContract(effective_date=date(2025, 3, 1), billing_lines=[fixed(m2="2000")]))


def test_a_change_order_must_keep_an_accepted_milestone_on_its_line() -> None:
    """engagement.proto AmendContractRequest: same milestone_id, amount and line."""
    driver = active(fixed(m1="1000", m2="2000"))
    accept(driver, "m1")
    moved = [fixed("ff", m2="2000"), fixed("ff2", m1="1000")]
    with pytest.raises(ValidationError, match="m1"):
        driver.run(cmd.AmendContract(effective_date=date(2025, 3, 1), billing_lines=moved))


def test_a_change_order_updates_or_removes_unaccepted_milestones_and_plans_new_ones() -> None:
    driver = active(fixed(m1="1000", m2="2000", m3="3000"))
    accept(driver, "m1")
    driver.run(cmd.CompleteMilestone(milestone_id="m2"))
    lines = [fixed(m1="1000", m2="2500", m4="4000")]
    driver.run(cmd.AmendContract(effective_date=date(2025, 3, 1), billing_lines=lines))
    milestones = driver.engagement.milestones
    assert sorted(milestones) == ["m1", "m2", "m4"]
    assert milestones["m1"].status is MilestoneStatus.ACCEPTED
    assert milestones["m2"].amount == money("2500")
    assert milestones["m2"].status is MilestoneStatus.COMPLETED
    assert milestones["m4"].status is MilestoneStatus.PLANNED
    assert milestones["m4"].amount == money("4000")


def test_a_change_order_must_take_effect_after_the_latest_revision() -> None:
    """engagement.proto AmendContract: effective_date not after the latest revision's effective_from."""
    driver = active(tm(), rate_cards=two_cards())
    driver.run(cmd.AmendContract(effective_date=date(2025, 5, 1), billing_lines=[tm(rate_card_id="rc-2")]))
    for day in (date(2025, 5, 1), date(2025, 4, 1)):
        with pytest.raises(ValidationError) as raised:
            driver.run(cmd.AmendContract(effective_date=day, billing_lines=[tm()]))
        assert raised.value.field_violations[0].field == "effective_date"


def test_a_change_order_on_the_contract_start_is_refused() -> None:
    driver = active(tm(), rate_cards=two_cards())
    with pytest.raises(ValidationError):
        driver.run(
            cmd.AmendContract(effective_date=date(2025, 1, 1), billing_lines=[tm(rate_card_id="rc-2")])
        )


def test_a_change_order_outside_the_contract_period_is_refused() -> None:
    driver = active(tm(), rate_cards=two_cards())
    with pytest.raises(ValidationError):
        driver.run(
            cmd.AmendContract(effective_date=date(2026, 1, 1), billing_lines=[tm(rate_card_id="rc-2")])
        )


def test_a_retainer_change_order_applies_from_the_next_month_not_yet_billed() -> None:
    driver = active(retainer("1000"), retainer("5000", line_id="ret2"))
    bill(driver, month("2025-01"))
    driver.run(cmd.AmendContract(effective_date=date(2025, 2, 1), billing_lines=[retainer("2000")]))
    invoice = bill(driver, month("2025-02"))
    assert amounts(invoice) == {"ret:2025-02": Decimal("2000.00")}  # ret2 left out: ends on Jan 31


# --- closing --------------------------------------------------------------------------------


def test_the_payment_settling_the_last_invoice_of_a_completed_engagement_closes_it() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    driver.run(cmd.CompleteEngagement())
    assert driver.engagement.state is EngagementState.COMPLETED
    pay(driver, invoice, money("200"))
    assert driver.engagement.state is EngagementState.COMPLETED  # partially paid: not yet
    events = pay(driver, invoice)
    assert isinstance(events[-1], ev.EngagementClosed)
    assert isinstance(events[0], ev.PaymentRecorded)
    assert driver.engagement.state.value == "CLOSED"


def test_an_active_engagement_never_closes_on_payment() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    events = pay(driver, invoice)
    assert not any(isinstance(e, ev.EngagementClosed) for e in events)
    assert driver.engagement.state is EngagementState.ACTIVE


def test_completing_with_every_invoice_paid_and_nothing_unbilled_closes_at_once() -> None:
    driver, invoice = billed_march()
    issue(driver, invoice)
    pay(driver, invoice)
    events = driver.run(cmd.CompleteEngagement())
    assert [type(e) for e in events] == [ev.EngagementCompleted, ev.EngagementClosed]
    assert driver.engagement.state is EngagementState.CLOSED


def test_a_completed_engagement_with_unbilled_approved_work_does_not_close() -> None:
    driver, invoice = billed_march()
    work(driver, "later", date(2025, 4, 2))
    issue(driver, invoice)
    driver.run(cmd.CompleteEngagement())
    pay(driver, invoice)
    assert driver.engagement.state is EngagementState.COMPLETED
    second = issue(driver, bill(driver, month("2025-04")))
    events = pay(driver, second)
    assert isinstance(events[-1], ev.EngagementClosed)


def test_a_completed_engagement_with_a_draft_invoice_does_not_close() -> None:
    driver, _invoice = billed_march()
    driver.run(cmd.CompleteEngagement())
    assert driver.engagement.state is EngagementState.COMPLETED


def test_writing_off_the_last_held_hours_closes_a_settled_completed_engagement() -> None:
    driver = active(tm(cap=money("800")), rate_cards=cards(engineer="100"))
    work(driver, "a", date(2025, 3, 3), "8")
    work(driver, "b", date(2025, 3, 4), "8")
    invoice = issue(driver, bill(driver, month("2025-03")))
    driver.run(cmd.CompleteEngagement())
    pay(driver, invoice)
    assert driver.engagement.state is EngagementState.COMPLETED  # b is held at the cap
    [cap] = [x for x in driver.engagement.exceptions.values() if x.check == "NOT_TO_EXCEED_CAP"]
    events = driver.run(
        cmd.ResolveException(
            exception_id=cap.exception_id, resolution_note="ours", resolution=cmd.Resolution.WRITE_OFF
        )
    )
    assert isinstance(events[-1], ev.EngagementClosed)
    assert driver.engagement.exceptions[cap.exception_id].state is ExceptionState.RESOLVED


def test_rejecting_the_last_pending_item_closes_a_settled_completed_engagement() -> None:
    """Otherwise nothing could ever close it: every invoice is already paid."""
    driver, invoice = billed_march()
    work(driver, "dubious", date(2025, 3, 5), approve=False)
    issue(driver, invoice)
    driver.run(cmd.CompleteEngagement())
    pay(driver, invoice)
    assert driver.engagement.state is EngagementState.COMPLETED
    events = driver.run(cmd.RejectTimeEntries(entry_ids=["dubious"], reason="not ours"))
    assert isinstance(events[-1], ev.EngagementClosed)


def test_an_unbilled_retainer_month_keeps_a_completed_engagement_open() -> None:
    driver = active(retainer("3100"))
    invoice = issue(driver, bill(driver, span(date(2025, 1, 1), date(2025, 2, 28))))
    driver.now = datetime(2025, 3, 10, tzinfo=UTC)
    driver.run(cmd.CompleteEngagement())
    pay(driver, invoice)
    assert driver.engagement.state is EngagementState.COMPLETED  # March 1-10 is not billed yet
    last = issue(driver, bill(driver, month("2025-03")))
    assert amounts(last) == {"ret:2025-03": Decimal("1000.00")}
    assert isinstance(pay(driver, last)[-1], ev.EngagementClosed)


def test_an_unbilled_subscription_period_keeps_a_completed_engagement_open() -> None:
    from .billing_builders import subscription

    driver = active(subscription("500"), activated=date(2025, 1, 15))
    invoice = issue(driver, bill(driver, month("2025-01")))
    driver.now = datetime(2025, 2, 20, tzinfo=UTC)
    driver.run(cmd.CompleteEngagement())
    pay(driver, invoice)
    assert driver.engagement.state is EngagementState.COMPLETED  # 2025-02-15 period unbilled
