import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from q2c.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetKpisRequest(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Kpis(_message.Message):
    __slots__ = ("tenant_id", "start_time", "end_time", "quote_to_activation", "billing_cycle", "cash_application", "unbilled_amounts", "unpriced_items", "invoice_exceptions", "bill_runs", "unreadable_events")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    QUOTE_TO_ACTIVATION_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    CASH_APPLICATION_FIELD_NUMBER: _ClassVar[int]
    UNBILLED_AMOUNTS_FIELD_NUMBER: _ClassVar[int]
    UNPRICED_ITEMS_FIELD_NUMBER: _ClassVar[int]
    INVOICE_EXCEPTIONS_FIELD_NUMBER: _ClassVar[int]
    BILL_RUNS_FIELD_NUMBER: _ClassVar[int]
    UNREADABLE_EVENTS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    quote_to_activation: DurationSummary
    billing_cycle: DurationSummary
    cash_application: DurationSummary
    unbilled_amounts: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    unpriced_items: int
    invoice_exceptions: int
    bill_runs: _containers.RepeatedCompositeFieldContainer[BillRunExceptionRate]
    unreadable_events: int
    def __init__(self, tenant_id: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., quote_to_activation: _Optional[_Union[DurationSummary, _Mapping]] = ..., billing_cycle: _Optional[_Union[DurationSummary, _Mapping]] = ..., cash_application: _Optional[_Union[DurationSummary, _Mapping]] = ..., unbilled_amounts: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., unpriced_items: _Optional[int] = ..., invoice_exceptions: _Optional[int] = ..., bill_runs: _Optional[_Iterable[_Union[BillRunExceptionRate, _Mapping]]] = ..., unreadable_events: _Optional[int] = ...) -> None: ...

class DurationSummary(_message.Message):
    __slots__ = ("count", "sum", "p50", "p90", "p99")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SUM_FIELD_NUMBER: _ClassVar[int]
    P50_FIELD_NUMBER: _ClassVar[int]
    P90_FIELD_NUMBER: _ClassVar[int]
    P99_FIELD_NUMBER: _ClassVar[int]
    count: int
    sum: _duration_pb2.Duration
    p50: _duration_pb2.Duration
    p90: _duration_pb2.Duration
    p99: _duration_pb2.Duration
    def __init__(self, count: _Optional[int] = ..., sum: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., p50: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., p90: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., p99: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class BillRunExceptionRate(_message.Message):
    __slots__ = ("bill_run_id", "invoices_attempted", "exceptions_raised", "exception_rate")
    BILL_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICES_ATTEMPTED_FIELD_NUMBER: _ClassVar[int]
    EXCEPTIONS_RAISED_FIELD_NUMBER: _ClassVar[int]
    EXCEPTION_RATE_FIELD_NUMBER: _ClassVar[int]
    bill_run_id: str
    invoices_attempted: int
    exceptions_raised: int
    exception_rate: float
    def __init__(self, bill_run_id: _Optional[str] = ..., invoices_attempted: _Optional[int] = ..., exceptions_raised: _Optional[int] = ..., exception_rate: _Optional[float] = ...) -> None: ...
