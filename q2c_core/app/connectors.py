"""The connector interface q2c uses to reach downstream systems (ERP, PSA): pure data and protocols.

Every call names an idempotency key derived deterministically from q2c ids (see the ``*_key``
functions), so a retry under the same key never creates a second document downstream.

A call returns either its success value (``Ack`` or ``PostedDocument``) or one
``DeliveryFailure``, never raises for a downstream problem: the delivery worker decides what to
do from ``DeliveryFailure.kind`` alone.

* ``RETRYABLE``: the system refused for now (429, 503 maintenance, other 5xx, 408); retry after
  ``retry_after`` seconds when the system gave one.
* ``UNKNOWN_OUTCOME``: no reply (connection lost, client timeout); the write may have committed,
  so retrying with the same key is safe and is the only way to learn the outcome.
* ``PERMANENT``: the request itself is wrong (4xx other than 408/429, e.g. 409 key reused with
  another payload, 422 unknown reference); retrying cannot help, a person must look.
* ``MALFORMED``: a reply arrived but is not the documented shape; ``payload`` keeps the raw text
  for the dead-letter record.

Reading the ERP back (``ErpLedger``, for reconciliation) is the one exception to "never raises":
a listing either arrives whole or raises ``ErpReadError`` carrying the same classified
``DeliveryFailure``. A partial listing must never be compared (every document not read would
look missing), and a read has nothing to retry under a key, so there is no success-or-failure
value to hand to a worker: the caller simply stops and reports the ERP as unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from q2c_core.domain.engagement import Engagement
from q2c_core.domain.invoices import Invoice, Payment
from q2c_core.domain.reference import Customer

if TYPE_CHECKING:
    from q2c_core.app.delivery.config import DeliveryConfig


class FailureKind(StrEnum):
    """The one classification of a failed downstream call."""

    RETRYABLE = "RETRYABLE"
    UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"
    PERMANENT = "PERMANENT"
    MALFORMED = "MALFORMED"


@dataclass(frozen=True, slots=True)
class Ack:
    """A reference record (customer, job, project) accepted by the downstream system."""

    record: str
    key: str
    version: int


@dataclass(frozen=True, slots=True)
class PostedDocument:
    """A document (invoice, payment) the downstream system acknowledged, with its number."""

    document_number: str
    key: str
    status: str
    replayed: bool


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """A downstream call that did not succeed, classified once by the connector."""

    kind: FailureKind
    operation: str
    key: str
    message: str
    status: int | None = None
    retry_after: float | None = None
    payload: str | None = None

    @property
    def may_retry(self) -> bool:
        """Whether retrying under the same key can still succeed."""
        return self.kind in (FailureKind.RETRYABLE, FailureKind.UNKNOWN_OUTCOME)


AckResult = Ack | DeliveryFailure
"""What a reference-record call returns."""

PostingResult = PostedDocument | DeliveryFailure
"""What a document posting returns."""


def customer_key(customer: Customer) -> str:
    """The idempotency key of a customer's ERP record."""
    return f"q2c:customer:{customer.customer_id}"


def job_key(engagement: Engagement) -> str:
    """The idempotency key of an engagement's ERP job."""
    return f"q2c:job:{engagement.engagement_id}"


def project_key(engagement: Engagement) -> str:
    """The idempotency key of an engagement's PSA project."""
    return f"q2c:project:{engagement.engagement_id}"


def invoice_key(invoice: Invoice) -> str:
    """The idempotency key of an invoice posting."""
    return f"q2c:invoice:{invoice.invoice_id}"


def payment_key(invoice: Invoice, payment: Payment) -> str:
    """The idempotency key of a payment posting (payment ids are scoped by invoice)."""
    return f"q2c:payment:{invoice.invoice_id}:{payment.payment_id}"


class ErpConnector(Protocol):
    """The ERP as q2c needs it: customers, jobs, invoices and payments."""

    def upsert_customer(self, customer: Customer, *, key: str) -> AckResult:
        """Create or update the customer's ERP record."""
        ...

    def create_job(self, engagement: Engagement, *, key: str) -> AckResult:
        """Create (or confirm) the ERP job for an activated engagement."""
        ...

    def post_invoice(self, invoice: Invoice, *, key: str) -> PostingResult:
        """Post an issued invoice; the ERP's document number makes it POSTED in q2c."""
        ...

    def record_payment(
        self, invoice: Invoice, payment: Payment, *, invoice_number: str, key: str
    ) -> PostingResult:
        """Record a payment against the ERP invoice ``invoice_number``."""
        ...


@dataclass(frozen=True, slots=True)
class ErpDocument:
    """An invoice or payment document as the ERP holds it, reduced to what reconciliation compares.

    ``invoice_id`` / ``payment_id`` / ``engagement_id`` come from the document's payload (empty
    when it does not name one); ``amount`` is the invoice total or the payment amount, exact, or
    None when the payload's amount is missing or not a decimal (shown as ``raw_amount``).
    """

    number: str
    key: str
    invoice_id: str
    payment_id: str
    engagement_id: str
    amount: Decimal | None
    currency: str
    raw_amount: str = ""


class ErpReadError(Exception):
    """The ERP could not be read (no reply, an error status, or a reply not of the documented shape)."""

    def __init__(self, failure: DeliveryFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class ErpLedger(Protocol):
    """The ERP's books read back: every invoice and payment document it holds (all or nothing)."""

    def list_invoices(self) -> list[ErpDocument]:
        """Every invoice document, in the ERP's number order; raises ErpReadError."""
        ...

    def list_payments(self) -> list[ErpDocument]:
        """Every payment document, in the ERP's number order; raises ErpReadError."""
        ...


class PsaConnector(Protocol):
    """The PSA as q2c needs it: a project per activated engagement."""

    def provision_project(self, engagement: Engagement, *, key: str) -> AckResult:
        """Create (or confirm) the PSA project for an activated engagement."""
        ...


class Erp(ErpConnector, ErpLedger, Protocol):
    """An ERP q2c both posts to and reads back (for reconciliation)."""


@dataclass(frozen=True)
class Connectors:
    """The downstream systems one process delivers to and reconciles with (None: not configured)."""

    erp: Erp | None = None
    psa: PsaConnector | None = None


NO_CONNECTORS = Connectors()
"""Nothing downstream: commands run, nothing is delivered or reconciled."""

ConnectorFactory = Callable[["DeliveryConfig"], Connectors]
"""Builds a process's connectors from the delivery settings. The composition root chooses it;
it crosses into Ray actors, so it must be picklable (a module-level function)."""
