import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from q2c.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class InvoiceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_STATE_UNSPECIFIED: _ClassVar[InvoiceState]
    INVOICE_STATE_DRAFT: _ClassVar[InvoiceState]
    INVOICE_STATE_ISSUED: _ClassVar[InvoiceState]
    INVOICE_STATE_PARTIALLY_PAID: _ClassVar[InvoiceState]
    INVOICE_STATE_PAID: _ClassVar[InvoiceState]
    INVOICE_STATE_VOID: _ClassVar[InvoiceState]
    INVOICE_STATE_POSTED: _ClassVar[InvoiceState]

class InvoiceView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_VIEW_UNSPECIFIED: _ClassVar[InvoiceView]
    INVOICE_VIEW_BASIC: _ClassVar[InvoiceView]
    INVOICE_VIEW_FULL: _ClassVar[InvoiceView]

class InvoiceLineSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INVOICE_LINE_SOURCE_UNSPECIFIED: _ClassVar[InvoiceLineSource]
    INVOICE_LINE_SOURCE_TIME_ENTRY: _ClassVar[InvoiceLineSource]
    INVOICE_LINE_SOURCE_EXPENSE: _ClassVar[InvoiceLineSource]
    INVOICE_LINE_SOURCE_MILESTONE: _ClassVar[InvoiceLineSource]
    INVOICE_LINE_SOURCE_RETAINER: _ClassVar[InvoiceLineSource]
    INVOICE_LINE_SOURCE_SUBSCRIPTION: _ClassVar[InvoiceLineSource]

class BillRunState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILL_RUN_STATE_UNSPECIFIED: _ClassVar[BillRunState]
    BILL_RUN_STATE_PENDING: _ClassVar[BillRunState]
    BILL_RUN_STATE_RUNNING: _ClassVar[BillRunState]
    BILL_RUN_STATE_SUCCEEDED: _ClassVar[BillRunState]
    BILL_RUN_STATE_CANCELLED: _ClassVar[BillRunState]
    BILL_RUN_STATE_FAILED: _ClassVar[BillRunState]
INVOICE_STATE_UNSPECIFIED: InvoiceState
INVOICE_STATE_DRAFT: InvoiceState
INVOICE_STATE_ISSUED: InvoiceState
INVOICE_STATE_PARTIALLY_PAID: InvoiceState
INVOICE_STATE_PAID: InvoiceState
INVOICE_STATE_VOID: InvoiceState
INVOICE_STATE_POSTED: InvoiceState
INVOICE_VIEW_UNSPECIFIED: InvoiceView
INVOICE_VIEW_BASIC: InvoiceView
INVOICE_VIEW_FULL: InvoiceView
INVOICE_LINE_SOURCE_UNSPECIFIED: InvoiceLineSource
INVOICE_LINE_SOURCE_TIME_ENTRY: InvoiceLineSource
INVOICE_LINE_SOURCE_EXPENSE: InvoiceLineSource
INVOICE_LINE_SOURCE_MILESTONE: InvoiceLineSource
INVOICE_LINE_SOURCE_RETAINER: InvoiceLineSource
INVOICE_LINE_SOURCE_SUBSCRIPTION: InvoiceLineSource
BILL_RUN_STATE_UNSPECIFIED: BillRunState
BILL_RUN_STATE_PENDING: BillRunState
BILL_RUN_STATE_RUNNING: BillRunState
BILL_RUN_STATE_SUCCEEDED: BillRunState
BILL_RUN_STATE_CANCELLED: BillRunState
BILL_RUN_STATE_FAILED: BillRunState

class Invoice(_message.Message):
    __slots__ = ("invoice_id", "engagement_id", "customer_id", "period", "state", "currency_code", "lines", "subtotal", "tax", "total", "amount_paid", "balance_due", "payments", "credit_note", "bill_run_id", "issue_date", "due_date", "po_reference", "create_time", "update_time", "etag", "erp_document_number", "post_time")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_PAID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_DUE_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_NOTE_FIELD_NUMBER: _ClassVar[int]
    BILL_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUE_DATE_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    PO_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ERP_DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    POST_TIME_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    engagement_id: str
    customer_id: str
    period: _common_pb2.BillingPeriod
    state: InvoiceState
    currency_code: str
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    subtotal: _common_pb2.Money
    tax: TaxDetail
    total: _common_pb2.Money
    amount_paid: _common_pb2.Money
    balance_due: _common_pb2.Money
    payments: _containers.RepeatedCompositeFieldContainer[Payment]
    credit_note: CreditNote
    bill_run_id: str
    issue_date: _date_pb2.Date
    due_date: _date_pb2.Date
    po_reference: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    erp_document_number: str
    post_time: _timestamp_pb2.Timestamp
    def __init__(self, invoice_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., period: _Optional[_Union[_common_pb2.BillingPeriod, _Mapping]] = ..., state: _Optional[_Union[InvoiceState, str]] = ..., currency_code: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ..., subtotal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[TaxDetail, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., amount_paid: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., balance_due: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., payments: _Optional[_Iterable[_Union[Payment, _Mapping]]] = ..., credit_note: _Optional[_Union[CreditNote, _Mapping]] = ..., bill_run_id: _Optional[str] = ..., issue_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., due_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., po_reference: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., erp_document_number: _Optional[str] = ..., post_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InvoiceLine(_message.Message):
    __slots__ = ("line_id", "source", "source_id", "billing_line_id", "contract_revision", "description", "quantity", "unit_price", "amount", "rounding_rule", "service_period")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_REVISION_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ROUNDING_RULE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    source: InvoiceLineSource
    source_id: str
    billing_line_id: str
    contract_revision: int
    description: str
    quantity: str
    unit_price: _common_pb2.Money
    amount: _common_pb2.Money
    rounding_rule: str
    service_period: _common_pb2.BillingPeriod
    def __init__(self, line_id: _Optional[str] = ..., source: _Optional[_Union[InvoiceLineSource, str]] = ..., source_id: _Optional[str] = ..., billing_line_id: _Optional[str] = ..., contract_revision: _Optional[int] = ..., description: _Optional[str] = ..., quantity: _Optional[str] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., rounding_rule: _Optional[str] = ..., service_period: _Optional[_Union[_common_pb2.BillingPeriod, _Mapping]] = ...) -> None: ...

class TaxDetail(_message.Message):
    __slots__ = ("jurisdiction", "rate", "exempt", "amount", "rounding_rule")
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    EXEMPT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ROUNDING_RULE_FIELD_NUMBER: _ClassVar[int]
    jurisdiction: str
    rate: str
    exempt: bool
    amount: _common_pb2.Money
    rounding_rule: str
    def __init__(self, jurisdiction: _Optional[str] = ..., rate: _Optional[str] = ..., exempt: _Optional[bool] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., rounding_rule: _Optional[str] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("payment_id", "amount", "received_date", "reference", "record_time")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_DATE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    amount: _common_pb2.Money
    received_date: _date_pb2.Date
    reference: str
    record_time: _timestamp_pb2.Timestamp
    def __init__(self, payment_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., received_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., reference: _Optional[str] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreditNote(_message.Message):
    __slots__ = ("credit_note_id", "amount", "reason", "create_time")
    CREDIT_NOTE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    credit_note_id: str
    amount: _common_pb2.Money
    reason: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, credit_note_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., reason: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BillRun(_message.Message):
    __slots__ = ("bill_run_id", "period", "state", "customer_ids", "currency_code", "shards_total", "shards_done", "engagements_total", "engagements_processed", "invoices_created", "engagements_already_invoiced", "engagements_skipped", "engagements_failed", "invoiced_totals", "skips", "failure_message", "create_time", "update_time", "finish_time")
    BILL_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    SHARDS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SHARDS_DONE_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENTS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    INVOICES_CREATED_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENTS_ALREADY_INVOICED_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENTS_SKIPPED_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENTS_FAILED_FIELD_NUMBER: _ClassVar[int]
    INVOICED_TOTALS_FIELD_NUMBER: _ClassVar[int]
    SKIPS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISH_TIME_FIELD_NUMBER: _ClassVar[int]
    bill_run_id: str
    period: _common_pb2.BillingPeriod
    state: BillRunState
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    currency_code: str
    shards_total: int
    shards_done: int
    engagements_total: int
    engagements_processed: int
    invoices_created: int
    engagements_already_invoiced: int
    engagements_skipped: int
    engagements_failed: int
    invoiced_totals: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    skips: _containers.RepeatedCompositeFieldContainer[BillRunSkip]
    failure_message: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    finish_time: _timestamp_pb2.Timestamp
    def __init__(self, bill_run_id: _Optional[str] = ..., period: _Optional[_Union[_common_pb2.BillingPeriod, _Mapping]] = ..., state: _Optional[_Union[BillRunState, str]] = ..., customer_ids: _Optional[_Iterable[str]] = ..., currency_code: _Optional[str] = ..., shards_total: _Optional[int] = ..., shards_done: _Optional[int] = ..., engagements_total: _Optional[int] = ..., engagements_processed: _Optional[int] = ..., invoices_created: _Optional[int] = ..., engagements_already_invoiced: _Optional[int] = ..., engagements_skipped: _Optional[int] = ..., engagements_failed: _Optional[int] = ..., invoiced_totals: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., skips: _Optional[_Iterable[_Union[BillRunSkip, _Mapping]]] = ..., failure_message: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BillRunSkip(_message.Message):
    __slots__ = ("engagement_id", "reason", "message")
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    engagement_id: str
    reason: str
    message: str
    def __init__(self, engagement_id: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class GetInvoiceRequest(_message.Message):
    __slots__ = ("invoice_id", "view")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    view: InvoiceView
    def __init__(self, invoice_id: _Optional[str] = ..., view: _Optional[_Union[InvoiceView, str]] = ...) -> None: ...

class ListInvoicesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "engagement_id", "customer_id", "state", "bill_run_id", "view")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    BILL_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    engagement_id: str
    customer_id: str
    state: InvoiceState
    bill_run_id: str
    view: InvoiceView
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., engagement_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., state: _Optional[_Union[InvoiceState, str]] = ..., bill_run_id: _Optional[str] = ..., view: _Optional[_Union[InvoiceView, str]] = ...) -> None: ...

class ListInvoicesResponse(_message.Message):
    __slots__ = ("invoices", "next_page_token")
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[Invoice]
    next_page_token: str
    def __init__(self, invoices: _Optional[_Iterable[_Union[Invoice, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class IssueInvoiceRequest(_message.Message):
    __slots__ = ("request_id", "invoice_id", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    invoice_id: str
    comment: str
    view: InvoiceView
    def __init__(self, request_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[InvoiceView, str]] = ...) -> None: ...

class RecordPaymentRequest(_message.Message):
    __slots__ = ("request_id", "invoice_id", "amount", "received_date", "reference", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_DATE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    invoice_id: str
    amount: _common_pb2.Money
    received_date: _date_pb2.Date
    reference: str
    view: InvoiceView
    def __init__(self, request_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., received_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., reference: _Optional[str] = ..., view: _Optional[_Union[InvoiceView, str]] = ...) -> None: ...

class VoidInvoiceRequest(_message.Message):
    __slots__ = ("request_id", "invoice_id", "reason", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    invoice_id: str
    reason: str
    view: InvoiceView
    def __init__(self, request_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., reason: _Optional[str] = ..., view: _Optional[_Union[InvoiceView, str]] = ...) -> None: ...

class StartBillRunRequest(_message.Message):
    __slots__ = ("request_id", "period", "customer_ids", "currency_code")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    period: _common_pb2.BillingPeriod
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    currency_code: str
    def __init__(self, request_id: _Optional[str] = ..., period: _Optional[_Union[_common_pb2.BillingPeriod, _Mapping]] = ..., customer_ids: _Optional[_Iterable[str]] = ..., currency_code: _Optional[str] = ...) -> None: ...

class GetBillRunRequest(_message.Message):
    __slots__ = ("bill_run_id",)
    BILL_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    bill_run_id: str
    def __init__(self, bill_run_id: _Optional[str] = ...) -> None: ...

class ListBillRunsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListBillRunsResponse(_message.Message):
    __slots__ = ("bill_runs", "next_page_token")
    BILL_RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bill_runs: _containers.RepeatedCompositeFieldContainer[BillRun]
    next_page_token: str
    def __init__(self, bill_runs: _Optional[_Iterable[_Union[BillRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchBillRunRequest(_message.Message):
    __slots__ = ("bill_run_id",)
    BILL_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    bill_run_id: str
    def __init__(self, bill_run_id: _Optional[str] = ...) -> None: ...

class CancelBillRunRequest(_message.Message):
    __slots__ = ("request_id", "bill_run_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BILL_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    bill_run_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., bill_run_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
