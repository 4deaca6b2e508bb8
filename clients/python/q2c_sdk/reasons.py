"""One exception class per documented ErrorInfo reason, and the reason -> class registry.

The reasons are those of `protos/README.md` (the error table) and the header comment of
`common.proto`, plus the two the gateway itself emits (METADATA_MISSING, DEADLINE_EXCEEDED) and the credential
reasons of `q2c_sdk.auth_errors`.
Each class subclasses the class of the status code the reason travels with, so callers can catch
broadly (`FailedPreconditionError`) or narrowly (`NotReadyError`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from q2c_sdk.auth_errors import AUTH_REASON_CLASSES
from q2c_sdk.errors import (
    AbortedError,
    AlreadyExistsError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    Q2cError,
    UnauthenticatedError,
    UnavailableError,
)

# -- INVALID_ARGUMENT ---------------------------------------------------------------------------


class ValidationFailedError(InvalidArgumentError):
    """VALIDATION_FAILED: invalid input; one BadRequest field violation per bad field."""


# -- NOT_FOUND ----------------------------------------------------------------------------------


class CustomerNotFoundError(NotFoundError):
    """CUSTOMER_NOT_FOUND."""


class RateCardNotFoundError(NotFoundError):
    """RATE_CARD_NOT_FOUND."""


class EngagementNotFoundError(NotFoundError):
    """ENGAGEMENT_NOT_FOUND."""


class TimeEntryNotFoundError(NotFoundError):
    """TIME_ENTRY_NOT_FOUND."""


class ExpenseNotFoundError(NotFoundError):
    """EXPENSE_NOT_FOUND."""


class MilestoneNotFoundError(NotFoundError):
    """MILESTONE_NOT_FOUND."""


class ExceptionNotFoundError(NotFoundError):
    """EXCEPTION_NOT_FOUND (a business exception of ExceptionService)."""


class InvoiceNotFoundError(NotFoundError):
    """INVOICE_NOT_FOUND."""


class BillRunNotFoundError(NotFoundError):
    """BILL_RUN_NOT_FOUND."""


class DeliveryNotFoundError(NotFoundError):
    """DELIVERY_NOT_FOUND (a delivery item of DeliveryService; metadata `id`)."""


# -- ALREADY_EXISTS -----------------------------------------------------------------------------


class RequestIdReusedError(AlreadyExistsError):
    """REQUEST_ID_REUSED: the request_id was used before with a different payload."""


# -- FAILED_PRECONDITION ------------------------------------------------------------------------


class InvalidStateError(FailedPreconditionError):
    """INVALID_STATE: the lifecycle does not allow the method (metadata `state`, `command`)."""


class ItemNotSubmittedError(FailedPreconditionError):
    """ITEM_NOT_SUBMITTED: a time entry or expense is not awaiting review (`id`, `status`)."""


class MilestoneInvalidStatusError(FailedPreconditionError):
    """MILESTONE_INVALID_STATUS: metadata `milestone_id`, `status`."""


class ExceptionAlreadyResolvedError(FailedPreconditionError):
    """EXCEPTION_ALREADY_RESOLVED."""


class ContractMissingError(FailedPreconditionError):
    """CONTRACT_MISSING: the engagement has no approved contract yet."""


class NotReadyError(FailedPreconditionError):
    """NOT_READY: an invoice cannot be generated; see `blockers`."""

    @property
    def blockers(self) -> tuple[str, ...]:
        """The stopping ReadinessBlockerKind names (metadata `blockers`)."""
        return tuple(kind for kind in self.metadata.get("blockers", "").split(",") if kind)


class PeriodAlreadyInvoicedError(FailedPreconditionError):
    """PERIOD_ALREADY_INVOICED: a non-void invoice covers the period."""

    @property
    def invoice_id(self) -> str:
        """The invoice that already covers the period."""
        return self.metadata.get("invoice_id", "")


class NothingToBillError(FailedPreconditionError):
    """NOTHING_TO_BILL: no billable item for the period."""


class EmptyInvoiceError(FailedPreconditionError):
    """EMPTY_INVOICE: issuing an invoice without lines or with a zero total."""


class InvalidInvoiceStateError(FailedPreconditionError):
    """INVALID_INVOICE_STATE: the invoice's state does not allow the method (`invoice_id`, `state`)."""


class OverpaymentError(FailedPreconditionError):
    """OVERPAYMENT: a payment above the open balance."""

    @property
    def balance_due(self) -> str:
        """The invoice's open balance, as a decimal string."""
        return self.metadata.get("balance_due", "")


class EffectiveDateInInvoicedPeriodError(FailedPreconditionError):
    """EFFECTIVE_DATE_IN_INVOICED_PERIOD: a change order dated inside an invoiced period."""


class BillRunFinishedError(FailedPreconditionError):
    """BILL_RUN_FINISHED: the bill run is already SUCCEEDED, CANCELLED or FAILED (`state`)."""


class NotADeadLetterError(FailedPreconditionError):
    """NOT_A_DEAD_LETTER: RetryDeadLetter of an item that is PENDING or DELIVERED."""

    @property
    def status(self) -> str:
        """The item's current status (PENDING or DELIVERED)."""
        return self.metadata.get("status", "")


class ErpNotConfiguredError(FailedPreconditionError):
    """ERP_NOT_CONFIGURED: RunReconciliation on a server started without an ERP."""


# -- ABORTED ------------------------------------------------------------------------------------


class EtagMismatchError(AbortedError):
    """ETAG_MISMATCH: the etag sent is not the resource's current one; re-read it."""


class ConcurrentModificationError(AbortedError):
    """CONCURRENT_MODIFICATION: another writer won; retry the call."""


# -- UNAVAILABLE --------------------------------------------------------------------------------


class StoreUnavailableError(UnavailableError):
    """STORE_UNAVAILABLE: the database could not be reached."""


class ShardUnavailableError(UnavailableError):
    """SHARD_UNAVAILABLE: the shard owning the engagement is down or restarting."""


class HostClosedError(UnavailableError):
    """HOST_CLOSED: the engagement host is shutting down."""


class RuntimeClosedError(UnavailableError):
    """RUNTIME_CLOSED: the server's runtime is shutting down."""


class ErpUnavailableError(UnavailableError):
    """ERP_UNAVAILABLE: the ERP could not be read (`failure_kind`, `operation`, `http_status`)."""


# -- gateway-level ------------------------------------------------------------------------------


class MetadataMissingError(UnauthenticatedError):
    """METADATA_MISSING: required identity metadata (x-tenant-id, x-principal) was absent."""


REASON_CLASSES: Mapping[str, type[Q2cError]] = MappingProxyType(
    {
        "VALIDATION_FAILED": ValidationFailedError,
        "CUSTOMER_NOT_FOUND": CustomerNotFoundError,
        "RATE_CARD_NOT_FOUND": RateCardNotFoundError,
        "ENGAGEMENT_NOT_FOUND": EngagementNotFoundError,
        "TIME_ENTRY_NOT_FOUND": TimeEntryNotFoundError,
        "EXPENSE_NOT_FOUND": ExpenseNotFoundError,
        "MILESTONE_NOT_FOUND": MilestoneNotFoundError,
        "EXCEPTION_NOT_FOUND": ExceptionNotFoundError,
        "INVOICE_NOT_FOUND": InvoiceNotFoundError,
        "BILL_RUN_NOT_FOUND": BillRunNotFoundError,
        "DELIVERY_NOT_FOUND": DeliveryNotFoundError,
        "REQUEST_ID_REUSED": RequestIdReusedError,
        "INVALID_STATE": InvalidStateError,
        "ITEM_NOT_SUBMITTED": ItemNotSubmittedError,
        "MILESTONE_INVALID_STATUS": MilestoneInvalidStatusError,
        "EXCEPTION_ALREADY_RESOLVED": ExceptionAlreadyResolvedError,
        "CONTRACT_MISSING": ContractMissingError,
        "NOT_READY": NotReadyError,
        "PERIOD_ALREADY_INVOICED": PeriodAlreadyInvoicedError,
        "NOTHING_TO_BILL": NothingToBillError,
        "EMPTY_INVOICE": EmptyInvoiceError,
        "INVALID_INVOICE_STATE": InvalidInvoiceStateError,
        "OVERPAYMENT": OverpaymentError,
        "EFFECTIVE_DATE_IN_INVOICED_PERIOD": EffectiveDateInInvoicedPeriodError,
        "BILL_RUN_FINISHED": BillRunFinishedError,
        "NOT_A_DEAD_LETTER": NotADeadLetterError,
        "ERP_NOT_CONFIGURED": ErpNotConfiguredError,
        "ETAG_MISMATCH": EtagMismatchError,
        "CONCURRENT_MODIFICATION": ConcurrentModificationError,
        "STORE_UNAVAILABLE": StoreUnavailableError,
        "ERP_UNAVAILABLE": ErpUnavailableError,
        "SHARD_UNAVAILABLE": ShardUnavailableError,
        "HOST_CLOSED": HostClosedError,
        "RUNTIME_CLOSED": RuntimeClosedError,
        "INTERNAL": InternalError,
        "METADATA_MISSING": MetadataMissingError,
        "DEADLINE_EXCEEDED": DeadlineExceededError,
        **AUTH_REASON_CLASSES,
    }
)
"""ErrorInfo reason -> exception class. Unknown reasons fall back to the status code's class."""
