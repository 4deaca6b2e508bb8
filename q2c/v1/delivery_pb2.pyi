import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeliveryDestination(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_DESTINATION_UNSPECIFIED: _ClassVar[DeliveryDestination]
    DELIVERY_DESTINATION_ERP: _ClassVar[DeliveryDestination]
    DELIVERY_DESTINATION_PSA: _ClassVar[DeliveryDestination]

class DeliveryOperation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_OPERATION_UNSPECIFIED: _ClassVar[DeliveryOperation]
    DELIVERY_OPERATION_CREATE_JOB: _ClassVar[DeliveryOperation]
    DELIVERY_OPERATION_PROVISION_PROJECT: _ClassVar[DeliveryOperation]
    DELIVERY_OPERATION_POST_INVOICE: _ClassVar[DeliveryOperation]
    DELIVERY_OPERATION_RECORD_PAYMENT: _ClassVar[DeliveryOperation]

class DeliveryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATUS_UNSPECIFIED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_PENDING: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_DELIVERED: _ClassVar[DeliveryStatus]
    DELIVERY_STATUS_DEAD: _ClassVar[DeliveryStatus]

class DeliveryFailureKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_FAILURE_KIND_UNSPECIFIED: _ClassVar[DeliveryFailureKind]
    DELIVERY_FAILURE_KIND_RETRYABLE: _ClassVar[DeliveryFailureKind]
    DELIVERY_FAILURE_KIND_UNKNOWN_OUTCOME: _ClassVar[DeliveryFailureKind]
    DELIVERY_FAILURE_KIND_PERMANENT: _ClassVar[DeliveryFailureKind]
    DELIVERY_FAILURE_KIND_MALFORMED: _ClassVar[DeliveryFailureKind]
    DELIVERY_FAILURE_KIND_Q2C_UNAVAILABLE: _ClassVar[DeliveryFailureKind]
    DELIVERY_FAILURE_KIND_Q2C_REJECTED: _ClassVar[DeliveryFailureKind]
DELIVERY_DESTINATION_UNSPECIFIED: DeliveryDestination
DELIVERY_DESTINATION_ERP: DeliveryDestination
DELIVERY_DESTINATION_PSA: DeliveryDestination
DELIVERY_OPERATION_UNSPECIFIED: DeliveryOperation
DELIVERY_OPERATION_CREATE_JOB: DeliveryOperation
DELIVERY_OPERATION_PROVISION_PROJECT: DeliveryOperation
DELIVERY_OPERATION_POST_INVOICE: DeliveryOperation
DELIVERY_OPERATION_RECORD_PAYMENT: DeliveryOperation
DELIVERY_STATUS_UNSPECIFIED: DeliveryStatus
DELIVERY_STATUS_PENDING: DeliveryStatus
DELIVERY_STATUS_DELIVERED: DeliveryStatus
DELIVERY_STATUS_DEAD: DeliveryStatus
DELIVERY_FAILURE_KIND_UNSPECIFIED: DeliveryFailureKind
DELIVERY_FAILURE_KIND_RETRYABLE: DeliveryFailureKind
DELIVERY_FAILURE_KIND_UNKNOWN_OUTCOME: DeliveryFailureKind
DELIVERY_FAILURE_KIND_PERMANENT: DeliveryFailureKind
DELIVERY_FAILURE_KIND_MALFORMED: DeliveryFailureKind
DELIVERY_FAILURE_KIND_Q2C_UNAVAILABLE: DeliveryFailureKind
DELIVERY_FAILURE_KIND_Q2C_REJECTED: DeliveryFailureKind

class Delivery(_message.Message):
    __slots__ = ("delivery_id", "destination", "operation", "status", "key", "engagement_id", "subject_id", "invoice_id", "source_position", "attempts", "next_attempt_time", "failure_kind", "last_error", "last_http_status", "last_payload", "document_number", "create_time", "update_time", "delivered_time", "dead_time", "etag", "attempt_history")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_POSITION_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILURE_KIND_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    LAST_HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_TIME_FIELD_NUMBER: _ClassVar[int]
    DEAD_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_HISTORY_FIELD_NUMBER: _ClassVar[int]
    delivery_id: int
    destination: DeliveryDestination
    operation: DeliveryOperation
    status: DeliveryStatus
    key: str
    engagement_id: str
    subject_id: str
    invoice_id: str
    source_position: int
    attempts: int
    next_attempt_time: _timestamp_pb2.Timestamp
    failure_kind: DeliveryFailureKind
    last_error: str
    last_http_status: int
    last_payload: str
    document_number: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    delivered_time: _timestamp_pb2.Timestamp
    dead_time: _timestamp_pb2.Timestamp
    etag: str
    attempt_history: _containers.RepeatedCompositeFieldContainer[DeliveryAttempt]
    def __init__(self, delivery_id: _Optional[int] = ..., destination: _Optional[_Union[DeliveryDestination, str]] = ..., operation: _Optional[_Union[DeliveryOperation, str]] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ..., key: _Optional[str] = ..., engagement_id: _Optional[str] = ..., subject_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., source_position: _Optional[int] = ..., attempts: _Optional[int] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failure_kind: _Optional[_Union[DeliveryFailureKind, str]] = ..., last_error: _Optional[str] = ..., last_http_status: _Optional[int] = ..., last_payload: _Optional[str] = ..., document_number: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivered_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dead_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., attempt_history: _Optional[_Iterable[_Union[DeliveryAttempt, _Mapping]]] = ...) -> None: ...

class DeliveryAttempt(_message.Message):
    __slots__ = ("attempt", "attempt_time", "delivered", "failure_kind", "message", "http_status", "payload")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    FAILURE_KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    attempt_time: _timestamp_pb2.Timestamp
    delivered: bool
    failure_kind: DeliveryFailureKind
    message: str
    http_status: int
    payload: str
    def __init__(self, attempt: _Optional[int] = ..., attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivered: _Optional[bool] = ..., failure_kind: _Optional[_Union[DeliveryFailureKind, str]] = ..., message: _Optional[str] = ..., http_status: _Optional[int] = ..., payload: _Optional[str] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "destination", "operation", "engagement_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    destination: DeliveryDestination
    operation: DeliveryOperation
    engagement_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., destination: _Optional[_Union[DeliveryDestination, str]] = ..., operation: _Optional[_Union[DeliveryOperation, str]] = ..., engagement_id: _Optional[str] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("dead_letters", "next_page_token")
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[Delivery]
    next_page_token: str
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDeadLetterRequest(_message.Message):
    __slots__ = ("delivery_id",)
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    delivery_id: int
    def __init__(self, delivery_id: _Optional[int] = ...) -> None: ...

class RetryDeadLetterRequest(_message.Message):
    __slots__ = ("request_id", "delivery_id", "all_matching", "destination", "operation", "engagement_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ALL_MATCHING_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    delivery_id: int
    all_matching: bool
    destination: DeliveryDestination
    operation: DeliveryOperation
    engagement_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., delivery_id: _Optional[int] = ..., all_matching: _Optional[bool] = ..., destination: _Optional[_Union[DeliveryDestination, str]] = ..., operation: _Optional[_Union[DeliveryOperation, str]] = ..., engagement_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class RetryDeadLetterResponse(_message.Message):
    __slots__ = ("delivery_ids",)
    DELIVERY_IDS_FIELD_NUMBER: _ClassVar[int]
    delivery_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, delivery_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class ListDeliveriesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status", "destination", "operation", "engagement_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: DeliveryStatus
    destination: DeliveryDestination
    operation: DeliveryOperation
    engagement_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[DeliveryStatus, str]] = ..., destination: _Optional[_Union[DeliveryDestination, str]] = ..., operation: _Optional[_Union[DeliveryOperation, str]] = ..., engagement_id: _Optional[str] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "next_page_token")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    next_page_token: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDeliveryStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeliveryStats(_message.Message):
    __slots__ = ("destinations", "outbox_lag", "read_time")
    DESTINATIONS_FIELD_NUMBER: _ClassVar[int]
    OUTBOX_LAG_FIELD_NUMBER: _ClassVar[int]
    READ_TIME_FIELD_NUMBER: _ClassVar[int]
    destinations: _containers.RepeatedCompositeFieldContainer[DestinationStats]
    outbox_lag: int
    read_time: _timestamp_pb2.Timestamp
    def __init__(self, destinations: _Optional[_Iterable[_Union[DestinationStats, _Mapping]]] = ..., outbox_lag: _Optional[int] = ..., read_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DestinationStats(_message.Message):
    __slots__ = ("destination", "pending", "due", "delivered", "dead", "attempts", "oldest_pending_time")
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    DEAD_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    OLDEST_PENDING_TIME_FIELD_NUMBER: _ClassVar[int]
    destination: DeliveryDestination
    pending: int
    due: int
    delivered: int
    dead: int
    attempts: int
    oldest_pending_time: _timestamp_pb2.Timestamp
    def __init__(self, destination: _Optional[_Union[DeliveryDestination, str]] = ..., pending: _Optional[int] = ..., due: _Optional[int] = ..., delivered: _Optional[int] = ..., dead: _Optional[int] = ..., attempts: _Optional[int] = ..., oldest_pending_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
