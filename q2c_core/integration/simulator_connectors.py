"""ERP and PSA connectors over the simulator (``simulator.client.SimulatorClient``).

Wire mapping (details in ``q2c_core.integration.simulator_payloads``):

==========================  ===============================  =====================================
q2c call                    simulator request                success value
==========================  ===============================  =====================================
``upsert_customer``         ``PUT /erp/customers/{key}``     ``Ack(record, key, version)``
``create_job``              ``PUT /erp/jobs/{key}``          ``Ack``
``provision_project``       ``PUT /psa/projects/{key}``      ``Ack``
``post_invoice``            ``POST /erp/invoices``           ``PostedDocument`` (``INV-…``)
``record_payment``          ``POST /erp/payments``           ``PostedDocument`` (``PAY-…``)
==========================  ===============================  =====================================

Postings send the key in the ``Idempotency-Key`` header; records carry it in the path
(percent-encoded). Amounts are exact decimal strings with their currency.

Failures are classified in one place, ``_FAILURE_TABLE`` (first matching row wins):

==============================================  ====================  ==========================
simulator error                                 ``FailureKind``       kept
==============================================  ====================  ==========================
``ThrottledError`` (429)                        ``RETRYABLE``         ``retry_after``
``UnavailableError`` (503 maintenance)          ``RETRYABLE``         ``retry_after``
``ConflictError`` (409 key, other payload)      ``PERMANENT``         error body
other ``HTTPStatusError``: 5xx or 408           ``RETRYABLE``         ``retry_after`` if given
other ``HTTPStatusError`` (4xx, e.g. 400, 422)  ``PERMANENT``         error body
``SimulatorConnectionError`` / ``Timeout``      ``UNKNOWN_OUTCOME``   (no reply; every call is
                                                                      a write that may have
                                                                      committed)
``MalformedResponseError``, or a JSON reply     ``MALFORMED``         the raw reply text
not of the documented shape
==============================================  ====================  ==========================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from q2c_core.domain.engagement import Engagement
from q2c_core.domain.invoices import Invoice, Payment
from q2c_core.domain.reference import Customer
from q2c_core.integration import simulator_payloads as wire
from q2c_core.integration.connectors import (
    Ack,
    AckResult,
    DeliveryFailure,
    FailureKind,
    PostedDocument,
    PostingResult,
)
from simulator.client import (
    ConflictError,
    HTTPStatusError,
    MalformedResponseError,
    SimulatorClient,
    SimulatorConnectionError,
    SimulatorError,
    ThrottledError,
    UnavailableError,
)


def _http_kind(exc: SimulatorError) -> FailureKind:
    assert isinstance(exc, HTTPStatusError)
    return FailureKind.RETRYABLE if exc.retryable or exc.status == 408 else FailureKind.PERMANENT


_FAILURE_TABLE: tuple[tuple[type[SimulatorError], Callable[[SimulatorError], FailureKind]], ...] = (
    (ThrottledError, lambda _: FailureKind.RETRYABLE),
    (UnavailableError, lambda _: FailureKind.RETRYABLE),
    (ConflictError, lambda _: FailureKind.PERMANENT),
    (HTTPStatusError, _http_kind),
    (SimulatorConnectionError, lambda _: FailureKind.UNKNOWN_OUTCOME),
    (MalformedResponseError, lambda _: FailureKind.MALFORMED),
)


class _Malformed(Exception):
    """A JSON reply that is not the documented shape (raised and caught inside this module)."""

    def __init__(self, message: str, reply: Any) -> None:
        super().__init__(message)
        self.payload = json.dumps(reply, default=str)


def _raw_reply(exc: SimulatorError) -> str:
    """The reply text behind a MalformedResponseError (the JSON parser's input), else the message."""
    document = getattr(exc.__cause__, "doc", None)
    return document if isinstance(document, str) else str(exc)


def classify(exc: SimulatorError, operation: str, key: str) -> DeliveryFailure:
    """The one translation of a simulator error into a DeliveryFailure."""
    kind = next(rule(exc) for cls, rule in _FAILURE_TABLE if isinstance(exc, cls))
    if isinstance(exc, HTTPStatusError):
        return DeliveryFailure(kind, operation, key, str(exc), exc.status, exc.retry_after, exc.body)
    payload = _raw_reply(exc) if kind is FailureKind.MALFORMED else None
    return DeliveryFailure(kind, operation, key, str(exc), payload=payload)


def _ack(record: str, key: str, path_key: str, reply: Any) -> Ack:
    if not isinstance(reply, dict):
        raise _Malformed(f"{record} reply is not a JSON object", reply)
    version = reply.get("version")
    # The simulator does not percent-decode paths, so it may echo the encoded form of the key.
    if reply.get("key") not in (key, path_key) or not isinstance(version, int) or isinstance(version, bool):
        raise _Malformed(f"{record} reply lacks this key or an integer version", reply)
    return Ack(record, key, version)


def _posted(key: str, reply: Any) -> PostedDocument:
    if not isinstance(reply, dict):
        raise _Malformed("posting reply is not a JSON object", reply)
    number, status, replayed = reply.get("document_number"), reply.get("status"), reply.get("replayed")
    if not (isinstance(number, str) and number and isinstance(status, str) and isinstance(replayed, bool)):
        raise _Malformed("posting reply lacks document_number/status/replayed", reply)
    if reply.get("key", key) != key:
        raise _Malformed("posting reply names another key", reply)
    return PostedDocument(number, key, status, replayed)


_RECORD_PATHS = {"customer": "/erp/customers", "job": "/erp/jobs", "project": "/psa/projects"}


class _SimulatorConnector:
    """Shared plumbing: one request, its reply checked, every failure classified."""

    def __init__(self, client: SimulatorClient) -> None:
        self.client = client

    def _put_record(self, operation: str, record: str, key: str, body: dict[str, Any]) -> AckResult:
        try:
            path_key = quote(key, safe=":")
            reply = self.client.request("PUT", f"{_RECORD_PATHS[record]}/{path_key}", body)
            return _ack(record, key, path_key, reply)
        except SimulatorError as exc:
            return classify(exc, operation, key)
        except _Malformed as exc:
            return DeliveryFailure(FailureKind.MALFORMED, operation, key, str(exc), payload=exc.payload)

    def _post_document(self, operation: str, path: str, key: str, body: dict[str, Any]) -> PostingResult:
        try:
            reply = self.client.request("POST", path, body, {"Idempotency-Key": key})
            return _posted(key, reply)
        except SimulatorError as exc:
            return classify(exc, operation, key)
        except _Malformed as exc:
            return DeliveryFailure(FailureKind.MALFORMED, operation, key, str(exc), payload=exc.payload)


class SimulatorErp(_SimulatorConnector):
    """The ErpConnector over the simulator's ``/erp`` endpoints."""

    def upsert_customer(self, customer: Customer, *, key: str) -> AckResult:
        """Create or update the customer's ERP record."""
        return self._put_record("upsert_customer", "customer", key, wire.customer_json(customer))

    def create_job(self, engagement: Engagement, *, key: str) -> AckResult:
        """Create (or confirm) the ERP job for an activated engagement."""
        return self._put_record("create_job", "job", key, wire.job_json(engagement))

    def post_invoice(self, invoice: Invoice, *, key: str) -> PostingResult:
        """Post an issued invoice; a replay under the same key returns the first number."""
        return self._post_document("post_invoice", "/erp/invoices", key, wire.invoice_json(invoice))

    def record_payment(
        self, invoice: Invoice, payment: Payment, *, invoice_number: str, key: str
    ) -> PostingResult:
        """Record a payment against the ERP invoice ``invoice_number``."""
        body = wire.payment_json(invoice, payment, invoice_number)
        return self._post_document("record_payment", "/erp/payments", key, body)


class SimulatorPsa(_SimulatorConnector):
    """The PsaConnector over the simulator's ``/psa`` endpoints."""

    def provision_project(self, engagement: Engagement, *, key: str) -> AckResult:
        """Create (or confirm) the PSA project for an activated engagement."""
        return self._put_record("provision_project", "project", key, wire.project_json(engagement))
