"""ERP and PSA connectors over the simulator (``simulator.client.SimulatorClient``).

Wire mapping (details in ``q2c_core.adapters.erp.simulator_payloads``):

==========================  ===============================  =====================================
q2c call                    simulator request                success value
==========================  ===============================  =====================================
``upsert_customer``         ``PUT /erp/customers/{key}``     ``Ack(record, key, version)``
``create_job``              ``PUT /erp/jobs/{key}``          ``Ack``
``provision_project``       ``PUT /psa/projects/{key}``      ``Ack``
``post_invoice``            ``POST /erp/invoices``           ``PostedDocument`` (``INV-…``)
``record_payment``          ``POST /erp/payments``           ``PostedDocument`` (``PAY-…``)
``list_invoices`` (read)    ``GET /erp/invoices``, paged     ``list[ErpDocument]`` (every page)
``list_payments`` (read)    ``GET /erp/payments``, paged     ``list[ErpDocument]``
==========================  ===============================  =====================================

Reads parse JSON numbers as ``Decimal`` (never floats) and raise ``ErpReadError`` with the
classified failure instead of returning a partial list.

Postings send the key in the ``Idempotency-Key`` header; records carry it in the path
(percent-encoded). Amounts are exact decimal strings with their currency. Every request sends
the correlation id of the work in hand (``q2c_core.logs``: the delivery worker binds the
originating call's) in the ``X-Correlation-Id`` header, so the downstream's logs can be joined
with q2c's.

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
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode

from q2c_core.adapters.erp import simulator_payloads as wire
from q2c_core.app.connectors import (
    Ack,
    AckResult,
    Connectors,
    DeliveryFailure,
    ErpDocument,
    ErpReadError,
    FailureKind,
    PostedDocument,
    PostingResult,
)
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.domain.engagement import Engagement
from q2c_core.domain.invoices import Invoice, Payment
from q2c_core.domain.reference import Customer
from q2c_core.logs import bound_correlation_id
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


LIST_PAGE_SIZE = 500
"""Documents asked for per page when reading the ERP back."""


def _exact(value: Any) -> Decimal | None:
    """A JSON amount as an exact decimal (strings, integers, Decimal-parsed numbers), else None."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _text(payload: dict[str, Any], field: str) -> str:
    value = payload.get(field)
    return value if isinstance(value, str) else ""


def _erp_document(reply: Any, amount_field: str) -> ErpDocument:
    if not isinstance(reply, dict) or not isinstance(reply.get("payload"), dict):
        raise _Malformed("listed document is not an object with a payload", reply)
    number, key, payload = reply.get("document_number"), reply.get("key"), reply["payload"]
    if not (isinstance(number, str) and number and isinstance(key, str)):
        raise _Malformed("listed document lacks document_number/key", reply)
    raw = payload.get(amount_field)
    return ErpDocument(
        number=number,
        key=key,
        invoice_id=_text(payload, "invoice_id"),
        payment_id=_text(payload, "payment_id") if amount_field == "amount" else "",
        engagement_id=_text(payload, "engagement_id"),
        amount=_exact(raw),
        currency=_text(payload, "currency"),
        raw_amount="" if raw is None else str(raw),
    )


_RECORD_PATHS = {"customer": "/erp/customers", "job": "/erp/jobs", "project": "/psa/projects"}
CORRELATION_HEADER = "X-Correlation-Id"


def _headers(**more: str) -> dict[str, str]:
    """The request's headers: `more`, and the correlation id of the work in hand, if any."""
    correlation_id = bound_correlation_id()
    return {CORRELATION_HEADER: correlation_id, **more} if correlation_id else dict(more)


class _SimulatorConnector:
    """Shared plumbing: one request, its reply checked, every failure classified."""

    def __init__(self, client: SimulatorClient) -> None:
        self.client = client

    def _put_record(self, operation: str, record: str, key: str, body: dict[str, Any]) -> AckResult:
        try:
            path_key = quote(key, safe=":")
            reply = self.client.request("PUT", f"{_RECORD_PATHS[record]}/{path_key}", body, _headers())
            return _ack(record, key, path_key, reply)
        except SimulatorError as exc:
            return classify(exc, operation, key)
        except _Malformed as exc:
            return DeliveryFailure(FailureKind.MALFORMED, operation, key, str(exc), payload=exc.payload)

    def _post_document(self, operation: str, path: str, key: str, body: dict[str, Any]) -> PostingResult:
        try:
            reply = self.client.request("POST", path, body, _headers(**{"Idempotency-Key": key}))
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

    def list_invoices(self) -> list[ErpDocument]:
        """Every invoice document (``total`` is the amount); raises ErpReadError."""
        return self._list("list_invoices", "invoices", "total")

    def list_payments(self) -> list[ErpDocument]:
        """Every payment document (``amount``); raises ErpReadError."""
        return self._list("list_payments", "payments", "amount")

    def _list(self, operation: str, kind: str, amount_field: str) -> list[ErpDocument]:
        documents: list[ErpDocument] = []
        after = ""
        try:
            while True:
                query = urlencode({"after": after, "limit": LIST_PAGE_SIZE})
                path = f"/erp/{kind}?{query}"
                reply = self.client.request("GET", path, None, _headers(), parse_float=Decimal)
                if not isinstance(reply, dict) or not isinstance(reply.get("documents"), list):
                    raise _Malformed(f"{kind} listing is not an object with documents", reply)
                documents.extend(_erp_document(d, amount_field) for d in reply["documents"])
                following = reply.get("next_after")
                if following is None:
                    return documents
                if not isinstance(following, str) or following <= after:
                    raise _Malformed(f"{kind} listing does not move forward", reply)
                after = following
        except SimulatorError as exc:
            raise ErpReadError(classify(exc, operation, kind)) from exc
        except _Malformed as exc:
            failure = DeliveryFailure(FailureKind.MALFORMED, operation, kind, str(exc), payload=exc.payload)
            raise ErpReadError(failure) from exc


class SimulatorPsa(_SimulatorConnector):
    """The PsaConnector over the simulator's ``/psa`` endpoints."""

    def provision_project(self, engagement: Engagement, *, key: str) -> AckResult:
        """Create (or confirm) the PSA project for an activated engagement."""
        return self._put_record("provision_project", "project", key, wire.project_json(engagement))


def simulator_connectors(config: DeliveryConfig) -> Connectors:
    """The ERP and PSA at the configured URLs, reached through the simulator's HTTP API."""
    erp = SimulatorErp(SimulatorClient(config.erp_url, config.timeout_seconds)) if config.erp_url else None
    psa = SimulatorPsa(SimulatorClient(config.psa_url, config.timeout_seconds)) if config.psa_url else None
    return Connectors(erp, psa)
