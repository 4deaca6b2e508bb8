"""Business-exception routing: owner queues, SLA due times, age, and data from before routing."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BusinessException,
    EngagementState,
    ExceptionState,
    GatedStep,
    OwnerQueue,
    Severity,
)
from q2c_core.domain.invoicing import CAP_CHECK, PARKING
from q2c_core.domain.reconciliation import RECONCILIATION_CHECK
from q2c_core.domain.routing import (
    ROUTES,
    SLA_BUSINESS_DAYS,
    STEP_DEFAULTS,
    add_business_days,
    owner_queue,
    route,
    routing_defaults,
    sla_due_time,
)

from .billing_builders import active, bill, cards, money, month, tm, work
from .builders import Driver, customer, driven_to

DOMAIN = Path(__file__).resolve().parents[2] / "q2c_core" / "domain"
MON = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)  # a Monday
FRI = MON + timedelta(days=4)
SAT = MON + timedelta(days=5)

F, D, S = OwnerQueue.FINANCE_OPS, OwnerQueue.DELIVERY_OPS, OwnerQueue.SALES_OPS


# --- the routing table -----------------------------------------------------------------------


def raised_checks() -> set[str]:
    """Every check name the policies raise (gate.add("NAME", ...)) plus the invoicing and ERP ones."""
    source = (DOMAIN / "policies.py").read_text()
    return {*re.findall(r'\.add\(\s*"([A-Z_]+)"', source), CAP_CHECK, *PARKING, RECONCILIATION_CHECK}


def test_every_check_the_domain_raises_has_an_explicit_route() -> None:
    checks = raised_checks()
    assert len(checks) >= 17  # the scan found the gates' checks
    assert checks <= set(ROUTES), sorted(checks - set(ROUTES))


@pytest.mark.parametrize(
    ("check", "queue"),
    [
        ("CUSTOMER_ACTIVE", S),
        ("LEGAL_ENTITY_MAPPED", S),
        ("SERVICE_LINE_SET", S),
        ("TAX_PROFILE_PRESENT", F),
        ("PO_REFERENCE_FORMAT", F),
        ("PO_REFERENCE_PRESENT", F),
        ("RATE_CARD_CURRENCY", F),
        ("RATE_CARD_EFFECTIVE", F),
        ("CONTRACT_CURRENCY_MATCHES_CUSTOMER", F),
        ("TM_CAP_SET", F),
        ("NOT_TO_EXCEED_CAP", F),
        ("MISSING_PO_REFERENCE", F),
        ("MISSING_TAX_PROFILE", F),
        ("UNPRICED_TIME", F),
        ("ERP_RECONCILIATION", F),
        ("START_DATE_SET", D),
        ("START_DATE_WITHIN_CONTRACT", D),
        ("DELIVERY_READINESS", D),
    ],
)
def test_known_checks_route_to_their_queue(check: str, queue: OwnerQueue) -> None:
    for step in GatedStep:  # the check decides, not the step
        assert owner_queue(check, step) is queue


@pytest.mark.parametrize(
    ("step", "queue"),
    [
        (GatedStep.CLOSE_WON, S),
        (GatedStep.APPROVE_CONTRACT, F),
        (GatedStep.ACTIVATE, D),
        (GatedStep.INVOICE, F),
    ],
)
def test_an_unknown_check_goes_to_the_queue_of_its_step(step: GatedStep, queue: OwnerQueue) -> None:
    assert owner_queue("SOME_FUTURE_CHECK", step) is queue
    assert STEP_DEFAULTS[step] is queue


# --- SLA -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (MON, 1, MON + timedelta(days=1)),
        (MON, 3, MON + timedelta(days=3)),
        (FRI, 1, FRI + timedelta(days=3)),  # Friday + 1 -> Monday, same time of day
        (FRI - timedelta(days=1), 2, FRI + timedelta(days=3)),  # Thursday + 2 -> Monday
        (SAT, 1, SAT + timedelta(days=2)),  # Saturday + 1 -> Monday
        (SAT + timedelta(days=1), 1, SAT + timedelta(days=2)),  # Sunday + 1 -> Monday
        (MON, 0, MON),
    ],
)
def test_business_days_skip_weekends_and_keep_the_time_of_day(
    start: datetime, days: int, due: datetime
) -> None:
    assert add_business_days(start, days) == due


def test_business_days_count_in_utc() -> None:
    from zoneinfo import ZoneInfo

    # Friday 23:30 UTC is Saturday in Tokyo; counted in UTC it is a Friday: due Monday 23:30 UTC.
    friday_late = datetime(2026, 3, 6, 23, 30, tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    assert add_business_days(friday_late, 1) == datetime(2026, 3, 9, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("queue", "severity", "days"),
    [
        (S, Severity.BLOCKING, 1),
        (F, Severity.BLOCKING, 1),
        (D, Severity.BLOCKING, 1),
        (S, Severity.REVIEW, 3),
        (F, Severity.REVIEW, 2),
        (D, Severity.REVIEW, 3),
    ],
)
def test_sla_per_queue_and_severity(queue: OwnerQueue, severity: Severity, days: int) -> None:
    assert SLA_BUSINESS_DAYS[(queue, severity)] == days
    assert sla_due_time(queue, severity, MON) == MON + timedelta(days=days)


@pytest.mark.parametrize("queue", list(OwnerQueue))
def test_auto_corrected_exceptions_have_no_sla(queue: OwnerQueue) -> None:
    assert sla_due_time(queue, Severity.AUTO_CORRECTED, MON) is None


def test_route_gives_queue_and_due_time() -> None:
    assert route("NOT_TO_EXCEED_CAP", GatedStep.INVOICE, Severity.REVIEW, FRI) == (
        F,
        FRI + timedelta(days=4),  # Friday + 2 business days -> Tuesday
    )


# --- age and breach --------------------------------------------------------------------------


def exception(**overrides: Any) -> BusinessException:
    fields: dict[str, Any] = {
        "exception_id": "x1",
        "engagement_id": "e1",
        "customer_id": "c1",
        "step": GatedStep.CLOSE_WON,
        "check": "CUSTOMER_ACTIVE",
        "severity": Severity.BLOCKING,
        "message": "inactive",
        "raise_time": MON,
    }
    fields.update(overrides)
    return BusinessException(**fields)


def test_an_open_exception_ages_until_now_and_breaches_after_its_due_time() -> None:
    x = exception()
    assert x.sla_due_time == MON + timedelta(days=1)
    assert x.age(MON + timedelta(hours=5)) == timedelta(hours=5)
    assert not x.sla_breached(MON + timedelta(days=1))  # due exactly now: not yet breached
    assert x.sla_breached(MON + timedelta(days=1, seconds=1))


def test_a_resolved_exception_ages_until_it_was_resolved() -> None:
    on_time = exception(state=ExceptionState.RESOLVED, resolve_time=MON + timedelta(hours=3))
    late = exception(state=ExceptionState.RESOLVED, resolve_time=MON + timedelta(days=2))
    much_later = MON + timedelta(days=30)
    assert on_time.age(much_later) == timedelta(hours=3)
    assert not on_time.sla_breached(much_later)
    assert late.age(much_later) == timedelta(days=2)
    assert late.sla_breached(much_later)


def test_without_an_sla_nothing_is_breached_and_age_never_goes_negative() -> None:
    corrected = exception(severity=Severity.AUTO_CORRECTED, state=ExceptionState.RESOLVED, resolve_time=MON)
    assert corrected.sla_due_time is None
    assert corrected.age(MON + timedelta(days=9)) == timedelta(0)
    assert not corrected.sla_breached(MON + timedelta(days=9))
    assert exception().age(MON - timedelta(seconds=5)) == timedelta(0)  # a clock behind raise_time


# --- raised by decide ------------------------------------------------------------------------


def test_close_won_raises_a_routed_exception_with_its_sla() -> None:
    from q2c_core.domain.reference import CustomerStatus

    driver = driven_to(EngagementState.QUALIFIED, Driver(customer=customer(status=CustomerStatus.INACTIVE)))
    now = driver.now
    driver.run(cmd.CloseWonEngagement())
    [x] = driver.engagement.exceptions.values()
    assert (x.check, x.owner_queue) == ("CUSTOMER_ACTIVE", S)
    assert x.sla_due_time == add_business_days(now, 1)


def test_auto_corrections_are_routed_without_an_sla() -> None:
    driver = driven_to(EngagementState.CONTRACTED)
    driver.run(cmd.ActivateEngagement(project_template_id="tpl"))  # no start date: corrected
    [x] = [x for x in driver.engagement.exceptions.values() if x.check == "START_DATE_SET"]
    assert (x.owner_queue, x.severity, x.sla_due_time) == (D, Severity.AUTO_CORRECTED, None)


def test_cap_holds_raise_finance_exceptions_due_in_two_business_days() -> None:
    driver = active(tm(cap=money("800")), rate_cards=cards(engineer="100"))
    work(driver, "a", date(2025, 3, 3), "8")
    work(driver, "b", date(2025, 3, 4), "8")
    now = driver.now
    bill(driver, month("2025-03"))
    [cap] = [x for x in driver.engagement.exceptions.values() if x.check == CAP_CHECK]
    assert cap.owner_queue is F
    assert cap.sla_due_time == add_business_days(now, 2)


# --- data written before routing ------------------------------------------------------------


def legacy(x: BusinessException) -> dict[str, Any]:
    """Its JSON as stored before routing existed."""
    data = x.model_dump(mode="json")
    del data["owner_queue"], data["sla_due_time"]
    return data


def test_stored_json_without_routing_fields_loads_with_them_derived() -> None:
    x = exception(check="DELIVERY_READINESS", step=GatedStep.ACTIVATE, severity=Severity.BLOCKING)
    loaded = BusinessException.model_validate(legacy(x))
    assert loaded == x
    assert (loaded.owner_queue, loaded.sla_due_time) == (D, MON + timedelta(days=1))


def test_stored_routing_fields_are_kept_not_rederived() -> None:
    data = exception().model_dump(mode="json")
    data["owner_queue"] = "FINANCE_OPS"
    data["sla_due_time"] = None
    loaded = BusinessException.model_validate(data)
    assert (loaded.owner_queue, loaded.sla_due_time) == (F, None)


def test_a_stored_queue_without_a_due_time_gets_the_due_time_of_that_queue() -> None:
    data = legacy(exception(severity=Severity.REVIEW))
    data["owner_queue"] = "FINANCE_OPS"  # FINANCE_OPS reviews: 2 business days (sales: 3)
    assert BusinessException.model_validate(data).sla_due_time == MON + timedelta(days=2)


def test_malformed_legacy_data_still_fails_validation() -> None:
    data = legacy(exception())
    del data["raise_time"]
    assert routing_defaults(data) == {}
    with pytest.raises(ValueError, match="raise_time"):
        BusinessException.model_validate(data)


def test_old_events_and_snapshots_without_routing_fields_still_load() -> None:
    from q2c_core.domain.reference import CustomerStatus

    driver = driven_to(EngagementState.QUALIFIED, Driver(customer=customer(status=CustomerStatus.INACTIVE)))
    [raised] = [e for e in driver.run(cmd.CloseWonEngagement()) if isinstance(e, ev.BusinessExceptionRaised)]
    payload = ev.event_to_payload(raised)
    exception_json: Any = payload["exception"]
    del exception_json["owner_queue"], exception_json["sla_due_time"]
    replayed = ev.event_from_payload(payload)
    assert replayed == raised

    snapshot = driver.engagement.model_dump(mode="json")
    for data in snapshot["exceptions"].values():
        del data["owner_queue"], data["sla_due_time"]
    assert Engagement.model_validate(snapshot) == driver.engagement
