import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from q2c.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReconciliationMismatchKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECONCILIATION_MISMATCH_KIND_UNSPECIFIED: _ClassVar[ReconciliationMismatchKind]
    RECONCILIATION_MISMATCH_KIND_MISSING_IN_ERP: _ClassVar[ReconciliationMismatchKind]
    RECONCILIATION_MISMATCH_KIND_DUPLICATE_IN_ERP: _ClassVar[ReconciliationMismatchKind]
    RECONCILIATION_MISMATCH_KIND_AMOUNT_DIFFERS: _ClassVar[ReconciliationMismatchKind]
    RECONCILIATION_MISMATCH_KIND_PAYMENT_MISSING_IN_ERP: _ClassVar[ReconciliationMismatchKind]
    RECONCILIATION_MISMATCH_KIND_PAYMENT_AMOUNT_DIFFERS: _ClassVar[ReconciliationMismatchKind]
    RECONCILIATION_MISMATCH_KIND_UNKNOWN_IN_Q2C: _ClassVar[ReconciliationMismatchKind]
RECONCILIATION_MISMATCH_KIND_UNSPECIFIED: ReconciliationMismatchKind
RECONCILIATION_MISMATCH_KIND_MISSING_IN_ERP: ReconciliationMismatchKind
RECONCILIATION_MISMATCH_KIND_DUPLICATE_IN_ERP: ReconciliationMismatchKind
RECONCILIATION_MISMATCH_KIND_AMOUNT_DIFFERS: ReconciliationMismatchKind
RECONCILIATION_MISMATCH_KIND_PAYMENT_MISSING_IN_ERP: ReconciliationMismatchKind
RECONCILIATION_MISMATCH_KIND_PAYMENT_AMOUNT_DIFFERS: ReconciliationMismatchKind
RECONCILIATION_MISMATCH_KIND_UNKNOWN_IN_Q2C: ReconciliationMismatchKind

class RunReconciliationRequest(_message.Message):
    __slots__ = ("request_id", "grace_period")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    grace_period: _duration_pb2.Duration
    def __init__(self, request_id: _Optional[str] = ..., grace_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ReconciliationReport(_message.Message):
    __slots__ = ("reconciliation_id", "tenant_id", "grace_period", "invoices_checked", "payments_checked", "erp_documents_read", "mismatches", "exceptions_raised", "start_time", "finish_time")
    RECONCILIATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    INVOICES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    ERP_DOCUMENTS_READ_FIELD_NUMBER: _ClassVar[int]
    MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    EXCEPTIONS_RAISED_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISH_TIME_FIELD_NUMBER: _ClassVar[int]
    reconciliation_id: str
    tenant_id: str
    grace_period: _duration_pb2.Duration
    invoices_checked: int
    payments_checked: int
    erp_documents_read: int
    mismatches: _containers.RepeatedCompositeFieldContainer[ReconciliationMismatch]
    exceptions_raised: int
    start_time: _timestamp_pb2.Timestamp
    finish_time: _timestamp_pb2.Timestamp
    def __init__(self, reconciliation_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., grace_period: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., invoices_checked: _Optional[int] = ..., payments_checked: _Optional[int] = ..., erp_documents_read: _Optional[int] = ..., mismatches: _Optional[_Iterable[_Union[ReconciliationMismatch, _Mapping]]] = ..., exceptions_raised: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReconciliationMismatch(_message.Message):
    __slots__ = ("kind", "engagement_id", "invoice_id", "payment_id", "q2c_amount", "erp_documents", "detail", "exception_id", "raise_error")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    Q2C_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ERP_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    EXCEPTION_ID_FIELD_NUMBER: _ClassVar[int]
    RAISE_ERROR_FIELD_NUMBER: _ClassVar[int]
    kind: ReconciliationMismatchKind
    engagement_id: str
    invoice_id: str
    payment_id: str
    q2c_amount: _common_pb2.Money
    erp_documents: _containers.RepeatedCompositeFieldContainer[ErpDocumentSummary]
    detail: str
    exception_id: str
    raise_error: str
    def __init__(self, kind: _Optional[_Union[ReconciliationMismatchKind, str]] = ..., engagement_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., payment_id: _Optional[str] = ..., q2c_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., erp_documents: _Optional[_Iterable[_Union[ErpDocumentSummary, _Mapping]]] = ..., detail: _Optional[str] = ..., exception_id: _Optional[str] = ..., raise_error: _Optional[str] = ...) -> None: ...

class ErpDocumentSummary(_message.Message):
    __slots__ = ("document_number", "key", "amount")
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    document_number: str
    key: str
    amount: _common_pb2.Money
    def __init__(self, document_number: _Optional[str] = ..., key: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...
