"""Hibernation round trip: a thawed engagement is the state that was frozen, and decides alike.

The two domain state machines (lifecycle: every command kind in every state, with exceptions,
milestones, time and expenses; billing: invoices, payments, voids, cap exceptions) run again
here with each command decided twice: on the live state and on `thaw(freeze(state))`. The
thawed state must equal the live one, dump to the same JSON, and give the same events (or the
same refusal), and applying those events must give equal states. Change orders (AmendContract)
are added to the lifecycle machine as one more rule.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from q2c_core.app.residency import freeze, thaw
from q2c_core.domain import commands as cmd
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.decide import decide
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.errors import Q2cError
from q2c_core.domain.evolve import evolve
from tests.unit import test_billing_properties as billing
from tests.unit import test_lifecycle_machine as lifecycle
from tests.unit.builders import ENGAGEMENT_ID, expense_line, fixed_fee_line, principal_for, tm_line


def _decided(state: Engagement | None, command: Any, ctx: DecisionContext) -> tuple[str, Any]:
    try:
        return "events", decide(state, command, ctx)
    except Q2cError as error:
        return "refused", error.to_payload()


def check_thawed_decides_alike(state: Engagement | None, command: Any, ctx: DecisionContext) -> None:
    """`command` decided on `state` and on its thawed copy: equal states, JSON, events, results."""
    if state is None:
        return
    frozen = freeze(state)
    thawed = thaw(frozen)
    assert thawed == state
    assert thawed.model_dump_json() == state.model_dump_json()
    assert freeze(thawed) == frozen
    live, cold = _decided(state, command, ctx), _decided(thawed, command, ctx)
    assert cold == live, f"{command.kind}: live {live} but thawed {cold}"
    if live[0] == "events":
        after_live, after_cold = state, thawed
        for event in live[1]:
            after_live = evolve(after_live, event, ctx.now)
            after_cold = evolve(after_cold, event, ctx.now)
        assert after_cold == after_live
        assert after_cold.model_dump_json() == after_live.model_dump_json()


class ThawedLifecycle(lifecycle.EngagementMachine):
    """The lifecycle machine, each command also decided on the thawed state; change orders too."""

    def attempt(self, command: Any, customer_key: str = "complete", cards_key: str | None = None) -> None:
        ctx = DecisionContext(
            engagement_id=ENGAGEMENT_ID,
            principal=principal_for(command),
            now=self.now,
            customer=lifecycle.CUSTOMERS[customer_key],
            rate_cards=lifecycle.RATE_CARDS[cards_key or self.world_cards],
        )
        check_thawed_decides_alike(self.state, command, ctx)
        super().attempt(command, customer_key, cards_key)

    @precondition(lifecycle.accepts("AmendContract"))
    @rule(
        effective=st.sampled_from([date(2025, 3, 1), date(2025, 6, 1), date(2024, 1, 1)]),
        lines=st.sampled_from(["tm", "tm+exp", "ff", "all"]),
        po=st.sampled_from([None, "PO-9", ""]),
    )
    def amend_contract(self, effective: date, lines: str, po: str | None) -> None:
        currency = self.state.contract.currency if self.state and self.state.contract else "USD"
        chosen = {
            "tm": [tm_line()],
            "tm+exp": [tm_line(), expense_line()],
            "ff": [fixed_fee_line("ff", "m1", currency=currency)],
            "all": [tm_line(), expense_line(), fixed_fee_line("ff", "m1", "m2", currency=currency)],
        }[lines]
        self.attempt(cmd.AmendContract(effective_date=effective, billing_lines=chosen, po_reference=po))


class ThawedBilling(billing.BillingMachine):
    """The billing machine, each command also decided on the thawed state."""

    def attempt(self, command: Any) -> Any:
        ctx = DecisionContext(
            engagement_id=ENGAGEMENT_ID,
            principal=principal_for(command),
            now=self.now,
            customer=self.customer,
            rate_cards=self.rate_cards,
        )
        check_thawed_decides_alike(self.state, command, ctx)
        return super().attempt(command)


ThawedLifecycle.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
TestThawedLifecycle = ThawedLifecycle.TestCase
ThawedBilling.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
TestThawedBilling = ThawedBilling.TestCase
