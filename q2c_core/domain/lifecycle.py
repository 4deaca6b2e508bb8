"""The lifecycle table of DESIGN.md §4: every state x command is a transition or a rejection."""

from __future__ import annotations

from dataclasses import dataclass

from q2c_core.domain.commands import COMMAND_TYPES
from q2c_core.domain.entities import EngagementState as S

OPEN_STATES = frozenset({S.DRAFT, S.QUALIFIED, S.WON, S.CONTRACTED, S.ACTIVE, S.ON_HOLD})
TERMINAL_STATES = frozenset({S.CLOSED, S.CANCELLED})
_DELIVERY = frozenset({S.ACTIVE})
_REVIEWABLE = frozenset({S.ACTIVE, S.COMPLETED})
_INVOICED = frozenset({S.ACTIVE, S.COMPLETED, S.ON_HOLD, *TERMINAL_STATES})
"""Every state an engagement with an issued invoice can be in (cancelled or closed included)."""


@dataclass(frozen=True, slots=True)
class Allowed:
    """The command may be decided; `target` is the state a successful step leads to."""

    target: S | None  # None: the state does not change (or is decided by the command)


@dataclass(frozen=True, slots=True)
class Rejected:
    """The command is refused in this state, with a reason a person can act on."""

    detail: str


Outcome = Allowed | Rejected

# command -> {state it may run in: state it leads to (None = unchanged)}
_TABLE: dict[str, dict[S, S | None]] = {
    "QualifyEngagement": {S.DRAFT: S.QUALIFIED},
    "CloseWonEngagement": {S.QUALIFIED: S.WON},
    "ApproveContract": {S.WON: S.CONTRACTED},
    "ActivateEngagement": {S.CONTRACTED: S.ACTIVE},
    "SubmitTimeEntries": dict.fromkeys(_DELIVERY),
    "ApproveTimeEntries": dict.fromkeys(_REVIEWABLE),
    "RejectTimeEntries": dict.fromkeys(_REVIEWABLE),
    "SubmitExpenses": dict.fromkeys(_DELIVERY),
    "ApproveExpenses": dict.fromkeys(_REVIEWABLE),
    "RejectExpenses": dict.fromkeys(_REVIEWABLE),
    "CompleteMilestone": dict.fromkeys(_DELIVERY),
    "AcceptMilestone": dict.fromkeys(_REVIEWABLE),
    "RejectMilestone": dict.fromkeys(_REVIEWABLE),
    "CompleteEngagement": {S.ACTIVE: S.COMPLETED},
    "CancelEngagement": dict.fromkeys(OPEN_STATES, S.CANCELLED),
    # Exceptions and the ERP's acknowledgements and findings may arrive after the engagement
    # ended (the customer paid and it closed, or it was cancelled with invoices out).
    "ResolveException": dict.fromkeys(S),
    "GenerateInvoice": dict.fromkeys(_REVIEWABLE),
    "IssueInvoice": dict.fromkeys(_REVIEWABLE),
    "RecordPayment": dict.fromkeys(_REVIEWABLE),
    "VoidInvoice": dict.fromkeys(_REVIEWABLE),
    "AmendContract": dict.fromkeys({S.CONTRACTED, S.ACTIVE}),
    "RecordInvoicePosting": dict.fromkeys(_INVOICED),
    "RaiseReconciliationMismatch": dict.fromkeys(S),
}


def outcome(state: S, command_type: str) -> Outcome:
    """What the lifecycle says about running `command_type` in `state`."""
    if command_type == "CreateEngagement":
        return Rejected("the engagement already exists")
    if command_type not in _TABLE:
        raise KeyError(f"unknown command type {command_type!r}")
    allowed = _TABLE[command_type]
    if state in allowed:
        return Allowed(allowed[state])
    if state in TERMINAL_STATES:
        return Rejected(f"the engagement is {state.value.lower()} and accepts no such command")
    if state is S.ON_HOLD:
        return Rejected("the engagement is on hold: resolve its blocking exceptions first")
    expected = ", ".join(sorted(s.value for s in allowed))
    return Rejected(f"allowed only in {expected}")


def table() -> dict[tuple[S, str], Outcome]:
    """The whole table, every state x every command type (for docs and tests)."""
    return {(state, kind): outcome(state, kind) for state in S for kind in COMMAND_TYPES}
