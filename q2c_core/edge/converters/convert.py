"""The one proto <-> domain converter, re-exported from its per-resource modules."""

from __future__ import annotations

from q2c_core.edge.converters.convert_bill_runs import bill_run_out
from q2c_core.edge.converters.convert_billing_commands import (
    amend_contract,
    bill_run_spec,
    cancel_bill_run,
    generate_invoice,
    issue_invoice,
    readiness_query,
    record_payment,
    void_invoice,
)
from q2c_core.edge.converters.convert_commands import (
    Mutation,
    accept_milestone,
    activate,
    approve_contract,
    approve_expenses,
    approve_time,
    cancel,
    close_won,
    complete,
    complete_milestone,
    create_engagement,
    qualify,
    reject_expenses,
    reject_milestone,
    reject_time,
    resolve_exception,
    submit_expenses,
    submit_time,
)
from q2c_core.edge.converters.convert_common import check_page_size, enum_in, require_id
from q2c_core.edge.converters.convert_engagement import engagement_out
from q2c_core.edge.converters.convert_invoices import (
    engagement_of_invoice,
    invoice_out,
    invoice_state_in,
    readiness_out,
)
from q2c_core.edge.converters.convert_periods import period_out
from q2c_core.edge.converters.convert_records import (
    audit_record_out,
    exception_filters,
    exception_out,
    verify_out,
)
from q2c_core.edge.converters.convert_reference import (
    customer_changes,
    customer_out,
    customer_spec,
    customer_status_filter,
    rate_card_out,
    rate_card_spec,
)

__all__ = [
    "Mutation",
    "accept_milestone",
    "activate",
    "amend_contract",
    "approve_contract",
    "approve_expenses",
    "approve_time",
    "audit_record_out",
    "bill_run_out",
    "bill_run_spec",
    "cancel",
    "cancel_bill_run",
    "check_page_size",
    "close_won",
    "complete",
    "complete_milestone",
    "create_engagement",
    "customer_changes",
    "customer_out",
    "customer_spec",
    "customer_status_filter",
    "engagement_of_invoice",
    "engagement_out",
    "enum_in",
    "exception_filters",
    "exception_out",
    "generate_invoice",
    "invoice_out",
    "invoice_state_in",
    "issue_invoice",
    "period_out",
    "qualify",
    "rate_card_out",
    "rate_card_spec",
    "readiness_out",
    "readiness_query",
    "record_payment",
    "reject_expenses",
    "reject_milestone",
    "reject_time",
    "require_id",
    "resolve_exception",
    "submit_expenses",
    "submit_time",
    "verify_out",
    "void_invoice",
]
