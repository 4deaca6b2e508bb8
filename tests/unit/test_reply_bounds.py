"""The Engagement reply carries every item unpaged: at every limit, with every string at its bound,
it still fits the gateway's default reply limit, so no accepted input can make it unreadable."""

from __future__ import annotations

from q2c.v1 import common_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.domain import limits as lim
from q2c_core.edge.auth.jwt_verifier import MAX_CLAIM_LENGTH
from q2c_core.edge.server_options import TransportLimits

ENGAGEMENT_ID = "e" * 36  # server-made ids are UUIDs
INVOICE_ID = f"{ENGAGEMENT_ID}.inv.{lim.MAX_INVOICES_PER_ENGAGEMENT}"
ID = "i" * lim.MAX_ID_LENGTH
TEXT = "t" * lim.MAX_TEXT_LENGTH
NAME = "n" * lim.MAX_NAME_LENGTH
ROLE = "r" * lim.MAX_ROLE_LENGTH
MONEY = common_pb2.Money(currency_code="USD", amount="9" * 15 + "." + "9" * 6)


def _time_entry() -> pb.TimeEntry:
    return pb.TimeEntry(
        entry_id=ID,
        billing_line_id=ID,
        person=NAME,
        role=ROLE,
        hours="23.75",
        description=TEXT,
        status=pb.TIME_ENTRY_STATUS_REJECTED,
        rejection_reason=TEXT,
        invoice_id=INVOICE_ID,
        submitted_by="p" * MAX_CLAIM_LENGTH,
    )


def _expense() -> pb.Expense:
    return pb.Expense(
        expense_id=ID,
        billing_line_id=ID,
        category="c" * lim.MAX_REF_LENGTH,
        amount=MONEY,
        description=TEXT,
        status=pb.EXPENSE_STATUS_REJECTED,
        rejection_reason=TEXT,
        invoice_id=INVOICE_ID,
        submitted_by="p" * MAX_CLAIM_LENGTH,
    )


def _milestone() -> pb.Milestone:
    return pb.Milestone(
        milestone_id=ID,
        billing_line_id=ID,
        display_name=NAME,
        amount=MONEY,
        rejection_reason=TEXT,
        invoice_id=INVOICE_ID,
    )


def _contract() -> pb.Contract:
    spec = pb.MilestoneSpec(milestone_id=ID, display_name=NAME, amount=MONEY)
    milestones_left = lim.MAX_MILESTONES_PER_CONTRACT
    lines = []
    for _ in range(lim.MAX_BILLING_LINES):
        take = min(milestones_left, lim.MAX_MILESTONES_PER_LINE)
        milestones_left -= take
        terms = (
            {"fixed_fee": pb.FixedFeeTerms(milestones=[spec] * take)}
            if take
            else {"time_and_materials": pb.TimeAndMaterialsTerms(rate_card_id=ID, not_to_exceed=MONEY)}
        )
        lines.append(pb.BillingLine(line_id=ID, description="d" * lim.MAX_LINE_DESCRIPTION_LENGTH, **terms))
    return pb.Contract(
        revision=1, currency_code="USD", po_reference="p" * lim.MAX_REF_LENGTH, billing_lines=lines
    )


def worst_case_engagement() -> pb.Engagement:
    """An engagement at every limit, every string at its bound."""
    contract = _contract()
    return pb.Engagement(
        engagement_id=ENGAGEMENT_ID,
        customer_id=ID,
        display_name=NAME,
        opportunity_ref="o" * lim.MAX_REF_LENGTH,
        service_line="s" * lim.MAX_REF_LENGTH,
        contract=contract,
        contract_revisions=[contract] * lim.MAX_CONTRACT_REVISIONS,
        time_entries=[_time_entry()] * lim.MAX_TIME_ENTRIES_PER_ENGAGEMENT,
        expenses=[_expense()] * lim.MAX_EXPENSES_PER_ENGAGEMENT,
        milestones=[_milestone()] * lim.MAX_MILESTONES_PER_CONTRACT,
        staffing_plan=[pb.StaffingAssignment(person=NAME, role=ROLE)] * lim.MAX_STAFFING_ASSIGNMENTS,
        invoice_ids=[INVOICE_ID] * lim.MAX_INVOICES_PER_ENGAGEMENT,
        project_template_id=ID,
    )


def test_the_worst_case_engagement_reply_fits_the_default_reply_limit() -> None:
    size = worst_case_engagement().ByteSize()
    assert size < TransportLimits().max_send_message_bytes, size
    assert size > 10 * 2**20  # the limits are not wastefully low either: within ~60 % of the budget
