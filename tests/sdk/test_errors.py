"""Every ErrorInfo reason becomes its typed exception, with reason, metadata and violations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import grpc
import pytest

import q2c_sdk
from q2c.v1 import customer_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_sdk import (
    NO_RETRIES,
    REASON_CLASSES,
    FailedPreconditionError,
    NotFoundError,
    NotReadyError,
    OverpaymentError,
    PeriodAlreadyInvoicedError,
    Q2cError,
    UnavailableError,
    ValidationFailedError,
)
from tests.sdk.fake_server import FakeQ2c, bad_request, bare, precondition_failure, rich_failure

ROOT = Path(__file__).resolve().parents[2]
WAIT = 10.0


def _documented_reasons() -> dict[str, str]:
    """Reason -> status code name, from the error table of protos/README.md."""
    table: dict[str, str] = {}
    for line in (ROOT / "protos" / "README.md").read_text().splitlines():
        match = re.match(r"\| ([A-Z_]+) \| (.+) \|$", line)
        if match and match.group(1) != "Code":
            for reason in re.findall(r"\b[A-Z][A-Z_]+[A-Z]\b", match.group(2)):
                table[reason] = match.group(1)
    return table


def _fail_with(fake: FakeQ2c, failure: Any) -> Q2cError:
    client = fake.client(retries=NO_RETRIES, correlation_id="corr-1")
    result = fake.run(lambda: client.qualify_engagement(pb.QualifyEngagementRequest(engagement_id="e-1")))
    fake.take("EngagementService", "QualifyEngagement").fail(failure)
    with pytest.raises(Q2cError) as raised:
        result.result(WAIT)
    return raised.value


def test_every_documented_reason_has_a_class_of_its_status() -> None:
    documented = _documented_reasons()
    assert len(documented) >= 30
    for reason, code in documented.items():
        cls = REASON_CLASSES[reason]
        assert cls.default_code == grpc.StatusCode[code], reason


def test_every_reason_class_is_exported() -> None:
    for cls in REASON_CLASSES.values():
        assert getattr(q2c_sdk, cls.__name__) is cls


@pytest.mark.parametrize("reason", sorted(REASON_CLASSES))
def test_reason_becomes_its_typed_exception(fake: FakeQ2c, reason: str) -> None:
    cls = REASON_CLASSES[reason]
    error = _fail_with(fake, rich_failure(cls.default_code, reason, f"{reason} happened", {"state": "DRAFT"}))
    assert type(error) is cls
    assert isinstance(error, q2c_sdk.STATUS_CLASSES[cls.default_code])
    assert (error.code, error.reason, error.domain) == (cls.default_code, reason, "q2c.v1")
    assert error.metadata == {"state": "DRAFT"}
    assert error.message == f"{reason} happened"
    assert error.correlation_id == "corr-1"
    assert error.request_id and len(error.request_id) == 32


def test_validation_failed_carries_field_violations(fake: FakeQ2c) -> None:
    failure = rich_failure(
        grpc.StatusCode.INVALID_ARGUMENT,
        "VALIDATION_FAILED",
        "bad",
        {},
        bad_request("entries[0].hours", "comment"),
    )
    error = _fail_with(fake, failure)
    assert isinstance(error, ValidationFailedError)
    assert [v.field for v in error.field_violations] == ["entries[0].hours", "comment"]
    assert error.field_violations[0].description == "entries[0].hours is invalid"


def test_not_ready_carries_its_blockers(fake: FakeQ2c) -> None:
    failure = rich_failure(
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_READY",
        "not ready",
        {"blockers": "MISSING_PO_REFERENCE,OPEN_BLOCKING_EXCEPTIONS", "engagement_id": "e-1"},
        precondition_failure("MISSING_PO_REFERENCE", "OPEN_BLOCKING_EXCEPTIONS"),
    )
    error = _fail_with(fake, failure)
    assert isinstance(error, NotReadyError)
    assert error.blockers == ("MISSING_PO_REFERENCE", "OPEN_BLOCKING_EXCEPTIONS")
    assert [v.type for v in error.precondition_violations] == list(error.blockers)
    assert error.precondition_violations[0].subject == "engagements/e-1"


def test_billing_errors_expose_their_metadata(fake: FakeQ2c) -> None:
    invoiced = _fail_with(
        fake,
        rich_failure(
            grpc.StatusCode.FAILED_PRECONDITION, "PERIOD_ALREADY_INVOICED", "x", {"invoice_id": "i-1"}
        ),
    )
    assert isinstance(invoiced, PeriodAlreadyInvoicedError) and invoiced.invoice_id == "i-1"
    over = _fail_with(
        fake, rich_failure(grpc.StatusCode.FAILED_PRECONDITION, "OVERPAYMENT", "x", {"balance_due": "10.00"})
    )
    assert isinstance(over, OverpaymentError) and over.balance_due == "10.00"


def test_unknown_reason_falls_back_to_the_status_class(fake: FakeQ2c) -> None:
    error = _fail_with(fake, rich_failure(grpc.StatusCode.FAILED_PRECONDITION, "SOMETHING_NEW", "new"))
    assert type(error) is FailedPreconditionError
    assert error.reason == "SOMETHING_NEW"


def test_reason_with_an_unexpected_code_falls_back_to_the_status_class(fake: FakeQ2c) -> None:
    error = _fail_with(fake, rich_failure(grpc.StatusCode.NOT_FOUND, "INVALID_STATE", "odd"))
    assert type(error) is NotFoundError
    assert error.reason == "INVALID_STATE"


def test_failure_without_rich_details_is_typed_by_code(fake: FakeQ2c) -> None:
    error = _fail_with(fake, bare(grpc.StatusCode.UNAVAILABLE, "connection refused"))
    assert type(error) is UnavailableError
    assert (error.reason, error.message, dict(error.metadata)) == ("", "connection refused", {})
    assert error.retryable
    assert error.correlation_id == "corr-1"


def test_str_names_code_reason_and_correlation_id(fake: FakeQ2c) -> None:
    error = _fail_with(fake, rich_failure(grpc.StatusCode.NOT_FOUND, "ENGAGEMENT_NOT_FOUND", "no e-1"))
    assert str(error) == "NOT_FOUND ENGAGEMENT_NOT_FOUND: no e-1 (correlation id corr-1)"


def test_read_errors_have_no_request_id(fake: FakeQ2c) -> None:
    client = fake.client(retries=NO_RETRIES)
    result = fake.run(lambda: client.get_customer(customer_pb2.GetCustomerRequest(customer_id="c")))
    fake.take("CustomerService", "GetCustomer").fail(
        rich_failure(grpc.StatusCode.NOT_FOUND, "CUSTOMER_NOT_FOUND")
    )
    with pytest.raises(q2c_sdk.CustomerNotFoundError) as raised:
        result.result(WAIT)
    assert raised.value.request_id == ""
