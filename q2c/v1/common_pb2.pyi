from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GatedStep(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GATED_STEP_UNSPECIFIED: _ClassVar[GatedStep]
    GATED_STEP_CLOSE_WON: _ClassVar[GatedStep]
    GATED_STEP_APPROVE_CONTRACT: _ClassVar[GatedStep]
    GATED_STEP_ACTIVATE: _ClassVar[GatedStep]
    GATED_STEP_INVOICE: _ClassVar[GatedStep]
GATED_STEP_UNSPECIFIED: GatedStep
GATED_STEP_CLOSE_WON: GatedStep
GATED_STEP_APPROVE_CONTRACT: GatedStep
GATED_STEP_ACTIVATE: GatedStep
GATED_STEP_INVOICE: GatedStep

class Money(_message.Message):
    __slots__ = ("currency_code", "amount")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    amount: str
    def __init__(self, currency_code: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class BillingPeriod(_message.Message):
    __slots__ = ("month", "start_date", "end_date")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    month: str
    start_date: _date_pb2.Date
    end_date: _date_pb2.Date
    def __init__(self, month: _Optional[str] = ..., start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...
