"""A hypothesis state machine over the engagement: random commands, replay and lifecycle invariants."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from q2c_core.domain import commands as cmd
from q2c_core.domain import events as ev
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.decide import decide
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import (
    BillingLine,
    EngagementState,
    ItemStatus,
    RetainerTerms,
    StaffingAssignment,
    SubscriptionTerms,
)
from q2c_core.domain.errors import InvalidStateError, NotFoundError, Q2cError
from q2c_core.domain.evolve import evolve, fold
from q2c_core.domain.invoices import ReconciliationMismatch
from q2c_core.domain.lifecycle import TERMINAL_STATES, Allowed, Rejected, outcome
from q2c_core.domain.money import Money
from q2c_core.domain.reference import Customer, CustomerStatus, RateCard, TaxProfile

from .builders import (
    CUSTOMER_ID,
    ENGAGEMENT_ID,
    HAPPY_PATH,
    T0,
    customer,
    expense_line,
    fixed_fee_line,
    principal_for,
    rate_card,
    tm_line,
)

S = EngagementState
JAN1 = date(2025, 1, 1)

CUSTOMERS: dict[str, Customer | None] = {
    "complete": customer(),
    "with_service_line": customer(service_line="advisory"),
    "no_tax_profile": customer(tax_profile=None),
    "blank_jurisdiction": customer(tax_profile=TaxProfile(jurisdiction=" ")),
    "inactive": customer(status=CustomerStatus.INACTIVE),
    "no_legal_entity": customer(legal_entity=""),
    "po_required": customer(po_required=True),
    "bills_in_eur": customer(billing_currency="EUR"),
    "everything_missing": customer(tax_profile=None, legal_entity="", status=CustomerStatus.INACTIVE),
    "unknown": None,
}
RATE_CARDS: dict[str, dict[str, list[RateCard]]] = {
    "open_ended": {"rc-1": [rate_card(JAN1)]},
    "split_revisions": {
        "rc-1": [rate_card(JAN1, date(2025, 6, 30)), rate_card(date(2025, 7, 1), revision=2)]
    },
    "gap": {"rc-1": [rate_card(JAN1, date(2025, 3, 31)), rate_card(date(2025, 5, 1), revision=2)]},
    "ends_in_march": {"rc-1": [rate_card(JAN1, date(2025, 3, 31))]},
    "starts_in_june": {"rc-1": [rate_card(date(2025, 6, 1))]},
    "forever": {"rc-1": [rate_card(JAN1, date.max)]},
    "in_eur": {"rc-1": [rate_card(JAN1, currency="EUR")]},
    "no_roles_we_use": {"rc-1": [rate_card(JAN1, rates={"partner": "500"})]},
    "missing": {},
}

# Plausible values come first (hypothesis shrinks towards them) and more often than the rest.
customers = st.sampled_from(["complete", "complete", "with_service_line", *sorted(CUSTOMERS)])
rate_card_sets = st.sampled_from(["open_ended", "forever", "split_revisions", *sorted(RATE_CARDS)])
amounts = st.sampled_from(["2500.50", "100", "0.01", "1000000", "0"])
entry_ids = st.sampled_from(["t1", "t2", "t3", "t4", "t5", "t6", "ghost"])
expense_ids = st.sampled_from(["e1", "e2", "e3", "ghost"])
milestone_ids = st.sampled_from(["m1", "m2", "m404"])
work_dates = st.sampled_from(
    [
        date(2025, 3, 3),
        date(2025, 3, 4),
        date(2025, 7, 7),
        date(2025, 3, 3),
        date(2025, 1, 15),
        date(2026, 2, 2),
    ]
)
contract_starts = st.sampled_from([date(2025, 2, 1), date(2025, 5, 1)])
reasons = st.sampled_from(["wrong project", "no receipt", "x"])
LATE_COMMANDS = frozenset({"ResolveException", "RecordInvoicePosting", "RaiseReconciliationMismatch"})
"""Accepted after the engagement ended: exceptions, and the ERP's acknowledgements and findings."""
REPEATABLE = frozenset({"RecordInvoicePosting", "RaiseReconciliationMismatch"})
"""Accepted with no events when what they report is already recorded."""


@st.composite
def billing_lines(draw: st.DrawFn, currency: str) -> list[BillingLine]:
    options: dict[str, Callable[[], BillingLine]] = {
        "tm": lambda: tm_line(
            rate_card_id=draw(st.sampled_from(["rc-1", "rc-1", "rc-2"])),
            cap=draw(st.none() | amounts.map(lambda a: Money.of(a, currency))),
        ),
        "ff": lambda: fixed_fee_line("ff", currency=draw(st.sampled_from([currency, currency, "EUR"]))),
        "exp": expense_line,
        "ret": lambda: BillingLine(
            line_id="ret", terms=RetainerTerms(amount_per_month=Money.of(draw(amounts), currency))
        ),
        "sub": lambda: BillingLine(
            line_id="sub", terms=SubscriptionTerms(amount_per_period=Money.of(draw(amounts), currency))
        ),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(options)), min_size=1, max_size=4, unique=True))
    return [options[name]() for name in chosen]


@st.composite
def contracts(draw: st.DrawFn) -> cmd.ApproveContract:
    currency = draw(st.sampled_from(["USD", "USD", "USD", "EUR", "JPY"]))
    start = draw(contract_starts)
    end = draw(st.sampled_from([date(2025, 12, 31), None, start, start + timedelta(days=60)]))
    return cmd.ApproveContract(
        currency=currency,
        start_date=start,
        end_date=end,
        po_reference=draw(st.sampled_from(["PO-1", "", "  po-2 ", "   "])),
        billing_lines=draw(billing_lines(currency)),
    )


activations = st.builds(
    cmd.ActivateEngagement,
    start_date=st.sampled_from(
        [date(2025, 5, 1), None, date(2025, 2, 1), date(2024, 12, 1), date(2027, 1, 1)]
    ),
    project_template_id=st.sampled_from(["tpl-erp", ""]),
    staffing_plan=st.lists(
        st.builds(StaffingAssignment, person=st.sampled_from(["ada", "grace"]), role=st.just("engineer")),
        max_size=2,
    ),
)


def time_entries(plausible: bool) -> st.SearchStrategy[cmd.TimeEntryInput]:
    return st.builds(
        cmd.TimeEntryInput,
        entry_id=entry_ids,
        billing_line_id=st.just("tm") if plausible else st.sampled_from(["tm", "ff", "nope"]),
        person=st.sampled_from(["ada", "grace"]),
        role=st.sampled_from(["engineer", "manager"] if plausible else ["engineer", "astronaut"]),
        work_date=st.sampled_from([date(2025, 3, 3), date(2025, 7, 7)]) if plausible else work_dates,
        hours=st.sampled_from(["8", "4", "0.25"] if plausible else ["12.5", "24", "8"]),
    )


def expenses(plausible: bool) -> st.SearchStrategy[cmd.ExpenseInput]:
    return st.builds(
        cmd.ExpenseInput,
        expense_id=expense_ids,
        billing_line_id=st.just("exp") if plausible else st.sampled_from(["exp", "tm", "nope"]),
        category=st.just("travel"),
        incurred_date=work_dates,
        amount=st.builds(
            Money.of,
            amounts.filter(lambda a: a != "0"),
            st.just("USD") if plausible else st.sampled_from(["USD", "EUR"]),
        ),
    )


# Most batches are plausible so delivery items pile up; some carry a bad entry.
time_batches = st.builds(
    cmd.SubmitTimeEntries,
    entries=st.lists(time_entries(True), min_size=1, max_size=2)
    | st.lists(time_entries(True) | time_entries(False), min_size=1, max_size=3),
)
expense_batches = st.builds(
    cmd.SubmitExpenses,
    expenses=st.lists(expenses(True), min_size=1, max_size=2)
    | st.lists(expenses(True) | expenses(False), min_size=1, max_size=3),
)


def accepts(kind: str) -> Any:
    """Precondition: the engagement exists and the lifecycle table allows `kind` in its state."""
    return lambda self: self.state is not None and isinstance(outcome(self.state.state, kind), Allowed)


def stray_commands() -> st.SearchStrategy[Any]:
    """Any of the 17 lifecycle kinds or the 2 ERP ones, in whatever state the engagement is in."""
    return st.one_of(
        st.just(cmd.CreateEngagement(customer_id=CUSTOMER_ID, display_name="again")),
        st.just(cmd.QualifyEngagement()),
        st.just(cmd.CloseWonEngagement()),
        contracts(),
        activations,
        time_batches,
        st.builds(cmd.ApproveTimeEntries, entry_ids=st.lists(entry_ids, min_size=1, max_size=2)),
        st.builds(
            cmd.RejectTimeEntries, entry_ids=st.lists(entry_ids, min_size=1, max_size=2), reason=reasons
        ),
        expense_batches,
        st.builds(cmd.ApproveExpenses, expense_ids=st.lists(expense_ids, min_size=1, max_size=2)),
        st.builds(
            cmd.RejectExpenses, expense_ids=st.lists(expense_ids, min_size=1, max_size=2), reason=reasons
        ),
        st.builds(cmd.CompleteMilestone, milestone_id=milestone_ids),
        st.builds(cmd.AcceptMilestone, milestone_id=milestone_ids),
        st.builds(cmd.RejectMilestone, milestone_id=milestone_ids, reason=reasons),
        st.just(cmd.CompleteEngagement()),
        st.builds(cmd.CancelEngagement, reason=reasons),
        st.builds(
            cmd.ResolveException,
            exception_id=st.sampled_from(["x-404", "eng-1.x5.1"]),
            resolution_note=reasons,
        ),
        st.builds(
            cmd.RecordInvoicePosting,
            engagement_id=st.just(ENGAGEMENT_ID),
            invoice_id=st.sampled_from([f"{ENGAGEMENT_ID}.inv.1", "inv-404"]),
            erp_document_number=st.sampled_from(["ERP-1", "ERP-2"]),
        ),
        st.builds(
            cmd.RaiseReconciliationMismatch,
            engagement_id=st.just(ENGAGEMENT_ID),
            invoice_id=st.sampled_from([f"{ENGAGEMENT_ID}.inv.1", "inv-404"]),
            mismatch=st.sampled_from([ReconciliationMismatch.UNKNOWN_IN_Q2C, *ReconciliationMismatch]),
            detail=reasons,
            reconciliation_id=st.sampled_from(["rec-1", "rec-2"]),
        ),
    )


class EngagementMachine(RuleBasedStateMachine):
    """Drives one engagement with random commands and checks replay and lifecycle invariants."""

    def __init__(self) -> None:
        super().__init__()
        self.state: Engagement | None = None
        self.journal: list[tuple[ev.Event, datetime]] = []
        self.now = T0
        self.approved_time: set[str] = set()
        self.approved_expenses: set[str] = set()
        self.world_cards = "open_ended"  # the rate cards reference data holds, unless a rule overrides

    # --- driving --------------------------------------------------------------------------

    def attempt(self, command: Any, customer_key: str = "complete", cards_key: str | None = None) -> None:
        """Decide the command; apply what it records; check what a refusal must look like."""
        before = self.state
        ctx = DecisionContext(
            engagement_id=ENGAGEMENT_ID,
            principal=principal_for(command),
            now=self.now,
            customer=CUSTOMERS[customer_key],
            rate_cards=RATE_CARDS[cards_key or self.world_cards],
        )
        self.now += timedelta(minutes=7)
        verdict = outcome(before.state, command.kind) if before is not None else None
        try:
            events = decide(before, command, ctx)
        except Q2cError as error:
            assert self.state == before, "a refused command must not change the state"
            if before is None:
                assert isinstance(error, NotFoundError)
            elif isinstance(verdict, Rejected):
                assert isinstance(error, InvalidStateError)
                assert error.metadata == {"command": command.kind, "state": before.state.value}
            else:
                assert not isinstance(error, InvalidStateError)
            return
        except Exception as error:  # pragma: no cover - reaching here is the bug being hunted
            raise AssertionError(f"decide leaked {type(error).__name__} for {command!r}: {error}") from error
        assert events or command.kind in REPEATABLE, "an accepted command records at least one event"
        assert before is None or isinstance(verdict, Allowed), f"{command.kind} accepted in {before.state}"
        assert before is None or before.state not in TERMINAL_STATES or command.kind in LATE_COMMANDS
        for event in events:
            self.apply(event)
        self.check_transition(before, verdict, command)

    def apply(self, event: Any) -> None:
        assert ev.event_from_payload(ev.event_to_payload(event)) == event
        previous = self.state
        self.state = evolve(previous, event, self.now)
        self.journal.append((event, self.now))
        if previous is None:
            return
        if isinstance(event, ev.BusinessExceptionRaised):
            assert event.exception.exception_id not in previous.exceptions, "exception ids are never reused"
        if isinstance(event, ev.TimeEntriesSubmitted):
            assert not {e.entry_id for e in event.entries} & set(previous.time_entries)
        if isinstance(event, ev.ExpensesSubmitted):
            assert not {e.expense_id for e in event.expenses} & set(previous.expenses)
        if isinstance(event, ev.TimeEntriesApproved):
            assert not set(event.entry_ids) & self.approved_time, "a time entry is approved twice"
            self.approved_time |= set(event.entry_ids)
        if isinstance(event, ev.ExpensesApproved):
            assert not set(event.expense_ids) & self.approved_expenses, "an expense is approved twice"
            self.approved_expenses |= set(event.expense_ids)
        self.check_item_statuses(previous)

    def check_item_statuses(self, previous: Engagement) -> None:
        assert self.state is not None
        moves = {(ItemStatus.SUBMITTED, ItemStatus.APPROVED), (ItemStatus.SUBMITTED, ItemStatus.REJECTED)}
        pairs: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = [
            (previous.time_entries, self.state.time_entries),
            (previous.expenses, self.state.expenses),
        ]
        for old_items, new_items in pairs:
            for item_id, old in old_items.items():
                new = new_items[item_id]
                assert new.status is old.status or (old.status, new.status) in moves, (
                    f"{item_id}: {old.status} -> {new.status}"
                )

    def check_transition(self, before: Engagement | None, verdict: Any, command: Any) -> None:
        assert self.state is not None
        if before is None:
            assert self.state.state is S.DRAFT
            return
        if isinstance(command, cmd.ResolveException):
            assert self.state.state in {before.state, before.held_from}
        elif verdict.target is None:
            assert self.state.state is before.state
        else:
            assert self.state.state in {verdict.target, S.ON_HOLD}

    # --- setup ----------------------------------------------------------------------------

    @initialize(
        depth=st.sampled_from([5, 5, 5, 4, 3, 2, 1, 0]),
        world_cards=st.sampled_from(["open_ended", "forever", "split_revisions"]),
    )
    def walk_part_of_the_happy_path(self, depth: int, world_cards: str) -> None:
        self.world_cards = world_cards
        for _, make in HAPPY_PATH[:depth]:
            self.attempt(make())

    # --- rules: all 17 command kinds ------------------------------------------------------

    @precondition(lambda self: self.state is None)
    @rule(customer_key=customers, service_line=st.sampled_from(["", "erp"]))
    def create(self, customer_key: str, service_line: str) -> None:
        command = cmd.CreateEngagement(customer_id=CUSTOMER_ID, display_name="ERP", service_line=service_line)
        self.attempt(command, customer_key)

    @precondition(accepts("QualifyEngagement"))
    @rule()
    def qualify(self) -> None:
        self.attempt(cmd.QualifyEngagement())

    @precondition(accepts("CloseWonEngagement"))
    @rule(customer_key=customers)
    def close_won(self, customer_key: str) -> None:
        self.attempt(cmd.CloseWonEngagement(), customer_key)

    @precondition(accepts("ApproveContract"))
    @rule(command=contracts(), customer_key=customers, cards_key=rate_card_sets)
    def approve_contract(self, command: cmd.ApproveContract, customer_key: str, cards_key: str) -> None:
        self.attempt(command, customer_key, cards_key)

    @precondition(accepts("ActivateEngagement"))
    @rule(command=activations)
    def activate(self, command: cmd.ActivateEngagement) -> None:
        self.attempt(command)

    @precondition(accepts("SubmitTimeEntries"))
    @rule(command=time_batches, cards_key=st.sampled_from([None, None, *sorted(RATE_CARDS)]))
    def submit_time(self, command: cmd.SubmitTimeEntries, cards_key: str | None) -> None:
        self.attempt(command, cards_key=cards_key)

    def some_ids(self, data: st.DataObject, known: list[str], pool: st.SearchStrategy[str]) -> list[str]:
        """Mostly ids the engagement knows (any status), sometimes strangers or repeats."""
        ids = st.sampled_from(sorted(known)) | pool if known else pool
        return data.draw(st.lists(ids, min_size=1, max_size=3), label="ids")

    @precondition(accepts("ApproveTimeEntries"))
    @rule(data=st.data())
    def approve_time(self, data: st.DataObject) -> None:
        ids = self.some_ids(data, list(self.state.time_entries) if self.state else [], entry_ids)
        self.attempt(cmd.ApproveTimeEntries(entry_ids=ids))

    @precondition(accepts("RejectTimeEntries"))
    @rule(data=st.data(), reason=reasons)
    def reject_time(self, data: st.DataObject, reason: str) -> None:
        ids = self.some_ids(data, list(self.state.time_entries) if self.state else [], entry_ids)
        self.attempt(cmd.RejectTimeEntries(entry_ids=ids, reason=reason))

    @precondition(accepts("SubmitExpenses"))
    @rule(command=expense_batches)
    def submit_expenses(self, command: cmd.SubmitExpenses) -> None:
        self.attempt(command)

    @precondition(accepts("ApproveExpenses"))
    @rule(data=st.data())
    def approve_expenses(self, data: st.DataObject) -> None:
        ids = self.some_ids(data, list(self.state.expenses) if self.state else [], expense_ids)
        self.attempt(cmd.ApproveExpenses(expense_ids=ids))

    @precondition(accepts("RejectExpenses"))
    @rule(data=st.data(), reason=reasons)
    def reject_expenses(self, data: st.DataObject, reason: str) -> None:
        ids = self.some_ids(data, list(self.state.expenses) if self.state else [], expense_ids)
        self.attempt(cmd.RejectExpenses(expense_ids=ids, reason=reason))

    @precondition(accepts("CompleteMilestone"))
    @rule(milestone_id=milestone_ids)
    def complete_milestone(self, milestone_id: str) -> None:
        self.attempt(cmd.CompleteMilestone(milestone_id=milestone_id))

    @precondition(accepts("AcceptMilestone"))
    @rule(milestone_id=milestone_ids)
    def accept_milestone(self, milestone_id: str) -> None:
        self.attempt(cmd.AcceptMilestone(milestone_id=milestone_id))

    @precondition(accepts("RejectMilestone"))
    @rule(milestone_id=milestone_ids, reason=reasons)
    def reject_milestone(self, milestone_id: str, reason: str) -> None:
        self.attempt(cmd.RejectMilestone(milestone_id=milestone_id, reason=reason))

    # Completing and cancelling end delivery, so they fire on one draw in four: runs get deep.
    @precondition(accepts("CompleteEngagement"))
    @rule(now=st.sampled_from([False, False, False, True]))
    def complete(self, now: bool) -> None:
        if now:
            self.attempt(cmd.CompleteEngagement())

    @precondition(accepts("CancelEngagement"))
    @rule(now=st.sampled_from([False, False, False, True]), reason=reasons)
    def cancel(self, now: bool, reason: str) -> None:
        if now:
            self.attempt(cmd.CancelEngagement(reason=reason))

    @precondition(accepts("ResolveException"))
    @rule(data=st.data())
    def resolve_exception(self, data: st.DataObject) -> None:
        known = sorted(self.state.exceptions) if self.state else []
        exception_id = data.draw(st.sampled_from([*known, "x-404"]), label="exception_id")
        self.attempt(cmd.ResolveException(exception_id=exception_id, resolution_note="fixed"))

    @rule(command=stray_commands(), customer_key=customers, cards_key=rate_card_sets)
    def any_command_in_any_state(self, command: Any, customer_key: str, cards_key: str) -> None:
        """Whatever the state, a command is decided or refused with a domain error."""
        self.attempt(command, customer_key, cards_key)

    @rule(data=st.data())
    def advance_along_the_happy_path(self, data: st.DataObject) -> None:
        """Plausible next step for the current state, so runs reach delivery often."""
        current = self.state.state if self.state else None
        if current is S.ON_HOLD:
            open_ids = [x.exception_id for x in self.state.open_blocking()] if self.state else []
            self.attempt(cmd.ResolveException(exception_id=open_ids[0], resolution_note="fixed"))
            return
        steps = {None: 0, S.DRAFT: 1, S.QUALIFIED: 2, S.WON: 3, S.CONTRACTED: 4}
        if current in steps:
            self.attempt(HAPPY_PATH[steps[current]][1]())
        elif current is S.ACTIVE:
            self.attempt(data.draw(time_batches if data.draw(st.booleans()) else expense_batches))

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def folding_the_journal_reproduces_the_state(self) -> None:
        assert fold(self.journal) == self.state

    @invariant()
    def version_counts_the_journal(self) -> None:
        assert (self.state.version if self.state else 0) == len(self.journal)

    @invariant()
    def state_round_trips_through_json(self) -> None:
        if self.state is not None:
            assert Engagement.model_validate(self.state.model_dump(mode="json")) == self.state

    @invariant()
    def on_hold_has_an_open_blocking_exception_and_a_state_to_return_to(self) -> None:
        if self.state is None:
            return
        if self.state.state is S.ON_HOLD:
            assert self.state.open_blocking()
            assert self.state.held_from is not None and self.state.held_from is not S.ON_HOLD
            assert self.state.held_step is not None
        else:
            assert self.state.held_from is None and self.state.held_step is None
            if self.state.state is not S.CANCELLED:
                assert not self.state.open_blocking(), "open blocking exceptions outside ON_HOLD"

    @invariant()
    def terminal_states_accept_only_late_commands(self) -> None:
        if self.state is None or self.state.state not in TERMINAL_STATES:
            return
        refused: list[Any] = [cmd.CancelEngagement(reason="again"), cmd.QualifyEngagement()]
        for command in refused:
            try:
                decide(self.state, command, DecisionContext(ENGAGEMENT_ID, "ops", self.now))
            except InvalidStateError:
                continue
            raise AssertionError(f"{command.kind} accepted in {self.state.state}")
        late = cmd.ResolveException(exception_id="x", resolution_note="n")
        try:  # decided, not refused by the lifecycle: the exception is unknown
            decide(self.state, late, DecisionContext(ENGAGEMENT_ID, "ops", self.now))
        except NotFoundError:
            return
        raise AssertionError(f"an unknown exception was resolved in {self.state.state}")


EngagementMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
TestEngagementLifecycle = EngagementMachine.TestCase
