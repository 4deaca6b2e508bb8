"""The engagement a replayed command's reply carries (idempotency keeps slim results)."""

from __future__ import annotations

from q2c_core.app.commands import StagedBatch
from q2c_core.app.decoding import UnreadableEngagementError, fold_stored
from q2c_core.app.messages import CommandEnvelope, CommandResult
from q2c_core.app.ports import Store
from q2c_core.app.store_errors import StoreError
from q2c_core.domain.errors import UnavailableError


def with_replayed_state(
    store: Store, envelopes: list[CommandEnvelope], staged: StagedBatch
) -> list[CommandResult]:
    """The batch's results, replays given back the engagement as the original reply had it."""
    return [
        state_at(store, envelope, result, staged)
        if result.replayed and result.engagement is None and result.ok and not envelope.slim_reply
        else result
        for envelope, result in zip(envelopes, staged.results, strict=True)
    ]


def state_at(
    store: Store, envelope: CommandEnvelope, result: CommandResult, staged: StagedBatch
) -> CommandResult:
    """The engagement at the result's version: the batch's state before or after, when either
    is at that version (a retry of the latest command, the usual case), else the journal
    folded up to it. The batch has committed by now: a journal that cannot be read fails this
    replay alone (retrying it is safe), never the batch's other commands."""
    key = (envelope.caller.tenant_id, envelope.engagement_id)
    for known in (staged.bases.get(key), staged.states.get(key)):
        if known is not None and known.version == result.version:
            return result.model_copy(update={"engagement": known})
    try:
        events = store.read_events(envelope.caller.tenant_id, envelope.engagement_id)
    except StoreError:
        error = UnavailableError("STORE_UNAVAILABLE", "the store is unavailable; retry")
        return CommandResult(error=error.to_payload())
    journal = [e for e in events if e.seq <= result.version]
    try:
        return result.model_copy(update={"engagement": fold_stored(envelope.engagement_id, journal, None)})
    except UnreadableEngagementError as bad:
        return CommandResult(error=bad.to_payload())
