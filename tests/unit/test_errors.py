"""Domain errors: one root, one kind each, and a payload form that survives process hops."""

from __future__ import annotations

import pickle

import pytest

from q2c_core.domain.errors import (
    ConflictError,
    DeadlineExceededError,
    ErrorKind,
    ErrorPayload,
    FieldViolation,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionError,
    Q2cError,
    RequestIdReusedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    ValidationError,
)

ONE_OF_EACH_KIND: list[Q2cError] = [
    ValidationError(
        [
            FieldViolation(field="entries[0].hours", description="too many"),
            FieldViolation(field="entries[1].role", description="unknown role"),
        ]
    ),
    NotFoundError("engagement", "eng-9"),
    InvalidStateError("ActivateEngagement", "DRAFT", "allowed only in CONTRACTED"),
    ConflictError("VERSION_CONFLICT", "expected version 3, found 4", {"expected": "3", "actual": "4"}),
    RequestIdReusedError("req-1"),
    UnavailableError("STORE_UNAVAILABLE", "database is down"),
    Q2cError("BOOM", "unexpected", {"where": "decide"}),
    UnauthenticatedError("TOKEN_EXPIRED", "the token has expired"),
    PermissionDeniedError("SCOPE_MISSING", "needs time:approve", {"scope": "time:approve"}),
    ResourceExhaustedError("RATE_LIMITED", "slow down", {"scope": "tenant", "retry_after_ms": "250"}),
    DeadlineExceededError("DEADLINE_TOO_SHORT", "not enough time left", {"work": "bill run"}),
]
EXPECTED_CLASS = {
    ErrorKind.VALIDATION: ValidationError,
    ErrorKind.NOT_FOUND: NotFoundError,
    ErrorKind.PRECONDITION: PreconditionError,
    ErrorKind.CONFLICT: ConflictError,
    ErrorKind.REQUEST_ID_REUSED: RequestIdReusedError,
    ErrorKind.UNAVAILABLE: UnavailableError,
    ErrorKind.INTERNAL: Q2cError,
    ErrorKind.UNAUTHENTICATED: UnauthenticatedError,
    ErrorKind.PERMISSION_DENIED: PermissionDeniedError,
    ErrorKind.RESOURCE_EXHAUSTED: ResourceExhaustedError,
    ErrorKind.DEADLINE_EXCEEDED: DeadlineExceededError,
}


def test_there_is_one_example_of_every_error_kind() -> None:
    assert {error.kind for error in ONE_OF_EACH_KIND} == set(ErrorKind)


@pytest.mark.parametrize("error", ONE_OF_EACH_KIND, ids=lambda e: e.kind.value)
def test_error_payload_round_trip_keeps_kind_reason_metadata_and_violations(error: Q2cError) -> None:
    rebuilt = error.to_payload().to_error()
    assert rebuilt.kind is error.kind
    assert rebuilt.reason == error.reason
    assert rebuilt.message == error.message
    assert str(rebuilt) == str(error)
    assert rebuilt.metadata == error.metadata
    assert rebuilt.field_violations == error.field_violations
    assert rebuilt.retryable == error.retryable


@pytest.mark.parametrize("error", ONE_OF_EACH_KIND, ids=lambda e: e.kind.value)
def test_rebuilt_error_is_caught_by_the_class_of_its_kind(error: Q2cError) -> None:
    assert isinstance(error.to_payload().to_error(), EXPECTED_CLASS[error.kind])


@pytest.mark.parametrize("error", ONE_OF_EACH_KIND, ids=lambda e: e.kind.value)
def test_error_payload_survives_json_and_pickle(error: Q2cError) -> None:
    payload = error.to_payload()
    assert ErrorPayload.model_validate_json(payload.model_dump_json()) == payload
    assert pickle.loads(pickle.dumps(payload)) == payload


def test_validation_error_message_names_every_field() -> None:
    error = ValidationError.one("entries[3].role", "unknown role 'x'")
    assert error.reason == "VALIDATION_FAILED"
    assert error.message == "entries[3].role: unknown role 'x'"
    assert error.field_violations == [FieldViolation(field="entries[3].role", description="unknown role 'x'")]


def test_only_conflict_unavailable_and_resource_exhausted_are_retryable() -> None:
    retryable = {e.kind for e in ONE_OF_EACH_KIND if e.retryable}
    assert retryable == {ErrorKind.CONFLICT, ErrorKind.UNAVAILABLE, ErrorKind.RESOURCE_EXHAUSTED}


def test_invalid_state_is_a_precondition_failure_with_command_and_state() -> None:
    error = InvalidStateError("CompleteEngagement", "DRAFT", "allowed only in ACTIVE")
    assert error.kind is ErrorKind.PRECONDITION
    assert error.metadata == {"command": "CompleteEngagement", "state": "DRAFT"}
    assert "allowed only in ACTIVE" in error.message


def test_error_metadata_is_copied_not_shared() -> None:
    metadata = {"id": "1"}
    error = Q2cError("R", "m", metadata)
    metadata["id"] = "2"
    assert error.metadata == {"id": "1"}
