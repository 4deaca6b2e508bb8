"""Proto <-> domain conversion: exact values both ways, proto field paths on bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from q2c.v1 import customer_pb2, rate_card_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.domain.entities import FixedFeeTerms, SubscriptionTerms, TimeAndMaterialsTerms
from q2c_core.domain.errors import ValidationError
from q2c_core.domain.money import Money
from q2c_core.domain.reference import RateCard
from q2c_core.edge.converters import convert
from tests.service.client import contract_request, customer, gdate, money, rate_card


def _paths(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [v.field for v in error.value.field_violations]


def test_contract_billing_lines_become_discriminated_terms() -> None:
    request = contract_request("e-1", "rc-1")
    request.billing_lines.append(
        pb.BillingLine(
            line_id="SUB-1",
            subscription=pb.SubscriptionTerms(
                amount_per_period=money("99.999"), period=pb.BILLING_PERIOD_UNIT_QUARTER
            ),
        )
    )
    mutation = convert.approve_contract(request)
    terms = [line.terms for line in mutation.command.billing_lines]  # type: ignore[union-attr]
    assert isinstance(terms[0], TimeAndMaterialsTerms) and terms[0].not_to_exceed == Money.of("100000", "USD")
    assert isinstance(terms[1], FixedFeeTerms) and len(terms[1].milestones) == 2
    assert isinstance(terms[3], SubscriptionTerms) and terms[3].amount_per_period.amount == Decimal("99.999")
    assert mutation.engagement_id == "e-1" and mutation.request_id == request.request_id


def test_billing_line_without_terms_and_subscription_without_period_are_violations() -> None:
    request = contract_request("e-1", "rc-1")
    request.billing_lines.append(pb.BillingLine(line_id="X"))
    request.billing_lines.append(
        pb.BillingLine(line_id="S", subscription=pb.SubscriptionTerms(amount_per_period=money("1")))
    )
    with pytest.raises(ValidationError) as error:
        convert.approve_contract(request)
    assert _paths(error) == ["billing_lines[3].terms", "billing_lines[4].subscription.period"]


def test_milestone_money_paths_use_proto_names() -> None:
    request = contract_request("e-1", "rc-1")
    request.billing_lines[1].fixed_fee.milestones[1].amount.amount = "abc"
    with pytest.raises(ValidationError) as error:
        convert.approve_contract(request)
    assert _paths(error) == ["billing_lines[1].fixed_fee.milestones[1].amount.amount"]


def test_unset_date_is_none_and_february_30_is_a_violation() -> None:
    request = pb.ActivateEngagementRequest(engagement_id="e-1")
    assert convert.activate(request).command.start_date is None  # type: ignore[union-attr]
    request.start_date.CopyFrom(gdate(date(2025, 2, 1)))
    request.start_date.day = 30
    with pytest.raises(ValidationError) as error:
        convert.activate(request)
    assert _paths(error) == ["start_date"]


def test_customer_spec_validates_nested_tax_profile_with_proto_paths() -> None:
    bad = customer(tax_profile=customer_pb2.TaxProfile(jurisdiction="GB", rate="1.5"))
    with pytest.raises(ValidationError) as error:
        convert.customer_spec(customer_pb2.CreateCustomerRequest(customer=bad))
    assert _paths(error) == ["customer.tax_profile.rate"]


def test_update_only_checks_masked_fields() -> None:
    request = customer_pb2.UpdateCustomerRequest(
        customer=customer_pb2.Customer(customer_id="c-1", payment_terms_days=45),
        update_mask={"paths": ["payment_terms_days", "tax_profile"]},
    )
    assert convert.customer_changes(request) == {"payment_terms_days": 45, "tax_profile": None}


def test_rate_card_role_problems_point_at_the_role_rate() -> None:
    card = rate_card(engineer="150", manager="-5")
    card.rates.append(rate_card_pb2.RoleRate(role="engineer", hourly_rate=money("1")))
    card.rates.append(rate_card_pb2.RoleRate(role="pm", hourly_rate=money("1", "EUR")))
    with pytest.raises(ValidationError) as error:
        convert.rate_card_spec(rate_card_pb2.CreateRateCardRequest(rate_card=card))
    assert _paths(error) == [
        "rate_card.rates[1].hourly_rate.amount",
        "rate_card.rates[2].role",
        "rate_card.rates[3].hourly_rate.currency_code",
    ]


def test_rate_card_round_trips_exact_amounts() -> None:
    spec = convert.rate_card_spec(
        rate_card_pb2.CreateRateCardRequest(rate_card=rate_card(engineer="133.333"))
    )
    card = RateCard(rate_card_id="rc", revision=1, create_time=datetime(2025, 1, 1, tzinfo=UTC), **dict(spec))
    out = convert.rate_card_out(card)
    assert out.rates[0].hourly_rate == money("133.333")
    assert out.effective_from == gdate(date(2025, 1, 1)) and not out.HasField("effective_to")


def test_exception_out_computes_age_and_breach_as_of_now() -> None:
    from datetime import timedelta

    from q2c.v1 import exception_pb2
    from q2c_core.domain.entities import BusinessException, ExceptionState, GatedStep, Severity

    raised = datetime(2026, 3, 6, 9, tzinfo=UTC)  # a Friday: REVIEW in FINANCE_OPS due Tuesday 09:00
    late = BusinessException(
        exception_id="e.x1.1",
        engagement_id="e",
        customer_id="c",
        step=GatedStep.INVOICE,
        check="UNPRICED_TIME",
        severity=Severity.REVIEW,
        message="no rate",
        raise_time=raised,
        state=ExceptionState.RESOLVED,
        resolve_time=raised + timedelta(days=5),
    )
    now = raised + timedelta(days=30)
    out = convert.exception_out(late, now)
    assert out.owner_queue == exception_pb2.OWNER_QUEUE_FINANCE_OPS
    assert out.sla_due_time.ToDatetime(tzinfo=UTC) == raised + timedelta(days=4)
    assert out.age.ToTimedelta() == timedelta(days=5)  # resolved: frozen at resolve_time
    assert out.sla_breached
    still_open = convert.exception_out(late.model_copy(update={"state": ExceptionState.OPEN}), raised)
    assert still_open.age.ToTimedelta() == timedelta(0) and not still_open.sla_breached
