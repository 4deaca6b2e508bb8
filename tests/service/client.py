"""Test client: stubs bound to a tenant's bearer tokens, request builders and rich-error parsing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from google.type import date_pb2
from grpc_status import rpc_status

from q2c.v1 import (
    audit_pb2_grpc,
    billing_pb2_grpc,
    common_pb2,
    customer_pb2,
    customer_pb2_grpc,
    engagement_pb2_grpc,
    exception_pb2_grpc,
    rate_card_pb2,
    rate_card_pb2_grpc,
)
from q2c.v1 import engagement_pb2 as pb
from tests import credentials

CALL_TIMEOUT = 20.0


@dataclass(frozen=True)
class Stubs:
    """One generated stub per q2c.v1 service."""

    customers: customer_pb2_grpc.CustomerServiceStub
    rate_cards: rate_card_pb2_grpc.RateCardServiceStub
    engagements: engagement_pb2_grpc.EngagementServiceStub
    exceptions: exception_pb2_grpc.ExceptionServiceStub
    audit: audit_pb2_grpc.AuditServiceStub
    billing: billing_pb2_grpc.BillingServiceStub

    @classmethod
    def on(cls, channel: grpc.aio.Channel) -> Stubs:
        """Stubs over one channel."""
        return cls(
            customer_pb2_grpc.CustomerServiceStub(channel),
            rate_card_pb2_grpc.RateCardServiceStub(channel),
            engagement_pb2_grpc.EngagementServiceStub(channel),
            exception_pb2_grpc.ExceptionServiceStub(channel),
            audit_pb2_grpc.AuditServiceStub(channel),
            billing_pb2_grpc.BillingServiceStub(channel),
        )


APPROVALS = frozenset(
    {
        "ApproveTimeEntries",
        "RejectTimeEntries",
        "ApproveExpenses",
        "RejectExpenses",
        "AcceptMilestone",
        "RejectMilestone",
    }
)
"""Decisions on submitted work: made by an approver, never by whoever submitted it."""


class Bound:
    """A stub whose methods always send the caller's token and a deadline.

    With `approver` metadata, approvals (APPROVALS) go out under the approver's token, as in
    a firm where the person who books the time is not the one who approves it.
    """

    def __init__(
        self,
        stub: Any,
        metadata: tuple[tuple[str, str], ...],
        approver: tuple[tuple[str, str], ...] | None = None,
    ) -> None:
        self._stub = stub
        self._metadata = metadata
        self._approver = approver

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._stub, name)
        own = self._approver if self._approver is not None and name in APPROVALS else self._metadata

        def call(request: Any, *, metadata: tuple[tuple[str, str], ...] = (), **kw: Any) -> Any:
            kw.setdefault("timeout", CALL_TIMEOUT)
            return method(request, metadata=own + tuple(metadata), **kw)

        return call


@dataclass
class Api:
    """All services bound to one tenant: `principal` does the work, `approver` approves it."""

    stubs: Stubs
    tenant_id: str
    principal: str
    approver: str = "carol"
    extra: tuple[tuple[str, str], ...] = ()
    metadata: tuple[tuple[str, str], ...] = field(init=False)

    def __post_init__(self) -> None:
        self.metadata = (*credentials.bearer(self.tenant_id, self.principal), *self.extra)
        approver = (*credentials.bearer(self.tenant_id, self.approver), *self.extra)
        for name in ("customers", "rate_cards", "exceptions", "audit", "billing"):
            setattr(self, name, Bound(getattr(self.stubs, name), self.metadata))
        self.engagements = Bound(self.stubs.engagements, self.metadata, approver)

    customers: Any = field(init=False)
    rate_cards: Any = field(init=False)
    engagements: Any = field(init=False)
    exceptions: Any = field(init=False)
    audit: Any = field(init=False)
    billing: Any = field(init=False)


def rid() -> str:
    """A fresh request id."""
    return uuid.uuid4().hex


def gdate(value: date) -> date_pb2.Date:
    """A date on the wire."""
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def money(amount: str, currency: str = "USD") -> common_pb2.Money:
    """Money on the wire."""
    return common_pb2.Money(currency_code=currency, amount=amount)


def customer(**overrides: Any) -> customer_pb2.Customer:
    """A customer that passes every close-won check (override fields to break one)."""
    fields: dict[str, Any] = {
        "display_name": "Acme",
        "legal_entity": "Acme Holdings LLC",
        "billing_currency": "USD",
        "tax_profile": customer_pb2.TaxProfile(jurisdiction="US-NY", rate="0.08875"),
        "service_line": "CONSULTING",
    }
    fields.update(overrides)
    return customer_pb2.Customer(**fields)


def rate_card(
    start: date = date(2025, 1, 1), end: date | None = None, currency: str = "USD", **rates: str
) -> rate_card_pb2.RateCard:
    """A rate card revision (engineer 150, manager 200 unless rates are given)."""
    rates = rates or {"engineer": "150.00", "manager": "200.00"}
    return rate_card_pb2.RateCard(
        display_name="Standard",
        currency_code=currency,
        effective_from=gdate(start),
        effective_to=gdate(end) if end else None,
        rates=[rate_card_pb2.RoleRate(role=r, hourly_rate=money(a, currency)) for r, a in rates.items()],
    )


CONTRACT_START = date(2025, 2, 1)
CONTRACT_END = date(2025, 12, 31)


def contract_request(engagement_id: str, rate_card_id: str, **overrides: Any) -> pb.ApproveContractRequest:
    """A contract with T&M, fixed-fee (two milestones) and pass-through-expense lines."""
    lines = [
        pb.BillingLine(
            line_id="TM-1",
            description="Consulting",
            time_and_materials=pb.TimeAndMaterialsTerms(
                rate_card_id=rate_card_id, not_to_exceed=money("100000")
            ),
        ),
        pb.BillingLine(
            line_id="FF-1",
            fixed_fee=pb.FixedFeeTerms(
                milestones=[
                    pb.MilestoneSpec(milestone_id="M1", display_name="Design", amount=money("5000")),
                    pb.MilestoneSpec(milestone_id="M2", display_name="Build", amount=money("7000")),
                ]
            ),
        ),
        pb.BillingLine(line_id="EXP-1", pass_through_expenses=pb.ExpenseTerms(markup_percent="10")),
    ]
    fields: dict[str, Any] = {
        "request_id": rid(),
        "engagement_id": engagement_id,
        "currency_code": "USD",
        "start_date": gdate(CONTRACT_START),
        "end_date": gdate(CONTRACT_END),
        "po_reference": "PO-1",
        "billing_lines": lines,
    }
    fields.update(overrides)
    return pb.ApproveContractRequest(**fields)


def time_entry(
    n: int, hours: str = "8", role: str = "engineer", day: date = date(2025, 3, 3), person: str = "bob"
) -> pb.TimeEntryInput:
    """One time entry on the T&M line."""
    return pb.TimeEntryInput(
        entry_id=f"T{n}",
        billing_line_id="TM-1",
        person=person,
        role=role,
        work_date=gdate(day),
        hours=hours,
        description="work",
    )


async def rich_error(call: Awaitable[Any]) -> tuple[grpc.StatusCode, status_pb2.Status]:
    """Await a call expected to fail; its code and google.rpc.Status."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        status = rpc_status.from_call(error)
        assert status is not None, f"no rich status on {error.code()}: {error.details()}"
        return error.code(), status
    raise AssertionError("the call succeeded")


def unpack(status: status_pb2.Status, kind: type[Any]) -> list[Any]:
    """Every detail of one type."""
    found = []
    for detail in status.details:
        message = kind()
        if detail.Unpack(message):
            found.append(message)
    return found


def error_info(status: status_pb2.Status) -> error_details_pb2.ErrorInfo:
    """The status's one ErrorInfo (asserting there is exactly one, in domain q2c.v1)."""
    infos = unpack(status, error_details_pb2.ErrorInfo)
    assert len(infos) == 1, infos
    assert infos[0].domain == "q2c.v1"
    return infos[0]


def field_paths(status: status_pb2.Status) -> list[str]:
    """The BadRequest field-violation paths."""
    return [v.field for br in unpack(status, error_details_pb2.BadRequest) for v in br.field_violations]
