"""The command pipeline for one batch: load -> decide -> stage writes (pure of I/O but the store)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from q2c_core.app.audit.canonical_json import JsonText
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.app.read_models import InvoiceJson, engagement_row, exception_row, invoice_row, reply_json
from q2c_core.app.records import AuditEntry, EngagementRow, EventRecord, IdempotencyRecord, WriteBatch
from q2c_core.app.reference_data import ReferenceData
from q2c_core.app.rejection_log import bounded_rejection
from q2c_core.domain.commands import command_comment
from q2c_core.domain.context import DecisionContext
from q2c_core.domain.decide import decide, reference_needs
from q2c_core.domain.duties import NOBODY_EXEMPT, SelfApprovalPolicy
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import BusinessException
from q2c_core.domain.errors import ErrorKind, ErrorPayload, Q2cError, RequestIdReusedError
from q2c_core.domain.events import (
    BusinessExceptionRaised,
    BusinessExceptionResolved,
    Event,
    InvoiceGenerated,
    InvoiceIssued,
    InvoiceVoided,
    PaymentRecorded,
    event_to_payload,
)
from q2c_core.domain.evolve import evolve
from q2c_core.domain.invoices import Invoice
from q2c_core.domain.reference import Customer, RateCard

log = logging.getLogger(__name__)
Key = tuple[str, str]  # (tenant_id, engagement_id)


@dataclass(slots=True)
class StagedBatch:
    """The writes of a batch, the results to return once they commit, and the new states."""

    writes: WriteBatch = field(default_factory=WriteBatch)
    results: list[CommandResult] = field(default_factory=list)
    states: dict[Key, Engagement] = field(default_factory=dict)
    snapshot_at: dict[Key, int] = field(default_factory=dict)
    bases: dict[Key, Engagement | None] = field(default_factory=dict)  # the states decided on first


_INVOICE_CHANGES = (InvoiceIssued, PaymentRecorded, InvoiceVoided)


def _changed(events: list[Event], state: Engagement) -> tuple[Invoice | None, BusinessException | None]:
    """The invoice the events created or changed and the exception they resolved, as `state`
    has them (what a slim reply returns instead of the engagement)."""
    invoice: Invoice | None = None
    exception: BusinessException | None = None
    for event in events:
        if isinstance(event, InvoiceGenerated):
            invoice = event.invoice
        elif isinstance(event, _INVOICE_CHANGES):
            invoice = state.invoices.get(event.invoice_id)
        elif isinstance(event, BusinessExceptionResolved):
            exception = state.exceptions.get(event.exception_id)
    return invoice, exception


SNAPSHOT_EVERY = 8
"""Write a full state snapshot when the stored one is this many versions behind (or new)."""


class BatchDecider:
    """Decides a batch of envelopes in order against tentative states, staging one WriteBatch."""

    def __init__(
        self,
        states: dict[Key, Engagement | None],
        idempotency: dict[Key, IdempotencyRecord],
        reference: ReferenceData,
        clock: Callable[[], datetime],
        snapshot_at: dict[Key, int] | None = None,
        self_approval: SelfApprovalPolicy = NOBODY_EXEMPT,
        invoice_json: InvoiceJson | None = None,
    ) -> None:
        self._states = states
        self._self_approval = self_approval
        self._snapshot_at = snapshot_at or {}
        self._base_versions = {key: state.version for key, state in states.items() if state}
        self._idempotency = idempotency
        self._reference = reference
        self._clock = clock
        self.staged = StagedBatch(bases=dict(states))
        self._invoice_json = invoice_json or InvoiceJson()  # the host's: invoices serialized once
        self._seen_requests: dict[Key, tuple[str, str, CommandResult]] = {}
        self._raised: dict[str, tuple[BusinessException, JsonText]] = {}  # this batch's, with their JSON

    def decide_all(self, envelopes: list[CommandEnvelope]) -> StagedBatch:
        """Decide each envelope in arrival order; each is accepted or rejected on its own."""
        for envelope in envelopes:
            self.staged.results.append(self._one(envelope))
        for key, state in self.staged.states.items():
            self.staged.writes.engagements.append(self._engagement_row(key, state))
        return self.staged

    def _engagement_row(self, key: Key, state: Engagement) -> EngagementRow:
        """Columns always; the full snapshot only when new or SNAPSHOT_EVERY versions behind."""
        stale = state.version - self._snapshot_at.get(key, 0) >= SNAPSHOT_EVERY
        if key not in self._base_versions or stale:
            self.staged.snapshot_at[key] = state.version
            return engagement_row(key[0], state, invoices=self._invoice_json)
        return engagement_row(key[0], state, with_snapshot=False)

    def _one(self, envelope: CommandEnvelope) -> CommandResult:
        digest = envelope.digest()
        replay = self._replay(envelope, digest)
        if replay is not None:
            return replay
        key = (envelope.caller.tenant_id, envelope.engagement_id)
        state = self._states.get(key)
        now = self._clock()
        try:
            events = decide(state, envelope.command, self._context(envelope, state, now))
        except Q2cError as error:
            return self._reject(envelope, digest, error.to_payload(), now)
        except Exception:  # a bug in decide must not take the batch down
            log.exception("decide failed for %s on %s", envelope.command.kind, envelope.engagement_id)
            payload = ErrorPayload(kind=ErrorKind.INTERNAL, reason="INTERNAL", message="internal error")
            return self._reject(envelope, digest, payload, now)
        return self._accept(envelope, digest, state, events, now)

    def _replay(self, envelope: CommandEnvelope, digest: str) -> CommandResult | None:
        if not envelope.request_id:
            return None
        key = (envelope.caller.tenant_id, envelope.request_id)
        earlier = self._seen_requests.get(key)
        if earlier is None and key in self._idempotency:
            record = self._idempotency[key]
            earlier = (record.payload_digest, record.stream_id, CommandResult.model_validate(record.response))
        if earlier is None:
            return None
        # the request names its engagement: the same payload for another one is another request
        if earlier[0] != digest or earlier[1] != envelope.engagement_id:
            error = RequestIdReusedError(envelope.request_id).to_payload()
            self._audit(envelope, digest, "REJECTED", error.reason, (), self._clock())
            return CommandResult(error=error)
        replay = earlier[2].model_copy(update={"replayed": True})
        return replay.as_reply(envelope)

    def _context(self, envelope: CommandEnvelope, state: Engagement | None, now: datetime) -> DecisionContext:
        needs = reference_needs(state, envelope.command)
        tenant = envelope.caller.tenant_id
        customer: Customer | None = None
        if needs.customer_id:
            customer = self._reference.customer(tenant, needs.customer_id)
        cards: dict[str, list[RateCard]] = {}
        if needs.rate_card_ids:
            cards = self._reference.rate_cards(tenant, needs.rate_card_ids)
        return DecisionContext(
            engagement_id=envelope.engagement_id,
            principal=envelope.caller.principal,
            now=now,
            customer=customer,
            rate_cards=cards,
            allow_self_approval=self._self_approval.allows(tenant),
        )

    def _accept(
        self,
        envelope: CommandEnvelope,
        digest: str,
        state: Engagement | None,
        events: list[Event],
        now: datetime,
    ) -> CommandResult:
        caller = envelope.caller
        new_state = state
        records = []
        for event in events:
            new_state = evolve(new_state, event, now)
            records.append(
                EventRecord(
                    tenant_id=caller.tenant_id,
                    stream_id=envelope.engagement_id,
                    seq=new_state.version,
                    event_type=event.type,
                    payload=self._payload(event),
                    principal=caller.principal,
                    correlation_id=caller.correlation_id,
                    request_id=envelope.request_id,
                    occurred_at=now,
                )
            )
        assert new_state is not None
        key = (caller.tenant_id, envelope.engagement_id)
        self._states[key] = new_state
        self.staged.states[key] = new_state
        self.staged.writes.events.extend(records)
        if not records:  # an accepted no-op must still have been decided on the current version
            self.staged.writes.version_guards.setdefault(key, self._base_versions.get(key, 0))
        event_ids = [record.event_id for record in records]
        self._stage_read_models(caller.tenant_id, state, new_state)
        self._audit(envelope, digest, "ACCEPTED", None, tuple(event_ids), now)
        invoice, exception = _changed(events, new_state)
        result = CommandResult(
            engagement=new_state,
            event_ids=event_ids,
            version=new_state.version,
            invoice=invoice,
            exception=exception,
        )
        self._remember(envelope, digest, result, now)
        return result.as_reply(envelope)

    def _payload(self, event: Event) -> JsonText:
        """The event's payload, encoded once for the journal and the audit chain's digest."""
        payload = JsonText(event_to_payload(event))
        if isinstance(event, InvoiceGenerated):  # reused by the invoice row and the idempotency record
            invoice = payload["invoice"] = JsonText(cast(dict[str, Any], payload["invoice"]))
            self._invoice_json.remember(event.invoice, invoice)
        elif isinstance(event, BusinessExceptionRaised):  # reused by the exception's row
            raised = payload["exception"] = JsonText(cast(dict[str, Any], payload["exception"]))
            self._raised[event.exception.exception_id] = (event.exception, raised)
        return payload

    def _reject(
        self, envelope: CommandEnvelope, digest: str, error: ErrorPayload, now: datetime
    ) -> CommandResult:
        key = (envelope.caller.tenant_id, envelope.engagement_id)
        # Decided on the state loaded for this batch: the commit checks it is still current.
        self.staged.writes.version_guards.setdefault(key, self._base_versions.get(key, 0))
        self._audit(envelope, digest, "REJECTED", error.reason, (), now)
        result = CommandResult(error=error)
        if error.kind not in (ErrorKind.INTERNAL, ErrorKind.UNAVAILABLE, ErrorKind.CONFLICT):
            self._remember(envelope, digest, result, now)
        return result

    def _audit(
        self,
        envelope: CommandEnvelope,
        digest: str,
        outcome: str,
        reason: str | None,
        event_ids: tuple[str, ...],
        now: datetime,
    ) -> None:
        caller = envelope.caller
        entry = AuditEntry(
            tenant_id=caller.tenant_id,
            stream_id=envelope.engagement_id,
            principal=caller.principal,
            command_type=envelope.command.kind,
            request_id=envelope.request_id,
            correlation_id=caller.correlation_id,
            payload_digest=digest,
            outcome=outcome,  # type: ignore[arg-type]
            rejection_reason=reason,
            comment=command_comment(envelope.command) or None,
            event_ids=event_ids,
            recorded_at=now,
        )
        # a rejection keeps bounded, sanitised fields only (q2c_core.app.rejection_log)
        self.staged.writes.audit.append(bounded_rejection(entry) if outcome == "REJECTED" else entry)

    def _remember(self, envelope: CommandEnvelope, digest: str, result: CommandResult, now: datetime) -> None:
        if not envelope.request_id:
            return
        caller = envelope.caller
        key = (caller.tenant_id, envelope.request_id)
        self._seen_requests[key] = (digest, envelope.engagement_id, result)
        self.staged.writes.idempotency.append(
            IdempotencyRecord(
                tenant_id=caller.tenant_id,
                request_id=envelope.request_id,
                stream_id=envelope.engagement_id,
                command_type=envelope.command.kind,
                payload_digest=digest,
                response=self._response_json(result),
                created_at=now,
            )
        )

    def _response_json(self, result: CommandResult) -> JsonText:
        """The stored reply (slim: the engagement is rebuilt on replay), invoice JSON reused."""
        return reply_json(result, self._invoice_json)

    def _stage_read_models(self, tenant_id: str, before: Engagement | None, after: Engagement) -> None:
        writes = self.staged.writes
        # evolve replaces only what an event touched: identity, not a deep compare of every
        # invoice and its lines, says what changed
        previous = before.exceptions if before else {}
        for exception_id, exception in after.exceptions.items():
            if previous.get(exception_id) is not exception:
                known = self._raised.get(exception_id)
                data = known[1] if known is not None and known[0] is exception else None
                writes.exceptions.append(exception_row(tenant_id, after.engagement_id, exception, data))
        earlier = before.invoices if before else {}
        for invoice_id, invoice in after.invoices.items():
            if earlier.get(invoice_id) is not invoice:
                data = self._invoice_json.dump(earlier.get(invoice_id), invoice)
                writes.invoices.append(invoice_row(tenant_id, invoice, data))
