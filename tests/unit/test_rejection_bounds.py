"""Rejected attempts cannot flood the audit log: bounded, sanitised fields, and repeats and
bursts throttled per (tenant, principal) with the dropped ones counted on the next record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from q2c_core.adapters.store import AuditEntry
from q2c_core.app.rejection_log import (
    BURST,
    MAX_AUDIT_TEXT,
    PER_SECOND,
    REPEAT_WINDOW_SECONDS,
    UNASSIGNED_STREAM,
    RejectionThrottle,
    bounded_rejection,
)

DIGEST = "a" * 64


def _rejected(**fields: object) -> AuditEntry:
    base = AuditEntry(
        tenant_id="t",
        stream_id="eng-1",
        principal="alice",
        command_type="QualifyEngagement",
        request_id="r-1",
        correlation_id="c-1",
        payload_digest=DIGEST,
        outcome="REJECTED",
        rejection_reason="VALIDATION_FAILED",
        recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_caller_chosen_strings_are_cut_and_control_characters_replaced() -> None:
    entry = bounded_rejection(
        _rejected(
            request_id="r" * 10_000,
            correlation_id="c\x00\x1b[31m" * 1000,
            rejection_reason="x" * 5000,
            comment="\u202eevil" + "y" * 5000,
        )
    )
    assert len(entry.request_id or "") <= 128 and (entry.request_id or "").endswith("…")
    assert "\x00" not in entry.correlation_id and "\x1b" not in entry.correlation_id
    assert len(entry.rejection_reason or "") == MAX_AUDIT_TEXT
    assert (entry.comment or "").startswith("?evil") and len(entry.comment or "") == MAX_AUDIT_TEXT


def test_an_implausible_stream_id_goes_to_the_unassigned_chain() -> None:
    assert bounded_rejection(_rejected(stream_id="e" * 129)).stream_id == UNASSIGNED_STREAM
    assert bounded_rejection(_rejected(stream_id="eng\n1")).stream_id == UNASSIGNED_STREAM
    assert bounded_rejection(_rejected(stream_id="eng-1")).stream_id == "eng-1"


def test_a_payload_is_kept_only_as_a_digest() -> None:
    assert bounded_rejection(_rejected(payload_digest="blob" * 1000)).payload_digest != "blob" * 1000
    assert len(bounded_rejection(_rejected(payload_digest="blob" * 1000)).payload_digest) == 64
    assert bounded_rejection(_rejected()).payload_digest == DIGEST


def test_identical_rejections_within_the_window_are_written_once_then_counted() -> None:
    clock = FakeClock()
    throttle = RejectionThrottle(clock)
    written = [throttle.admit(_rejected()) for _ in range(1000)]
    assert sum(w is not None for w in written) == 1
    clock.now += REPEAT_WINDOW_SECONDS
    after = throttle.admit(_rejected())
    assert after is not None and (after.comment or "").startswith("999 rejected attempt(s)")


def test_distinct_rejections_of_one_principal_are_held_to_the_burst_and_rate() -> None:
    clock = FakeClock()
    throttle = RejectionThrottle(clock)
    written = [
        throttle.admit(_rejected(request_id=f"r-{i}", payload_digest=f"{i:064x}")) for i in range(1000)
    ]
    assert sum(w is not None for w in written) == BURST
    clock.now += 10.0
    later = [throttle.admit(_rejected(payload_digest=f"{i:064x}", request_id="x")) for i in range(1000, 2000)]
    assert sum(w is not None for w in later) == int(10.0 * PER_SECOND)


def test_another_principal_is_not_held_back_by_a_noisy_one() -> None:
    throttle = RejectionThrottle(FakeClock())
    for i in range(1000):
        throttle.admit(_rejected(payload_digest=f"{i:064x}"))
    assert throttle.admit(_rejected(principal="bob")) is not None
