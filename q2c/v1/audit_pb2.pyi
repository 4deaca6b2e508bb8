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

class AuditProblem(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_PROBLEM_UNSPECIFIED: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_RECORD_MODIFIED: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_CHAIN_LINK_BROKEN: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_RECORDS_MISSING: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_RECORD_REORDERED: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_EVENT_PAYLOAD_MODIFIED: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_CHAIN_VERSION_DOWNGRADED: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_HEAD_REWRITTEN: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_TAIL_DELETED: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_STREAM_DELETED: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_CHECKPOINT_SIGNATURE_INVALID: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_CHECKPOINT_KEY_UNKNOWN: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_CHECKPOINT_ROOT_MISMATCH: _ClassVar[AuditProblem]
    AUDIT_PROBLEM_CHECKPOINT_TENANT_MISMATCH: _ClassVar[AuditProblem]

class AuditOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_OUTCOME_UNSPECIFIED: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_ACCEPTED: _ClassVar[AuditOutcome]
    AUDIT_OUTCOME_REJECTED: _ClassVar[AuditOutcome]
AUDIT_PROBLEM_UNSPECIFIED: AuditProblem
AUDIT_PROBLEM_RECORD_MODIFIED: AuditProblem
AUDIT_PROBLEM_CHAIN_LINK_BROKEN: AuditProblem
AUDIT_PROBLEM_RECORDS_MISSING: AuditProblem
AUDIT_PROBLEM_RECORD_REORDERED: AuditProblem
AUDIT_PROBLEM_EVENT_PAYLOAD_MODIFIED: AuditProblem
AUDIT_PROBLEM_CHAIN_VERSION_DOWNGRADED: AuditProblem
AUDIT_PROBLEM_HEAD_REWRITTEN: AuditProblem
AUDIT_PROBLEM_TAIL_DELETED: AuditProblem
AUDIT_PROBLEM_STREAM_DELETED: AuditProblem
AUDIT_PROBLEM_CHECKPOINT_SIGNATURE_INVALID: AuditProblem
AUDIT_PROBLEM_CHECKPOINT_KEY_UNKNOWN: AuditProblem
AUDIT_PROBLEM_CHECKPOINT_ROOT_MISMATCH: AuditProblem
AUDIT_PROBLEM_CHECKPOINT_TENANT_MISMATCH: AuditProblem
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
    __slots__ = ("stream_id", "checkpoint", "page_token", "max_records")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    checkpoint: AuditCheckpoint
    page_token: str
    max_records: int
    def __init__(self, stream_id: _Optional[str] = ..., checkpoint: _Optional[_Union[AuditCheckpoint, _Mapping]] = ..., page_token: _Optional[str] = ..., max_records: _Optional[int] = ...) -> None: ...

class VerifyAuditLogResponse(_message.Message):
    __slots__ = ("ok", "records_checked", "first_invalid_record", "problem", "reason", "checkpoint", "problem_stream_id", "next_page_token")
    OK_FIELD_NUMBER: _ClassVar[int]
    RECORDS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    FIRST_INVALID_RECORD_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    records_checked: int
    first_invalid_record: AuditRecord
    problem: str
    reason: AuditProblem
    checkpoint: AuditCheckpoint
    problem_stream_id: str
    next_page_token: str
    def __init__(self, ok: _Optional[bool] = ..., records_checked: _Optional[int] = ..., first_invalid_record: _Optional[_Union[AuditRecord, _Mapping]] = ..., problem: _Optional[str] = ..., reason: _Optional[_Union[AuditProblem, str]] = ..., checkpoint: _Optional[_Union[AuditCheckpoint, _Mapping]] = ..., problem_stream_id: _Optional[str] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AuditStreamHead(_message.Message):
    __slots__ = ("stream_id", "sequence", "hash")
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    stream_id: str
    sequence: int
    hash: str
    def __init__(self, stream_id: _Optional[str] = ..., sequence: _Optional[int] = ..., hash: _Optional[str] = ...) -> None: ...

class AuditCheckpoint(_message.Message):
    __slots__ = ("tenant_id", "sequence", "create_time", "stream_heads", "root_hash", "key_id", "signature", "format")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STREAM_HEADS_FIELD_NUMBER: _ClassVar[int]
    ROOT_HASH_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    sequence: int
    create_time: _timestamp_pb2.Timestamp
    stream_heads: _containers.RepeatedCompositeFieldContainer[AuditStreamHead]
    root_hash: str
    key_id: str
    signature: str
    format: int
    def __init__(self, tenant_id: _Optional[str] = ..., sequence: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., stream_heads: _Optional[_Iterable[_Union[AuditStreamHead, _Mapping]]] = ..., root_hash: _Optional[str] = ..., key_id: _Optional[str] = ..., signature: _Optional[str] = ..., format: _Optional[int] = ...) -> None: ...

class CreateAuditCheckpointRequest(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class GetAuditCheckpointRequest(_message.Message):
    __slots__ = ("sequence",)
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    def __init__(self, sequence: _Optional[int] = ...) -> None: ...

class ListAuditCheckpointsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuditCheckpointsResponse(_message.Message):
    __slots__ = ("audit_checkpoints", "next_page_token")
    AUDIT_CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    audit_checkpoints: _containers.RepeatedCompositeFieldContainer[AuditCheckpoint]
    next_page_token: str
    def __init__(self, audit_checkpoints: _Optional[_Iterable[_Union[AuditCheckpoint, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SecurityEvent(_message.Message):
    __slots__ = ("event_id", "tenant_id", "principal", "method", "code", "reason", "message", "peer", "correlation_id", "suppressed_before", "event_time")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    tenant_id: str
    principal: str
    method: str
    code: str
    reason: str
    message: str
    peer: str
    correlation_id: str
    suppressed_before: int
    event_time: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., principal: _Optional[str] = ..., method: _Optional[str] = ..., code: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., peer: _Optional[str] = ..., correlation_id: _Optional[str] = ..., suppressed_before: _Optional[int] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListSecurityEventsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "include_unauthenticated")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_UNAUTHENTICATED_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    include_unauthenticated: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_unauthenticated: _Optional[bool] = ...) -> None: ...

class ListSecurityEventsResponse(_message.Message):
    __slots__ = ("security_events", "next_page_token")
    SECURITY_EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    security_events: _containers.RepeatedCompositeFieldContainer[SecurityEvent]
    next_page_token: str
    def __init__(self, security_events: _Optional[_Iterable[_Union[SecurityEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
