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

class ExceptionSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXCEPTION_SEVERITY_UNSPECIFIED: _ClassVar[ExceptionSeverity]
    EXCEPTION_SEVERITY_BLOCKING: _ClassVar[ExceptionSeverity]
    EXCEPTION_SEVERITY_REVIEW: _ClassVar[ExceptionSeverity]
    EXCEPTION_SEVERITY_AUTO_CORRECTED: _ClassVar[ExceptionSeverity]

class ExceptionState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXCEPTION_STATE_UNSPECIFIED: _ClassVar[ExceptionState]
    EXCEPTION_STATE_OPEN: _ClassVar[ExceptionState]
    EXCEPTION_STATE_RESOLVED: _ClassVar[ExceptionState]

class OwnerQueue(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OWNER_QUEUE_UNSPECIFIED: _ClassVar[OwnerQueue]
    OWNER_QUEUE_FINANCE_OPS: _ClassVar[OwnerQueue]
    OWNER_QUEUE_DELIVERY_OPS: _ClassVar[OwnerQueue]
    OWNER_QUEUE_SALES_OPS: _ClassVar[OwnerQueue]

class ExceptionOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXCEPTION_ORDER_UNSPECIFIED: _ClassVar[ExceptionOrder]
    EXCEPTION_ORDER_OLDEST_FIRST: _ClassVar[ExceptionOrder]
    EXCEPTION_ORDER_NEWEST_FIRST: _ClassVar[ExceptionOrder]

class ExceptionResolution(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXCEPTION_RESOLUTION_UNSPECIFIED: _ClassVar[ExceptionResolution]
    EXCEPTION_RESOLUTION_RELEASE: _ClassVar[ExceptionResolution]
    EXCEPTION_RESOLUTION_WRITE_OFF: _ClassVar[ExceptionResolution]
EXCEPTION_SEVERITY_UNSPECIFIED: ExceptionSeverity
EXCEPTION_SEVERITY_BLOCKING: ExceptionSeverity
EXCEPTION_SEVERITY_REVIEW: ExceptionSeverity
EXCEPTION_SEVERITY_AUTO_CORRECTED: ExceptionSeverity
EXCEPTION_STATE_UNSPECIFIED: ExceptionState
EXCEPTION_STATE_OPEN: ExceptionState
EXCEPTION_STATE_RESOLVED: ExceptionState
OWNER_QUEUE_UNSPECIFIED: OwnerQueue
OWNER_QUEUE_FINANCE_OPS: OwnerQueue
OWNER_QUEUE_DELIVERY_OPS: OwnerQueue
OWNER_QUEUE_SALES_OPS: OwnerQueue
EXCEPTION_ORDER_UNSPECIFIED: ExceptionOrder
EXCEPTION_ORDER_OLDEST_FIRST: ExceptionOrder
EXCEPTION_ORDER_NEWEST_FIRST: ExceptionOrder
EXCEPTION_RESOLUTION_UNSPECIFIED: ExceptionResolution
EXCEPTION_RESOLUTION_RELEASE: ExceptionResolution
EXCEPTION_RESOLUTION_WRITE_OFF: ExceptionResolution

class BusinessException(_message.Message):
    __slots__ = ("exception_id", "engagement_id", "customer_id", "step", "check", "severity", "state", "message", "correction", "resolution_note", "resolved_by", "raise_time", "resolve_time", "owner_queue", "sla_due_time", "age", "sla_breached")
    EXCEPTION_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    CHECK_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_NOTE_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    RAISE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_FIELD_NUMBER: _ClassVar[int]
    OWNER_QUEUE_FIELD_NUMBER: _ClassVar[int]
    SLA_DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    SLA_BREACHED_FIELD_NUMBER: _ClassVar[int]
    exception_id: str
    engagement_id: str
    customer_id: str
    step: _common_pb2.GatedStep
    check: str
    severity: ExceptionSeverity
    state: ExceptionState
    message: str
    correction: str
    resolution_note: str
    resolved_by: str
    raise_time: _timestamp_pb2.Timestamp
    resolve_time: _timestamp_pb2.Timestamp
    owner_queue: OwnerQueue
    sla_due_time: _timestamp_pb2.Timestamp
    age: _duration_pb2.Duration
    sla_breached: bool
    def __init__(self, exception_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., step: _Optional[_Union[_common_pb2.GatedStep, str]] = ..., check: _Optional[str] = ..., severity: _Optional[_Union[ExceptionSeverity, str]] = ..., state: _Optional[_Union[ExceptionState, str]] = ..., message: _Optional[str] = ..., correction: _Optional[str] = ..., resolution_note: _Optional[str] = ..., resolved_by: _Optional[str] = ..., raise_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owner_queue: _Optional[_Union[OwnerQueue, str]] = ..., sla_due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., sla_breached: _Optional[bool] = ...) -> None: ...

class ListExceptionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state", "severity", "engagement_id", "owner_queue", "order_by")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_QUEUE_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: ExceptionState
    severity: ExceptionSeverity
    engagement_id: str
    owner_queue: OwnerQueue
    order_by: ExceptionOrder
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[ExceptionState, str]] = ..., severity: _Optional[_Union[ExceptionSeverity, str]] = ..., engagement_id: _Optional[str] = ..., owner_queue: _Optional[_Union[OwnerQueue, str]] = ..., order_by: _Optional[_Union[ExceptionOrder, str]] = ...) -> None: ...

class ListExceptionsResponse(_message.Message):
    __slots__ = ("exceptions", "next_page_token")
    EXCEPTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    exceptions: _containers.RepeatedCompositeFieldContainer[BusinessException]
    next_page_token: str
    def __init__(self, exceptions: _Optional[_Iterable[_Union[BusinessException, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetExceptionRequest(_message.Message):
    __slots__ = ("exception_id",)
    EXCEPTION_ID_FIELD_NUMBER: _ClassVar[int]
    exception_id: str
    def __init__(self, exception_id: _Optional[str] = ...) -> None: ...

class ResolveExceptionRequest(_message.Message):
    __slots__ = ("request_id", "exception_id", "resolution_note", "resolution")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EXCEPTION_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_NOTE_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    exception_id: str
    resolution_note: str
    resolution: ExceptionResolution
    def __init__(self, request_id: _Optional[str] = ..., exception_id: _Optional[str] = ..., resolution_note: _Optional[str] = ..., resolution: _Optional[_Union[ExceptionResolution, str]] = ...) -> None: ...
