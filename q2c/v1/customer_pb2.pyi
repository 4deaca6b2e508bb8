import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOMER_STATUS_UNSPECIFIED: _ClassVar[CustomerStatus]
    CUSTOMER_STATUS_ACTIVE: _ClassVar[CustomerStatus]
    CUSTOMER_STATUS_INACTIVE: _ClassVar[CustomerStatus]
CUSTOMER_STATUS_UNSPECIFIED: CustomerStatus
CUSTOMER_STATUS_ACTIVE: CustomerStatus
CUSTOMER_STATUS_INACTIVE: CustomerStatus

class TaxProfile(_message.Message):
    __slots__ = ("jurisdiction", "rate", "exempt")
    JURISDICTION_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    EXEMPT_FIELD_NUMBER: _ClassVar[int]
    jurisdiction: str
    rate: str
    exempt: bool
    def __init__(self, jurisdiction: _Optional[str] = ..., rate: _Optional[str] = ..., exempt: _Optional[bool] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("customer_id", "display_name", "legal_entity", "billing_currency", "tax_profile", "payment_terms_days", "po_required", "service_line", "status", "create_time", "update_time", "etag")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    LEGAL_ENTITY_FIELD_NUMBER: _ClassVar[int]
    BILLING_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TAX_PROFILE_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_TERMS_DAYS_FIELD_NUMBER: _ClassVar[int]
    PO_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LINE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    display_name: str
    legal_entity: str
    billing_currency: str
    tax_profile: TaxProfile
    payment_terms_days: int
    po_required: bool
    service_line: str
    status: CustomerStatus
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, customer_id: _Optional[str] = ..., display_name: _Optional[str] = ..., legal_entity: _Optional[str] = ..., billing_currency: _Optional[str] = ..., tax_profile: _Optional[_Union[TaxProfile, _Mapping]] = ..., payment_terms_days: _Optional[int] = ..., po_required: _Optional[bool] = ..., service_line: _Optional[str] = ..., status: _Optional[_Union[CustomerStatus, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("request_id", "customer")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer: Customer
    def __init__(self, request_id: _Optional[str] = ..., customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    status: CustomerStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[CustomerStatus, str]] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "next_page_token")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    next_page_token: str
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateCustomerRequest(_message.Message):
    __slots__ = ("request_id", "customer", "update_mask", "etag")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer: Customer
    update_mask: _field_mask_pb2.FieldMask
    etag: str
    def __init__(self, request_id: _Optional[str] = ..., customer: _Optional[_Union[Customer, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...
