"""The one table of what each RPC needs: OAuth 2 style scopes, `admin` standing for all of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ADMIN = "admin"
"""The scope that grants every other one."""
DASHBOARD_READ = "dashboard:read"
"""The scope of the operations dashboard (an HTTP page, not an RPC: edge/dashboard.py checks it)."""

SCOPES: dict[str, str] = {
    "customers:read": "read customers",
    "customers:write": "create and update customers",
    "ratecards:read": "read rate cards",
    "ratecards:write": "create rate cards and their revisions",
    "engagements:read": "read engagements and invoice readiness",
    "engagements:write": "run the engagement lifecycle; submit time, expenses and milestones",
    "time:approve": "approve or reject time entries",
    "expenses:approve": "approve or reject expenses",
    "milestones:accept": "accept or reject completed milestones",
    "billing:read": "read invoices and bill runs",
    "billing:write": "generate and issue invoices, record payments",
    "billing:run": "start and cancel bill runs",
    "billing:writeoff": "void invoices (credit notes), release or write off amounts held at a cap",
    "exceptions:read": "read business exceptions",
    "exceptions:resolve": "resolve business exceptions",
    "audit:read": "read and verify the audit log, list security events",
    "audit:checkpoint": "write signed audit checkpoints",
    "events:read": "subscribe to the event stream",
    "delivery:admin": "read deliveries and dead letters, retry dead letters",
    "reconciliation:run": "run ERP reconciliation",
    "reports:read": "read business KPIs (quote-to-cash durations, unbilled work, invoice exceptions)",
    DASHBOARD_READ: "open the operations dashboard (pipeline, exceptions, deliveries, bill runs, KPIs)",
    ADMIN: "every scope above",
}
"""Every scope q2c knows, with what it grants (docs/security.md is generated from this)."""

_WRITE_OFF_RESOLUTIONS = {1, 2}  # EXCEPTION_RESOLUTION_RELEASE, EXCEPTION_RESOLUTION_WRITE_OFF


def _resolve_exception(request: Any) -> tuple[str, ...]:
    """Releasing or writing off a capped amount is a write-off as well as a resolution."""
    if getattr(request, "resolution", 0) in _WRITE_OFF_RESOLUTIONS:
        return ("exceptions:resolve", "billing:writeoff")
    return ("exceptions:resolve",)


Rule = str | Callable[[Any], tuple[str, ...]]

METHOD_SCOPES: dict[str, Rule] = {
    "/q2c.v1.CustomerService/CreateCustomer": "customers:write",
    "/q2c.v1.CustomerService/GetCustomer": "customers:read",
    "/q2c.v1.CustomerService/ListCustomers": "customers:read",
    "/q2c.v1.CustomerService/UpdateCustomer": "customers:write",
    "/q2c.v1.RateCardService/CreateRateCard": "ratecards:write",
    "/q2c.v1.RateCardService/GetRateCard": "ratecards:read",
    "/q2c.v1.RateCardService/ListRateCards": "ratecards:read",
    "/q2c.v1.EngagementService/CreateEngagement": "engagements:write",
    "/q2c.v1.EngagementService/GetEngagement": "engagements:read",
    "/q2c.v1.EngagementService/ListEngagements": "engagements:read",
    "/q2c.v1.EngagementService/QualifyEngagement": "engagements:write",
    "/q2c.v1.EngagementService/CloseWonEngagement": "engagements:write",
    "/q2c.v1.EngagementService/ApproveContract": "engagements:write",
    "/q2c.v1.EngagementService/ActivateEngagement": "engagements:write",
    "/q2c.v1.EngagementService/SubmitTimeEntries": "engagements:write",
    "/q2c.v1.EngagementService/ApproveTimeEntries": "time:approve",
    "/q2c.v1.EngagementService/RejectTimeEntries": "time:approve",
    "/q2c.v1.EngagementService/SubmitExpenses": "engagements:write",
    "/q2c.v1.EngagementService/ApproveExpenses": "expenses:approve",
    "/q2c.v1.EngagementService/RejectExpenses": "expenses:approve",
    "/q2c.v1.EngagementService/CompleteMilestone": "engagements:write",
    "/q2c.v1.EngagementService/AcceptMilestone": "milestones:accept",
    "/q2c.v1.EngagementService/RejectMilestone": "milestones:accept",
    "/q2c.v1.EngagementService/CompleteEngagement": "engagements:write",
    "/q2c.v1.EngagementService/CancelEngagement": "engagements:write",
    "/q2c.v1.EngagementService/GetInvoiceReadiness": "engagements:read",
    "/q2c.v1.EngagementService/GenerateInvoice": "billing:write",
    "/q2c.v1.EngagementService/AmendContract": "engagements:write",
    "/q2c.v1.BillingService/GetInvoice": "billing:read",
    "/q2c.v1.BillingService/ListInvoices": "billing:read",
    "/q2c.v1.BillingService/IssueInvoice": "billing:write",
    "/q2c.v1.BillingService/RecordPayment": "billing:write",
    "/q2c.v1.BillingService/VoidInvoice": "billing:writeoff",
    "/q2c.v1.BillingService/StartBillRun": "billing:run",
    "/q2c.v1.BillingService/GetBillRun": "billing:read",
    "/q2c.v1.BillingService/ListBillRuns": "billing:read",
    "/q2c.v1.BillingService/WatchBillRun": "billing:read",
    "/q2c.v1.BillingService/CancelBillRun": "billing:run",
    "/q2c.v1.ExceptionService/ListExceptions": "exceptions:read",
    "/q2c.v1.ExceptionService/GetException": "exceptions:read",
    "/q2c.v1.ExceptionService/ResolveException": _resolve_exception,
    "/q2c.v1.AuditService/ListAuditRecords": "audit:read",
    "/q2c.v1.AuditService/VerifyAuditLog": "audit:read",
    "/q2c.v1.AuditService/ListSecurityEvents": "audit:read",
    "/q2c.v1.AuditService/CreateAuditCheckpoint": "audit:checkpoint",
    "/q2c.v1.AuditService/GetAuditCheckpoint": "audit:read",
    "/q2c.v1.AuditService/ListAuditCheckpoints": "audit:read",
    "/q2c.v1.EventService/SubscribeEvents": "events:read",
    "/q2c.v1.DeliveryService/ListDeadLetters": "delivery:admin",
    "/q2c.v1.DeliveryService/GetDeadLetter": "delivery:admin",
    "/q2c.v1.DeliveryService/RetryDeadLetter": "delivery:admin",
    "/q2c.v1.DeliveryService/ListDeliveries": "delivery:admin",
    "/q2c.v1.DeliveryService/GetDeliveryStats": "delivery:admin",
    "/q2c.v1.ReconciliationService/RunReconciliation": "reconciliation:run",
    "/q2c.v1.ReportingService/GetKpis": "reports:read",
}
"""Full RPC name -> the scope it needs (or a rule naming every scope the request needs)."""


def required_scopes(method: str, request: Any) -> tuple[str, ...] | None:
    """The scopes a call needs; None when the RPC is not in the table (it is then refused)."""
    rule = METHOD_SCOPES.get(method)
    if rule is None:
        return None
    return (rule,) if isinstance(rule, str) else rule(request)


def missing_scopes(granted: frozenset[str], needed: tuple[str, ...]) -> list[str]:
    """The needed scopes `granted` lacks (none when it holds `admin`)."""
    if ADMIN in granted:
        return []
    return [scope for scope in needed if scope not in granted]


def describe(method: str) -> str:
    """The table entry of one RPC as text, for the generated docs."""
    rule = METHOD_SCOPES[method]
    if isinstance(rule, str):
        return rule
    return "exceptions:resolve; plus billing:writeoff to RELEASE or WRITE_OFF a capped amount"
