"""Decoding stored engagement state: snapshot and journal -> Engagement, failing clearly.

A stored value that no longer decodes (a corrupted row, a value from before a bound existed)
must not become a crash loop. A bad snapshot is only a cache: it is ignored and the whole journal
folded instead. A bad event raises `UnreadableEngagementError` naming the engagement and the
event's seq (FAILED_PRECONDITION, reason STORED_DATA_UNREADABLE); only that engagement is
affected, the rest of the tenant stays readable and writable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from q2c_core.app.records import EngagementRow, StoredEvent
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.errors import PreconditionError
from q2c_core.domain.events import event_from_payload
from q2c_core.domain.evolve import evolve

log = logging.getLogger(__name__)

REASON = "STORED_DATA_UNREADABLE"
_CAUSE_CHARS = 200


class UnreadableEngagementError(PreconditionError):
    """A stored event (or snapshot) of one engagement cannot be decoded into domain state."""

    def __init__(self, engagement_id: str, part: str, seq: int, detail: str, cause: BaseException) -> None:
        reason = _cause(cause)
        super().__init__(
            REASON,
            f"engagement {engagement_id}: stored {detail} cannot be decoded ({reason}); "
            "the engagement needs repair, the rest of the tenant is unaffected",
            {"engagement_id": engagement_id, "part": part, "seq": str(seq), "cause": reason},
        )
        self.engagement_id = engagement_id
        self.seq = seq


def _cause(error: BaseException) -> str:
    """The error's type and first line, cut short (a bad value can be huge)."""
    first = (str(error).splitlines() or [""])[0]
    text = f"{type(error).__name__}: {first}"
    return text if len(text) <= _CAUSE_CHARS else text[: _CAUSE_CHARS - 1] + "…"


class SnapshotText(Mapping[str, Any]):
    """A stored snapshot as the JSON text its column holds (the store loads it so for
    activations): `decode_snapshot` parses the text straight into an Engagement (pydantic's
    JSON parser, no intermediate dicts: about half the instructions of `json.loads` then
    `model_validate` on a 10 KB snapshot); used as a mapping, it is decoded once, on first use."""

    __slots__ = ("_value", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._value: dict[str, Any] | None = None

    def _decoded(self) -> dict[str, Any]:
        if self._value is None:
            self._value = json.loads(self.text)
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._decoded()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __bool__(self) -> bool:
        return len(self.text) > 2 or bool(self._decoded())  # no decoding for any real snapshot

    def __repr__(self) -> str:
        return f"SnapshotText({self.text!r})"

    def __reduce__(self) -> tuple[type[SnapshotText], tuple[str]]:
        return (SnapshotText, (self.text,))


def decode_snapshot(row: EngagementRow) -> Engagement:
    """The row's snapshot as an Engagement; UnreadableEngagementError when it does not decode."""
    snapshot = row.snapshot
    try:
        if isinstance(snapshot, SnapshotText):
            return Engagement.model_validate_json(snapshot.text)
        return Engagement.model_validate(snapshot)
    except Exception as exc:
        at = row.snapshot_at
        raise UnreadableEngagementError(
            row.engagement_id, "snapshot", at, f"snapshot at version {at}", exc
        ) from None


def fold_stored(
    engagement_id: str, events: Iterable[StoredEvent], base: Engagement | None
) -> Engagement | None:
    """Fold stored events onto `base`; UnreadableEngagementError names the first that fails."""
    state = base
    for stored in events:
        try:
            state = evolve(state, event_from_payload(stored.payload), stored.occurred_at)
        except Exception as exc:
            detail = f"event seq {stored.seq} ({stored.event_type}, id {stored.event_id})"
            raise UnreadableEngagementError(engagement_id, "event", stored.seq, detail, exc) from None
    return state


def rebuild(
    row: EngagementRow | None,
    tail: Sequence[StoredEvent],
    journal: Callable[[], Sequence[StoredEvent]],
    engagement_id: str,
) -> Engagement | None:
    """Snapshot plus the events after it; a snapshot that does not decode is logged and skipped
    in favour of folding the whole `journal()` (UnreadableEngagementError if an event fails)."""
    base = None
    if row is not None and row.snapshot:
        try:
            base = decode_snapshot(row)
        except UnreadableEngagementError as bad:
            log.error("%s; rebuilding it from its events", bad.message)
            return fold_stored(engagement_id, journal(), None)
    return fold_stored(engagement_id, tail, base)
