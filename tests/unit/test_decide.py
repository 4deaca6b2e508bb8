"""`decide` end to end over the pure core: existence, policy gates, holds and resolutions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.decide import ReferenceNeeds, reference_needs
from q2c_core.domain.entities import (
    EngagementState,
    ExceptionState,
    GatedStep,
    MilestoneStatus,
    Severity,
)
from q2c_core.domain.errors import (
    InvalidStateError,
    NotFoundError,
    PreconditionError,
    Q2cError,
    ValidationError,
)
from q2c_core.domain.money import Money
from q2c_core.domain.reference import CustomerStatus

from .builders import (
    CONTRACT_START,
    ENGAGEMENT_ID,
    Driver,
    activate,
    approve_contract,
    customer,
    driven_to,
    fixed_fee_line,
    rate_card,
    time_entry,
    tm_line,
)

S = EngagementState


def raised(events: list[Any]) -> dict[str, Severity]:
    return {
        e.exception.check: e.exception.severity for e in events if isinstance(e, ev.BusinessExceptionRaised)
    }


def fields(error: Q2cError) -> list[str]:
    return [v.field for v in error.field_violations]


def open_blocking_ids(driver: Driver) -> list[str]:
    return [x.exception_id for x in driver.engagement.open_blocking()]


def state_of(driver: Driver) -> EngagementState:
    return driver.engagement.state


def resolve(exception_id: str) -> cmd.ResolveException:
    return cmd.ResolveException(exception_id=exception_id, resolution_note="fixed in CRM")


# --- existence -----------------------------------------------------------------------------


def test_decide_on_a_nonexistent_engagement_raises_not_found() -> None:
    with pytest.raises(NotFoundError) as caught:
        Driver().decide(cmd.QualifyEngagement())
    assert caught.value.reason == "ENGAGEMENT_NOT_FOUND"
    assert caught.value.metadata == {"resource": "engagement", "id": ENGAGEMENT_ID}


def test_create_records_engagement_created_in_draft() -> None:
    driver = driven_to(S.DRAFT)
    assert driver.engagement.state is S.DRAFT
    assert driver.engagement.engagement_id == ENGAGEMENT_ID
    assert driver.engagement.version == 1
    assert isinstance(driver.journal[0][0], ev.EngagementCreated)


def test_create_for_an_unknown_customer_raises_not_found() -> None:
    driver = Driver(customer=None)
    with pytest.raises(NotFoundError) as caught:
        driver.decide(cmd.CreateEngagement(customer_id="cust-404", display_name="x"))
    assert caught.value.metadata == {"resource": "customer", "id": "cust-404"}


def test_create_on_an_existing_engagement_is_an_invalid_state() -> None:
    driver = driven_to(S.QUALIFIED)
    with pytest.raises(InvalidStateError):
        driver.decide(cmd.CreateEngagement(customer_id="cust-1", display_name="again"))


def test_invalid_state_error_carries_command_and_state_metadata() -> None:
    driver = driven_to(S.DRAFT)
    with pytest.raises(InvalidStateError) as caught:
        driver.decide(activate())
    error = caught.value
    assert isinstance(error, PreconditionError)
    assert error.reason == "INVALID_STATE"
    assert error.metadata == {"command": "ActivateEngagement", "state": "DRAFT"}
    assert "CONTRACTED" in error.message


def test_happy_path_reaches_completed_with_one_version_per_event() -> None:
    driver = driven_to(S.COMPLETED)
    assert driver.engagement.version == len(driver.journal)
    assert driver.engagement.contract is not None
    assert driver.engagement.start_date == CONTRACT_START


def test_cancel_records_the_reason_and_then_nothing_is_accepted() -> None:
    driver = driven_to(S.WON)
    assert driver.run(cmd.CancelEngagement(reason="budget cut")) == [
        ev.EngagementCancelled(reason="budget cut")
    ]
    assert driver.engagement.state is S.CANCELLED
    with pytest.raises(InvalidStateError):
        driver.decide(cmd.QualifyEngagement())


def test_decide_does_not_change_the_state_it_is_given() -> None:
    driver = driven_to(S.QUALIFIED)
    before = driver.engagement.model_copy(deep=True)
    driver.decide(cmd.CloseWonEngagement())
    assert driver.engagement == before


def test_decide_is_deterministic_for_the_same_inputs() -> None:
    driver = driven_to(S.WON)
    command = approve_contract(po_reference=" po-1 ")
    assert driver.decide(command) == driver.decide(command)


# --- close-won gate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        ({"status": CustomerStatus.INACTIVE}, "CUSTOMER_ACTIVE"),
        ({"legal_entity": ""}, "LEGAL_ENTITY_MAPPED"),
        ({"tax_profile": None}, "TAX_PROFILE_PRESENT"),
    ],
)
def test_close_won_with_incomplete_customer_puts_engagement_on_hold(
    overrides: dict[str, Any], check: str
) -> None:
    driver = driven_to(S.QUALIFIED, Driver(customer=customer(**overrides)))
    events = driver.run(cmd.CloseWonEngagement())
    assert raised(events) == {check: Severity.BLOCKING}
    assert events[-1] == ev.EngagementPutOnHold(step=GatedStep.CLOSE_WON, held_from=S.QUALIFIED)
    engagement = driver.engagement
    assert engagement.state is S.ON_HOLD
    assert engagement.held_from is S.QUALIFIED
    assert engagement.held_step is GatedStep.CLOSE_WON
    assert [x.check for x in engagement.open_blocking()] == [check]


def test_close_won_without_tax_profile_puts_engagement_on_hold() -> None:
    driver = driven_to(S.QUALIFIED, Driver(customer=customer(tax_profile=None)))
    driver.run(cmd.CloseWonEngagement())
    assert driver.engagement.state is S.ON_HOLD


def test_close_won_without_customer_reference_data_raises_not_found() -> None:
    driver = driven_to(S.QUALIFIED)
    driver.customer = None
    with pytest.raises(NotFoundError):
        driver.decide(cmd.CloseWonEngagement())


def test_close_won_inherits_missing_service_line_from_customer_as_auto_correction() -> None:
    driver = Driver(customer=customer(service_line="advisory"))
    driver.run(cmd.CreateEngagement(customer_id="cust-1", display_name="Audit"))
    driver.run(cmd.QualifyEngagement())
    events = driver.run(cmd.CloseWonEngagement())
    assert raised(events) == {"SERVICE_LINE_SET": Severity.AUTO_CORRECTED}
    assert events[-1] == ev.EngagementWon(service_line="advisory")
    engagement = driver.engagement
    assert engagement.state is S.WON
    assert engagement.service_line == "advisory"
    (correction,) = engagement.exceptions.values()
    assert correction.state is ExceptionState.RESOLVED
    assert correction.resolved_by == "q2c"
    assert "INHERIT_CUSTOMER_SERVICE_LINE" in correction.correction


def test_resolving_the_last_blocking_exception_returns_to_the_held_from_state() -> None:
    driver = driven_to(S.QUALIFIED, Driver(customer=customer(tax_profile=None)))
    driver.run(cmd.CloseWonEngagement())
    (blocking,) = open_blocking_ids(driver)
    events = driver.run(resolve(blocking))
    assert events[-1] == ev.EngagementReleasedFromHold(returned_to=S.QUALIFIED)
    engagement = driver.engagement
    assert engagement.state is S.QUALIFIED
    assert engagement.held_from is None and engagement.held_step is None
    resolved = engagement.exceptions[blocking]
    assert resolved.state is ExceptionState.RESOLVED
    assert resolved.resolved_by == "ops@example.com"
    assert resolved.resolve_time is not None


def test_after_release_the_fixed_step_can_be_retried() -> None:
    driver = driven_to(S.QUALIFIED, Driver(customer=customer(tax_profile=None)))
    driver.run(cmd.CloseWonEngagement())
    driver.run(resolve(open_blocking_ids(driver)[0]))
    driver.customer = customer()
    driver.run(cmd.CloseWonEngagement())
    assert driver.engagement.state is S.WON


def test_resolving_one_of_two_blocking_exceptions_keeps_the_engagement_on_hold() -> None:
    driver = driven_to(S.QUALIFIED, Driver(customer=customer(tax_profile=None, legal_entity="")))
    driver.run(cmd.CloseWonEngagement())
    first, second = open_blocking_ids(driver)
    events = driver.run(resolve(first))
    assert [type(e) for e in events] == [ev.BusinessExceptionResolved]
    assert state_of(driver) is S.ON_HOLD
    assert open_blocking_ids(driver) == [second]
    driver.run(resolve(second))
    assert state_of(driver) is S.QUALIFIED


def test_on_hold_engagement_refuses_the_gated_step_until_resolved() -> None:
    driver = driven_to(S.QUALIFIED, Driver(customer=customer(tax_profile=None)))
    driver.run(cmd.CloseWonEngagement())
    with pytest.raises(InvalidStateError) as caught:
        driver.decide(cmd.CloseWonEngagement())
    assert caught.value.metadata["state"] == "ON_HOLD"


def test_resolving_an_unknown_exception_raises_not_found() -> None:
    driver = driven_to(S.QUALIFIED)
    with pytest.raises(NotFoundError) as caught:
        driver.decide(resolve("nope"))
    assert caught.value.reason == "EXCEPTION_NOT_FOUND"


def test_resolving_an_exception_twice_is_refused() -> None:
    driver = driven_to(S.QUALIFIED, Driver(customer=customer(tax_profile=None, legal_entity="")))
    driver.run(cmd.CloseWonEngagement())
    first = open_blocking_ids(driver)[0]
    driver.run(resolve(first))
    with pytest.raises(PreconditionError) as caught:
        driver.decide(resolve(first))
    assert caught.value.reason == "EXCEPTION_ALREADY_RESOLVED"


def test_retried_gates_raise_exceptions_with_fresh_ids() -> None:
    driver = driven_to(S.QUALIFIED, Driver(customer=customer(tax_profile=None)))
    driver.run(cmd.CloseWonEngagement())
    first = open_blocking_ids(driver)
    driver.run(resolve(first[0]))
    driver.run(cmd.CloseWonEngagement())
    second = open_blocking_ids(driver)
    assert len(second) == 1 and second != first
    assert len(driver.engagement.exceptions) == 2


# --- approve-contract gate -----------------------------------------------------------------


def test_rate_card_not_effective_for_contract_period_puts_engagement_on_hold() -> None:
    driver = driven_to(S.WON, Driver(rate_cards={"rc-1": [rate_card(date(2025, 1, 1), date(2025, 6, 30))]}))
    events = driver.run(approve_contract())
    assert raised(events) == {"RATE_CARD_EFFECTIVE": Severity.BLOCKING}
    assert driver.engagement.state is S.ON_HOLD
    assert driver.engagement.held_from is S.WON
    assert driver.engagement.held_step is GatedStep.APPROVE_CONTRACT
    assert driver.engagement.contract is None


def test_rate_card_revisions_covering_the_contract_period_together_pass() -> None:
    revisions = [
        rate_card(date(2025, 1, 1), date(2025, 6, 30)),
        rate_card(date(2025, 7, 1), date(2025, 12, 31), revision=2),
    ]
    driver = driven_to(S.WON, Driver(rate_cards={"rc-1": revisions}))
    driver.run(approve_contract())
    assert driver.engagement.state is S.CONTRACTED


def test_missing_po_when_customer_requires_one_puts_engagement_on_hold() -> None:
    driver = driven_to(S.WON, Driver(customer=customer(po_required=True)))
    events = driver.run(approve_contract(po_reference=""))
    assert raised(events) == {"PO_REFERENCE_PRESENT": Severity.BLOCKING}
    assert driver.engagement.state is S.ON_HOLD


def test_po_reference_is_normalized_into_the_contract_and_logged_as_auto_corrected() -> None:
    driver = driven_to(S.WON, Driver(customer=customer(po_required=True)))
    events = driver.run(approve_contract(po_reference=" po-77 "))
    assert raised(events) == {"PO_REFERENCE_FORMAT": Severity.AUTO_CORRECTED}
    assert driver.engagement.state is S.CONTRACTED
    assert driver.engagement.contract is not None
    assert driver.engagement.contract.po_reference == "PO-77"
    assert driver.engagement.open_exceptions() == []


def test_uncapped_time_and_materials_is_queued_for_review_and_the_step_passes() -> None:
    driver = driven_to(S.WON)
    events = driver.run(approve_contract(billing_lines=[tm_line()]))
    assert raised(events) == {"TM_CAP_SET": Severity.REVIEW}
    assert isinstance(events[-1], ev.ContractApproved)
    assert driver.engagement.state is S.CONTRACTED
    (review,) = driver.engagement.open_exceptions()
    assert review.severity is Severity.REVIEW
    assert driver.engagement.open_blocking() == []


def test_blocking_findings_suppress_review_findings_until_the_retry() -> None:
    driver = driven_to(S.WON, Driver(customer=customer(po_required=True)))
    events = driver.run(approve_contract(billing_lines=[tm_line()]))
    assert raised(events) == {"PO_REFERENCE_PRESENT": Severity.BLOCKING}


def test_approved_contract_plans_its_fixed_fee_milestones() -> None:
    driver = driven_to(S.CONTRACTED)
    milestones = driver.engagement.milestones
    assert set(milestones) == {"m1", "m2"}
    assert all(m.status is MilestoneStatus.PLANNED and m.billing_line_id == "ff" for m in milestones.values())
    assert driver.engagement.contract is not None
    assert driver.engagement.contract.revision == 1


def test_contract_naming_an_unknown_rate_card_is_a_validation_error() -> None:
    driver = driven_to(S.WON)
    with pytest.raises(ValidationError) as caught:
        driver.decide(approve_contract(billing_lines=[tm_line(rate_card_id="rc-404")]))
    assert fields(caught.value) == ["billing_lines[0].time_and_materials.rate_card_id"]


def test_contract_amounts_in_another_currency_are_validation_errors() -> None:
    driver = driven_to(S.WON)
    lines = [tm_line(cap=Money.of("10", "EUR")), fixed_fee_line("ff", "m1", currency="EUR")]
    with pytest.raises(ValidationError) as caught:
        driver.decide(approve_contract(billing_lines=lines))
    assert fields(caught.value) == [
        "billing_lines[0].time_and_materials.not_to_exceed.currency_code",
        "billing_lines[1].fixed_fee.milestones[0].amount.currency_code",
    ]


def test_milestone_ids_repeated_across_lines_are_a_validation_error() -> None:
    driver = driven_to(S.WON)
    with pytest.raises(ValidationError) as caught:
        driver.decide(approve_contract(billing_lines=[fixed_fee_line("a", "m1"), fixed_fee_line("b", "m1")]))
    assert fields(caught.value) == ["billing_lines[1].fixed_fee.milestones[0].milestone_id"]


# --- activation gate -----------------------------------------------------------------------


def test_activation_without_template_or_staffing_puts_engagement_on_hold() -> None:
    driver = driven_to(S.CONTRACTED)
    events = driver.run(activate(staffing_plan=[], project_template_id=""))
    assert raised(events) == {"DELIVERY_READINESS": Severity.BLOCKING}
    assert driver.engagement.state is S.ON_HOLD
    assert driver.engagement.held_from is S.CONTRACTED


def test_activation_without_start_date_takes_the_contract_start_as_auto_correction() -> None:
    driver = driven_to(S.CONTRACTED)
    events = driver.run(activate(start_date=None))
    assert raised(events) == {"START_DATE_SET": Severity.AUTO_CORRECTED}
    assert driver.engagement.state is S.ACTIVE
    assert driver.engagement.start_date == CONTRACT_START


# --- reference needs -----------------------------------------------------------------------


def test_reference_needs_name_the_customer_and_rate_cards_each_command_reads() -> None:
    assert reference_needs(None, cmd.CreateEngagement(customer_id="c9", display_name="x")) == ReferenceNeeds(
        "c9", frozenset()
    )
    won = driven_to(S.WON).engagement
    assert reference_needs(won, cmd.CloseWonEngagement()) == ReferenceNeeds("cust-1", frozenset())
    contract = approve_contract(billing_lines=[tm_line("a", "rc-1"), tm_line("b", "rc-2"), fixed_fee_line()])
    assert reference_needs(won, contract) == ReferenceNeeds("cust-1", frozenset({"rc-1", "rc-2"}))
    active = driven_to(S.ACTIVE).engagement
    assert reference_needs(active, cmd.SubmitTimeEntries(entries=[time_entry("t1")])) == ReferenceNeeds(
        None, frozenset({"rc-1"})
    )
    assert reference_needs(active, cmd.CompleteEngagement()) == ReferenceNeeds(None, frozenset())


def test_decide_reads_nothing_beyond_what_reference_needs_names() -> None:
    driver = driven_to(S.ACTIVE)
    driver.customer = None
    driver.run(cmd.SubmitTimeEntries(entries=[time_entry("t1")]))
    assert "t1" in driver.engagement.time_entries
