"""Separation of duties: whoever submitted time or expenses may not approve them.

Finance's control: an approval is a second pair of eyes, so the principal that submitted
an item cannot be the one that approves it. Rejecting one's own items stays allowed: a
rejection only withdraws work (nothing becomes billable), which is what a submitter who
spots a mistake should do. Items recorded before submitters were kept (submitted_by "")
have no known submitter and may be approved by anyone. Small firms where one person does
both can be exempted per tenant (SelfApprovalPolicy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from q2c_core.domain.context import DecisionContext
from q2c_core.domain.entities import Expense, TimeEntry
from q2c_core.domain.errors import PermissionDeniedError

SELF_APPROVAL = "SELF_APPROVAL"
"""The rejection reason when a principal tries to approve items it submitted."""


@dataclass(frozen=True, slots=True)
class SelfApprovalPolicy:
    """Which tenants let a principal approve its own submissions (nobody, by default)."""

    exempt_tenants: frozenset[str] = frozenset()

    def allows(self, tenant_id: str) -> bool:
        """True when the tenant lets submitters approve their own time and expenses."""
        return tenant_id in self.exempt_tenants


NOBODY_EXEMPT = SelfApprovalPolicy()
"""The default: separation of duties holds for every tenant."""


def _submitted_by(item: TimeEntry | Expense | None, principal: str) -> bool:
    """The item names `principal` as its submitter (an unknown submitter names nobody)."""
    return item is not None and bool(item.submitted_by) and item.submitted_by == principal


def refuse_self_approval(
    ids: list[str], known: Mapping[str, TimeEntry | Expense], resource: str, ctx: DecisionContext
) -> None:
    """PermissionDeniedError SELF_APPROVAL naming every listed item the caller submitted."""
    if ctx.allow_self_approval:
        return
    own = [i for i in ids if _submitted_by(known.get(i), ctx.principal)]
    if own:
        raise PermissionDeniedError(
            SELF_APPROVAL,
            f"{ctx.principal} submitted {resource} {', '.join(own)} and may not approve them;"
            " another principal must approve",
            {"resource": resource, "ids": ",".join(own), "principal": ctx.principal},
        )
