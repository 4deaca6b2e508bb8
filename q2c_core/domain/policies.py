"""Policy checks guarding close-won, contract approval and activation (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from q2c_core.domain.entities import BillingModel, GatedStep, Severity, TimeAndMaterialsTerms
from q2c_core.domain.reference import Customer, CustomerStatus, RateCard


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed (or auto-corrected) check: the named rule and what it found or fixed."""

    check: str
    severity: Severity
    message: str
    correction: str = ""


@dataclass(slots=True)
class GateResult:
    """All findings of a gate, plus the corrected values the step should use."""

    step: GatedStep
    findings: list[Finding] = field(default_factory=list)
    corrected: dict[str, object] = field(default_factory=dict)

    @property
    def blocking(self) -> list[Finding]:
        """Findings that stop the step and put the engagement on hold."""
        return [f for f in self.findings if f.severity is Severity.BLOCKING]

    def add(self, check: str, severity: Severity, message: str, correction: str = "") -> None:
        """Record a finding."""
        self.findings.append(Finding(check, severity, message, correction))


def check_close_won(customer: Customer, service_line: str) -> GateResult:
    """Customer active, legal entity mapped, service line set, tax profile present."""
    gate = GateResult(GatedStep.CLOSE_WON)
    if customer.status is not CustomerStatus.ACTIVE:
        gate.add("CUSTOMER_ACTIVE", Severity.BLOCKING, f"customer {customer.customer_id} is inactive")
    if not customer.legal_entity.strip():
        gate.add("LEGAL_ENTITY_MAPPED", Severity.BLOCKING, "customer has no legal entity mapping")
    profile = customer.tax_profile
    if profile is None or not profile.jurisdiction.strip():
        gate.add("TAX_PROFILE_PRESENT", Severity.BLOCKING, "customer has no tax profile")
    if service_line:
        gate.corrected["service_line"] = service_line
    elif customer.service_line:
        gate.corrected["service_line"] = customer.service_line
        gate.add(
            "SERVICE_LINE_SET",
            Severity.AUTO_CORRECTED,
            "engagement had no service line",
            f"INHERIT_CUSTOMER_SERVICE_LINE: set to {customer.service_line!r}",
        )
    else:
        gate.add("SERVICE_LINE_SET", Severity.BLOCKING, "neither engagement nor customer has a service line")
    return gate


def covered(revisions: list[RateCard], start: date, end: date | None) -> bool:
    """True when the revisions together are effective on every day of [start, end]."""
    day: date | None = start
    for card in sorted(revisions, key=lambda r: r.effective_from):
        if day is None:
            break
        if card.effective_from > day:
            continue
        if card.effective_to is None or card.effective_to == date.max:  # no day after date.max
            return True
        if card.effective_to >= day:
            day = card.effective_to + timedelta(days=1)
    return day is not None and end is not None and day > end


def normalize_po(reference: str) -> str:
    """NORMALIZE_PO_REFERENCE: trim surrounding spaces and upper-case."""
    return reference.strip().upper()


def check_contract(
    customer: Customer,
    currency: str,
    start: date,
    end: date | None,
    po_reference: str,
    tm_lines: list[TimeAndMaterialsTerms],
    rate_cards: dict[str, list[RateCard]],
) -> GateResult:
    """Billing model valid, rate cards effective and in currency, PO present when required."""
    gate = GateResult(GatedStep.APPROVE_CONTRACT)
    normalized = normalize_po(po_reference)
    gate.corrected["po_reference"] = normalized
    if normalized != po_reference:
        gate.add(
            "PO_REFERENCE_FORMAT",
            Severity.AUTO_CORRECTED,
            "PO reference was not normalized",
            f"NORMALIZE_PO_REFERENCE: {po_reference!r} -> {normalized!r}",
        )
    if customer.po_required and not normalized:
        gate.add("PO_REFERENCE_PRESENT", Severity.BLOCKING, "customer requires a PO reference")
    if currency != customer.billing_currency:
        gate.add(
            "CONTRACT_CURRENCY_MATCHES_CUSTOMER",
            Severity.REVIEW,
            f"contract in {currency}, customer bills in {customer.billing_currency}",
        )
    for terms in tm_lines:
        revisions = rate_cards.get(terms.rate_card_id, [])
        if any(card.currency != currency for card in revisions):
            gate.add(
                "RATE_CARD_CURRENCY",
                Severity.BLOCKING,
                f"rate card {terms.rate_card_id} is not in the contract currency {currency}",
            )
        if not covered(revisions, start, end):
            period = f"{start.isoformat()}..{end.isoformat() if end else 'open-ended'}"
            gate.add(
                "RATE_CARD_EFFECTIVE",
                Severity.BLOCKING,
                f"rate card {terms.rate_card_id} is not effective for the contract period {period}",
            )
        if terms.not_to_exceed is None:
            gate.add(
                "TM_CAP_SET",
                Severity.REVIEW,
                f"time-and-materials on {terms.rate_card_id} has no not-to-exceed cap",
            )
    return gate


def check_activation(
    requested_start: date | None,
    contract_start: date,
    contract_end: date | None,
    project_template_id: str,
    staffing_count: int,
) -> GateResult:
    """Start date set and within the contract; a project template or staffing plan present."""
    gate = GateResult(GatedStep.ACTIVATE)
    start = requested_start
    if start is None:
        start = contract_start
        gate.add(
            "START_DATE_SET",
            Severity.AUTO_CORRECTED,
            "no start date given",
            f"START_DATE_FROM_CONTRACT: set to {contract_start.isoformat()}",
        )
    gate.corrected["start_date"] = start
    if start < contract_start or (contract_end is not None and start > contract_end):
        gate.add(
            "START_DATE_WITHIN_CONTRACT",
            Severity.BLOCKING,
            f"start date {start.isoformat()} is outside the contract period",
        )
    if not project_template_id and staffing_count == 0:
        gate.add(
            "DELIVERY_READINESS",
            Severity.BLOCKING,
            "neither a project template nor a staffing plan is present",
        )
    return gate


BILLING_MODEL_FIELDS: dict[BillingModel, str] = {
    BillingModel.TIME_AND_MATERIALS: "time_and_materials",
    BillingModel.FIXED_FEE: "fixed_fee",
    BillingModel.RETAINER: "retainer",
    BillingModel.PASS_THROUGH_EXPENSES: "pass_through_expenses",
    BillingModel.SUBSCRIPTION: "subscription",
}
"""Wire names of each billing model's terms (used in field-violation paths)."""
