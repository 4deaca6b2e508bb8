from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GatedStep(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GATED_STEP_UNSPECIFIED: _ClassVar[GatedStep]
    GATED_STEP_CLOSE_WON: _ClassVar[GatedStep]
    GATED_STEP_APPROVE_CONTRACT: _ClassVar[GatedStep]
    GATED_STEP_ACTIVATE: _ClassVar[GatedStep]
GATED_STEP_UNSPECIFIED: GatedStep
GATED_STEP_CLOSE_WON: GatedStep
GATED_STEP_APPROVE_CONTRACT: GatedStep
GATED_STEP_ACTIVATE: GatedStep

class Money(_message.Message):
    __slots__ = ("currency_code", "amount")
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    currency_code: str
    amount: str
    def __init__(self, currency_code: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...
