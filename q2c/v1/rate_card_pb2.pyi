import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from q2c.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RoleRate(_message.Message):
    __slots__ = ("role", "hourly_rate")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    HOURLY_RATE_FIELD_NUMBER: _ClassVar[int]
    role: str
    hourly_rate: _common_pb2.Money
    def __init__(self, role: _Optional[str] = ..., hourly_rate: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class RateCard(_message.Message):
    __slots__ = ("rate_card_id", "revision", "display_name", "currency_code", "effective_from", "effective_to", "rates", "create_time")
    RATE_CARD_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_TO_FIELD_NUMBER: _ClassVar[int]
    RATES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    rate_card_id: str
    revision: int
    display_name: str
    currency_code: str
    effective_from: _date_pb2.Date
    effective_to: _date_pb2.Date
    rates: _containers.RepeatedCompositeFieldContainer[RoleRate]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, rate_card_id: _Optional[str] = ..., revision: _Optional[int] = ..., display_name: _Optional[str] = ..., currency_code: _Optional[str] = ..., effective_from: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., effective_to: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., rates: _Optional[_Iterable[_Union[RoleRate, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateRateCardRequest(_message.Message):
    __slots__ = ("request_id", "rate_card_id", "rate_card")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RATE_CARD_ID_FIELD_NUMBER: _ClassVar[int]
    RATE_CARD_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    rate_card_id: str
    rate_card: RateCard
    def __init__(self, request_id: _Optional[str] = ..., rate_card_id: _Optional[str] = ..., rate_card: _Optional[_Union[RateCard, _Mapping]] = ...) -> None: ...

class GetRateCardRequest(_message.Message):
    __slots__ = ("rate_card_id", "revision")
    RATE_CARD_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    rate_card_id: str
    revision: int
    def __init__(self, rate_card_id: _Optional[str] = ..., revision: _Optional[int] = ...) -> None: ...

class ListRateCardsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "currency_code")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    currency_code: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., currency_code: _Optional[str] = ...) -> None: ...

class ListRateCardsResponse(_message.Message):
    __slots__ = ("rate_cards", "next_page_token")
    RATE_CARDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    rate_cards: _containers.RepeatedCompositeFieldContainer[RateCard]
    next_page_token: str
    def __init__(self, rate_cards: _Optional[_Iterable[_Union[RateCard, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
