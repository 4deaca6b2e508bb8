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

class AuditOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_OUTCOME_UNSPECIFIED: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_ACCEPTED: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_REJECTED: _ClassVar[AuditOutcome]
AUDIT_OUTCOME_UNSPECIFIED: AuditOutcome
AUDIT_OUTCOME_ACCEPTED: AuditOutcome
AUDIT_OUTCOME_REJECTED: AuditOutcome

class AuditRecord(_message.Message):
    __slots__ = ("record_id", "stream_id", "sequence", "principal", "tenant_id", "command_type", "request_id", "correlation_id", "payload_digest", "outcome", "rejection_reason", "comment", "event_ids", "record_time", "previous_hash", "hash")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMAND_TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_DIGEST_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    stream_id: str
    sequence: int
    principal: str
    tenant_id: str
    command_type: str
    request_id: str
    correlation_id: str
    payload_digest: str
    outcome: AuditOutcome
    rejection_reason: str
    comment: str
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    record_time: _timestamp_pb2.Timestamp
    previous_hash: str
    hash: str
    def __init__(self, record_id: _Optional[str] = ..., stream_id: _Optional[str] = ..., sequence: _Optional[int] = ..., principal: _Optional[str] = ..., tenant_id: _Optional[str] = ..., command_type: _Optional[str] = ..., request_id: _Optional[str] = ..., correlation_id: _Optional[str] = ..., payload_digest: _Optional[str] = ..., outcome: _Optional[_Union[AuditOutcome, str]] = ..., rejection_reason: _Optional[str] = ..., comment: _Optional[str] = ..., event_ids: _Optional[_Iterable[str]] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., previous_hash: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class ListAuditRecordsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "stream_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    stream_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., stream_id: _Optional[str] = ...) -> None: ...

class ListAuditRecordsResponse(_message.Message):
    __slots__ = ("audit_records", "next_page_token")
    AUDIT_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    audit_records: _containers.RepeatedCompositeFieldContainer[AuditRecord]
    next_page_token: str
    def __init__(self, audit_records: _Optional[_Iterable[_Union[AuditRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class VerifyAuditLogRequest(_message.Message):
    __slots__ = ("stream_id",)
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    def __init__(self, stream_id: _Optional[str] = ...) -> None: ...

class VerifyAuditLogResponse(_message.Message):
    __slots__ = ("ok", "records_checked", "first_invalid_record", "problem")
    OK_FIELD_NUMBER: _ClassVar[int]
    RECORDS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    FIRST_INVALID_RECORD_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    records_checked: int
    first_invalid_record: AuditRecord
    problem: str
    def __init__(self, ok: _Optional[bool] = ..., records_checked: _Optional[int] = ..., first_invalid_record: _Optional[_Union[AuditRecord, _Mapping]] = ..., problem: _Optional[str] = ...) -> None: ...
