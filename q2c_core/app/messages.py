"""What travels between the gateway, the runtime and the hosts: envelopes and results."""

from __future__ import annotations

import hashlib
import operator
import uuid
from dataclasses import dataclass, fields
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from q2c_core.app.audit.canonical_json import compact_encoder
from q2c_core.domain.commands import Command
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import BusinessException, Contract, EngagementState, GatedStep
from q2c_core.domain.errors import ErrorPayload, Q2cError
from q2c_core.domain.invoices import Invoice

DEFAULT_TENANT = "default"


class Caller(BaseModel):
    """Who is calling, for which tenant, under which correlation id (from metadata or a token)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str = DEFAULT_TENANT
    principal: str = "anonymous"
    correlation_id: str = ""


class CommandEnvelope(BaseModel):
    """One engagement command with its caller and idempotency key; picklable across Ray."""

    model_config = ConfigDict(frozen=True)

    caller: Caller
    engagement_id: str
    request_id: str | None = None
    command: Command
    slim_reply: bool = False  # bulk callers (bill runs) want the outcome, not the whole engagement
    # False (InvoiceView BASIC): the reply's invoice comes without its lines; what idempotency
    # stores keeps them, so a replay can answer in either view
    invoice_lines: bool = True

    def digest(self) -> str:
        """sha256 of the canonical command payload (what idempotency compares)."""
        command = self.command  # model_dump(mode="json") without its keyword plumbing
        return payload_digest(command.kind, command.__pydantic_serializer__.to_python(command, mode="json"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ContractHeader:
    """A contract revision without its billing lines (the BASIC view's `contract`)."""

    revision: int
    currency: str
    start_date: date
    end_date: date | None
    po_reference: str
    approve_time: datetime
    effective_from: date | None

    # pickled as a plain tuple of field values (the dataclass default walks `fields()`)
    def __getstate__(self) -> tuple[object, ...]:
        return _HEADER_STATE(self)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        _restore(self, _HEADER_FIELDS, state)

    @classmethod
    def of(cls, contract: Contract) -> ContractHeader:
        """The header of a contract revision."""
        return cls(
            revision=contract.revision,
            currency=contract.currency,
            start_date=contract.start_date,
            end_date=contract.end_date,
            po_reference=contract.po_reference,
            approve_time=contract.approve_time,
            effective_from=contract.effective_from,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EngagementSummary:
    """An engagement's own fields, none of its collections: what a BASIC reply carries, and what
    a slim result keeps of the engagement (a few hundred bytes across Ray, whatever its size).
    A plain dataclass: made for every command, it must cost next to nothing."""

    engagement_id: str
    customer_id: str
    display_name: str
    opportunity_ref: str
    service_line: str
    expected_start_date: date | None
    start_date: date | None
    state: EngagementState
    held_from: EngagementState | None
    held_step: GatedStep | None
    project_template_id: str
    open_exception_ids: tuple[str, ...]
    contract: ContractHeader | None  # the latest revision
    version: int
    create_time: datetime
    update_time: datetime

    # pickled as a plain tuple of field values (the dataclass default walks `fields()`)
    def __getstate__(self) -> tuple[object, ...]:
        return _SUMMARY_STATE(self)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        _restore(self, _SUMMARY_FIELDS, state)

    @classmethod
    def of(cls, engagement: Engagement) -> EngagementSummary:
        """The summary of an engagement."""
        contract = engagement.contract
        return cls(
            engagement_id=engagement.engagement_id,
            customer_id=engagement.customer_id,
            display_name=engagement.display_name,
            opportunity_ref=engagement.opportunity_ref,
            service_line=engagement.service_line,
            expected_start_date=engagement.expected_start_date,
            start_date=engagement.start_date,
            state=engagement.state,
            held_from=engagement.held_from,
            held_step=engagement.held_step,
            project_template_id=engagement.project_template_id,
            open_exception_ids=tuple(x.exception_id for x in engagement.open_exceptions()),
            contract=ContractHeader.of(contract) if contract is not None else None,
            version=engagement.version,
            create_time=engagement.create_time,
            update_time=engagement.update_time,
        )


_HEADER_FIELDS = tuple(f.name for f in fields(ContractHeader))
_HEADER_STATE = operator.attrgetter(*_HEADER_FIELDS)
_SUMMARY_FIELDS = tuple(f.name for f in fields(EngagementSummary))
_SUMMARY_STATE = operator.attrgetter(*_SUMMARY_FIELDS)


def _restore(instance: object, names: tuple[str, ...], state: tuple[object, ...]) -> None:
    """Set a frozen dataclass's fields from its pickled values (in `fields()` order)."""
    for name, value in zip(names, state, strict=True):
        object.__setattr__(instance, name, value)


class CommandResult(BaseModel):
    """The outcome of one command: the engagement after it, or the error that rejected it."""

    model_config = ConfigDict(frozen=True)

    engagement: Engagement | None = None
    error: ErrorPayload | None = None
    event_ids: list[str] = []
    replayed: bool = False
    version: int = 0  # the engagement's version after the command
    # the invoice a command created or changed (generated, issued, paid, voided), as it left it
    invoice: Invoice | None = None
    exception: BusinessException | None = None  # the exception a command resolved, as resolved
    # What a slim result keeps of the engagement. It crosses Ray (pickled) but is not stored
    # with the idempotency record (excluded from dumps): a replay read from the store has none,
    # and a caller wanting it asks for the engagement (the host rebuilds it at `version`).
    summary: EngagementSummary | None = Field(default=None, exclude=True)

    def slim(self) -> CommandResult:
        """The result without the engagement but with its summary (what idempotency records
        and bulk callers keep, and what a BASIC reply is made of)."""
        if self.engagement is None:
            return self
        summary = self.summary or EngagementSummary.of(self.engagement)
        return self.model_copy(update={"engagement": None, "summary": summary})

    def as_reply(self, envelope: CommandEnvelope) -> CommandResult:
        """This result as `envelope` asks for it back: slim, and its invoice without lines."""
        result = self.slim() if envelope.slim_reply else self
        invoice = result.invoice
        if not envelope.invoice_lines and invoice is not None and invoice.lines:
            result = result.model_copy(update={"invoice": invoice.model_copy(update={"lines": []})})
        return result

    def accepted(self, engagement_id: str) -> CommandResult:
        """This result when the command was accepted; else its rejection raised as the domain
        error, marked audited (the host recorded it with the command)."""
        if self.error is None:
            return self
        error: Q2cError = self.error.to_error()
        error.audited = True
        error.metadata.setdefault("engagement_id", engagement_id)
        raise error

    @property
    def ok(self) -> bool:
        """True when the command was accepted."""
        return self.error is None


def payload_digest(kind: str, payload: object) -> str:
    """sha256 over the command type and its canonical JSON payload."""
    return hashlib.sha256(_canonical({"kind": kind, "payload": payload}).encode()).hexdigest()


# json.dumps(value, sort_keys=True, separators=(",", ":")) byte for byte (ASCII, as json.dumps'
# default), with the C encoder built once rather than for every call (a third of a digest's time)
_canonical = compact_encoder(sort_keys=True, ensure_ascii=True)


_ID_NAMESPACE = uuid.UUID("6f1c2b2e-8a4d-4c43-9a57-3f1f5b0c9e21")


def new_resource_id(tenant_id: str, request_id: str | None, kind: str) -> str:
    """A resource id: derived from (tenant, request_id) so retries route alike, else random."""
    if request_id:
        return str(uuid.uuid5(_ID_NAMESPACE, f"{tenant_id}/{kind}/{request_id}"))
    return str(uuid.uuid4())
