import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from q2c.v1 import billing_pb2 as _billing_pb2
from q2c.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EngagementState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENGAGEMENT_STATE_UNSPECIFIED: _ClassVar[EngagementState]
    ENGAGEMENT_STATE_DRAFT: _ClassVar[EngagementState]
    ENGAGEMENT_STATE_QUALIFIED: _ClassVar[EngagementState]
    ENGAGEMENT_STATE_WON: _ClassVar[EngagementState]
    ENGAGEMENT_STATE_CONTRACTED: _ClassVar[EngagementState]
    ENGAGEMENT_STATE_ACTIVE: _ClassVar[EngagementState]
    ENGAGEMENT_STATE_COMPLETED: _ClassVar[EngagementState]
    ENGAGEMENT_STATE_CLOSED: _ClassVar[EngagementState]
    ENGAGEMENT_STATE_CANCELLED: _ClassVar[EngagementState]
    ENGAGEMENT_STATE_ON_HOLD: _ClassVar[EngagementState]

class BillingModel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILLING_MODEL_UNSPECIFIED: _ClassVar[BillingModel]
    BILLING_MODEL_TIME_AND_MATERIALS: _ClassVar[BillingModel]
    BILLING_MODEL_FIXED_FEE: _ClassVar[BillingModel]
    BILLING_MODEL_RETAINER: _ClassVar[BillingModel]
    BILLING_MODEL_PASS_THROUGH_EXPENSES: _ClassVar[BillingModel]
    BILLING_MODEL_SUBSCRIPTION: _ClassVar[BillingModel]

class BillingPeriodUnit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILLING_PERIOD_UNIT_UNSPECIFIED: _ClassVar[BillingPeriodUnit]
    BILLING_PERIOD_UNIT_MONTH: _ClassVar[BillingPeriodUnit]
    BILLING_PERIOD_UNIT_QUARTER: _ClassVar[BillingPeriodUnit]
    BILLING_PERIOD_UNIT_YEAR: _ClassVar[BillingPeriodUnit]

class TimeEntryStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIME_ENTRY_STATUS_UNSPECIFIED: _ClassVar[TimeEntryStatus]
    TIME_ENTRY_STATUS_SUBMITTED: _ClassVar[TimeEntryStatus]
    TIME_ENTRY_STATUS_APPROVED: _ClassVar[TimeEntryStatus]
    TIME_ENTRY_STATUS_REJECTED: _ClassVar[TimeEntryStatus]
    TIME_ENTRY_STATUS_BILLED: _ClassVar[TimeEntryStatus]
    TIME_ENTRY_STATUS_HELD_AT_CAP: _ClassVar[TimeEntryStatus]
    TIME_ENTRY_STATUS_WRITTEN_OFF: _ClassVar[TimeEntryStatus]

class ExpenseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPENSE_STATUS_UNSPECIFIED: _ClassVar[ExpenseStatus]
    EXPENSE_STATUS_SUBMITTED: _ClassVar[ExpenseStatus]
    EXPENSE_STATUS_APPROVED: _ClassVar[ExpenseStatus]
    EXPENSE_STATUS_REJECTED: _ClassVar[ExpenseStatus]
    EXPENSE_STATUS_BILLED: _ClassVar[ExpenseStatus]

class MilestoneStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MILESTONE_STATUS_UNSPECIFIED: _ClassVar[MilestoneStatus]
    MILESTONE_STATUS_PLANNED: _ClassVar[MilestoneStatus]
    MILESTONE_STATUS_COMPLETED: _ClassVar[MilestoneStatus]
    MILESTONE_STATUS_ACCEPTED: _ClassVar[MilestoneStatus]
    MILESTONE_STATUS_REJECTED: _ClassVar[MilestoneStatus]

class EngagementView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENGAGEMENT_VIEW_UNSPECIFIED: _ClassVar[EngagementView]
    ENGAGEMENT_VIEW_BASIC: _ClassVar[EngagementView]
    ENGAGEMENT_VIEW_FULL: _ClassVar[EngagementView]

class ReadinessBlockerKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    READINESS_BLOCKER_KIND_UNSPECIFIED: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_UNAPPROVED_TIME: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_UNAPPROVED_EXPENSES: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_UNACCEPTED_MILESTONES: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_MISSING_PO_REFERENCE: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_OPEN_BLOCKING_EXCEPTIONS: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_CAP_REACHED: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_PERIOD_ALREADY_INVOICED: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_NOTHING_TO_BILL: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_MISSING_TAX_PROFILE: _ClassVar[ReadinessBlockerKind]
    READINESS_BLOCKER_KIND_UNPRICED_TIME: _ClassVar[ReadinessBlockerKind]
ENGAGEMENT_STATE_UNSPECIFIED: EngagementState
ENGAGEMENT_STATE_DRAFT: EngagementState
ENGAGEMENT_STATE_QUALIFIED: EngagementState
ENGAGEMENT_STATE_WON: EngagementState
ENGAGEMENT_STATE_CONTRACTED: EngagementState
ENGAGEMENT_STATE_ACTIVE: EngagementState
ENGAGEMENT_STATE_COMPLETED: EngagementState
ENGAGEMENT_STATE_CLOSED: EngagementState
ENGAGEMENT_STATE_CANCELLED: EngagementState
ENGAGEMENT_STATE_ON_HOLD: EngagementState
BILLING_MODEL_UNSPECIFIED: BillingModel
BILLING_MODEL_TIME_AND_MATERIALS: BillingModel
BILLING_MODEL_FIXED_FEE: BillingModel
BILLING_MODEL_RETAINER: BillingModel
BILLING_MODEL_PASS_THROUGH_EXPENSES: BillingModel
BILLING_MODEL_SUBSCRIPTION: BillingModel
BILLING_PERIOD_UNIT_UNSPECIFIED: BillingPeriodUnit
BILLING_PERIOD_UNIT_MONTH: BillingPeriodUnit
BILLING_PERIOD_UNIT_QUARTER: BillingPeriodUnit
BILLING_PERIOD_UNIT_YEAR: BillingPeriodUnit
TIME_ENTRY_STATUS_UNSPECIFIED: TimeEntryStatus
TIME_ENTRY_STATUS_SUBMITTED: TimeEntryStatus
TIME_ENTRY_STATUS_APPROVED: TimeEntryStatus
TIME_ENTRY_STATUS_REJECTED: TimeEntryStatus
TIME_ENTRY_STATUS_BILLED: TimeEntryStatus
TIME_ENTRY_STATUS_HELD_AT_CAP: TimeEntryStatus
TIME_ENTRY_STATUS_WRITTEN_OFF: TimeEntryStatus
EXPENSE_STATUS_UNSPECIFIED: ExpenseStatus
EXPENSE_STATUS_SUBMITTED: ExpenseStatus
EXPENSE_STATUS_APPROVED: ExpenseStatus
EXPENSE_STATUS_REJECTED: ExpenseStatus
EXPENSE_STATUS_BILLED: ExpenseStatus
MILESTONE_STATUS_UNSPECIFIED: MilestoneStatus
MILESTONE_STATUS_PLANNED: MilestoneStatus
MILESTONE_STATUS_COMPLETED: MilestoneStatus
MILESTONE_STATUS_ACCEPTED: MilestoneStatus
MILESTONE_STATUS_REJECTED: MilestoneStatus
ENGAGEMENT_VIEW_UNSPECIFIED: EngagementView
ENGAGEMENT_VIEW_BASIC: EngagementView
ENGAGEMENT_VIEW_FULL: EngagementView
READINESS_BLOCKER_KIND_UNSPECIFIED: ReadinessBlockerKind
READINESS_BLOCKER_KIND_UNAPPROVED_TIME: ReadinessBlockerKind
READINESS_BLOCKER_KIND_UNAPPROVED_EXPENSES: ReadinessBlockerKind
READINESS_BLOCKER_KIND_UNACCEPTED_MILESTONES: ReadinessBlockerKind
READINESS_BLOCKER_KIND_MISSING_PO_REFERENCE: ReadinessBlockerKind
READINESS_BLOCKER_KIND_OPEN_BLOCKING_EXCEPTIONS: ReadinessBlockerKind
READINESS_BLOCKER_KIND_CAP_REACHED: ReadinessBlockerKind
READINESS_BLOCKER_KIND_PERIOD_ALREADY_INVOICED: ReadinessBlockerKind
READINESS_BLOCKER_KIND_NOTHING_TO_BILL: ReadinessBlockerKind
READINESS_BLOCKER_KIND_MISSING_TAX_PROFILE: ReadinessBlockerKind
READINESS_BLOCKER_KIND_UNPRICED_TIME: ReadinessBlockerKind

class Engagement(_message.Message):
    __slots__ = ("engagement_id", "customer_id", "display_name", "opportunity_ref", "service_line", "expected_start_date", "start_date", "state", "held_from_state", "held_step", "contract", "time_entries", "expenses", "milestones", "open_exception_ids", "version", "create_time", "update_time", "etag", "project_template_id", "staffing_plan", "contract_revisions", "invoice_ids")
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_REF_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LINE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_START_DATE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    HELD_FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    HELD_STEP_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    TIME_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    EXPENSES_FIELD_NUMBER: _ClassVar[int]
    MILESTONES_FIELD_NUMBER: _ClassVar[int]
    OPEN_EXCEPTION_IDS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    PROJECT_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    STAFFING_PLAN_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_REVISIONS_FIELD_NUMBER: _ClassVar[int]
    INVOICE_IDS_FIELD_NUMBER: _ClassVar[int]
    engagement_id: str
    customer_id: str
    display_name: str
    opportunity_ref: str
    service_line: str
    expected_start_date: _date_pb2.Date
    start_date: _date_pb2.Date
    state: EngagementState
    held_from_state: EngagementState
    held_step: _common_pb2.GatedStep
    contract: Contract
    time_entries: _containers.RepeatedCompositeFieldContainer[TimeEntry]
    expenses: _containers.RepeatedCompositeFieldContainer[Expense]
    milestones: _containers.RepeatedCompositeFieldContainer[Milestone]
    open_exception_ids: _containers.RepeatedScalarFieldContainer[str]
    version: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    project_template_id: str
    staffing_plan: _containers.RepeatedCompositeFieldContainer[StaffingAssignment]
    contract_revisions: _containers.RepeatedCompositeFieldContainer[Contract]
    invoice_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, engagement_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., display_name: _Optional[str] = ..., opportunity_ref: _Optional[str] = ..., service_line: _Optional[str] = ..., expected_start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., state: _Optional[_Union[EngagementState, str]] = ..., held_from_state: _Optional[_Union[EngagementState, str]] = ..., held_step: _Optional[_Union[_common_pb2.GatedStep, str]] = ..., contract: _Optional[_Union[Contract, _Mapping]] = ..., time_entries: _Optional[_Iterable[_Union[TimeEntry, _Mapping]]] = ..., expenses: _Optional[_Iterable[_Union[Expense, _Mapping]]] = ..., milestones: _Optional[_Iterable[_Union[Milestone, _Mapping]]] = ..., open_exception_ids: _Optional[_Iterable[str]] = ..., version: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., project_template_id: _Optional[str] = ..., staffing_plan: _Optional[_Iterable[_Union[StaffingAssignment, _Mapping]]] = ..., contract_revisions: _Optional[_Iterable[_Union[Contract, _Mapping]]] = ..., invoice_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Contract(_message.Message):
    __slots__ = ("revision", "currency_code", "start_date", "end_date", "po_reference", "billing_lines", "approve_time", "effective_from")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    PO_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    BILLING_LINES_FIELD_NUMBER: _ClassVar[int]
    APPROVE_TIME_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    revision: int
    currency_code: str
    start_date: _date_pb2.Date
    end_date: _date_pb2.Date
    po_reference: str
    billing_lines: _containers.RepeatedCompositeFieldContainer[BillingLine]
    approve_time: _timestamp_pb2.Timestamp
    effective_from: _date_pb2.Date
    def __init__(self, revision: _Optional[int] = ..., currency_code: _Optional[str] = ..., start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., po_reference: _Optional[str] = ..., billing_lines: _Optional[_Iterable[_Union[BillingLine, _Mapping]]] = ..., approve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., effective_from: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class BillingLine(_message.Message):
    __slots__ = ("line_id", "description", "time_and_materials", "fixed_fee", "retainer", "pass_through_expenses", "subscription", "billing_model")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TIME_AND_MATERIALS_FIELD_NUMBER: _ClassVar[int]
    FIXED_FEE_FIELD_NUMBER: _ClassVar[int]
    RETAINER_FIELD_NUMBER: _ClassVar[int]
    PASS_THROUGH_EXPENSES_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BILLING_MODEL_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    description: str
    time_and_materials: TimeAndMaterialsTerms
    fixed_fee: FixedFeeTerms
    retainer: RetainerTerms
    pass_through_expenses: ExpenseTerms
    subscription: SubscriptionTerms
    billing_model: BillingModel
    def __init__(self, line_id: _Optional[str] = ..., description: _Optional[str] = ..., time_and_materials: _Optional[_Union[TimeAndMaterialsTerms, _Mapping]] = ..., fixed_fee: _Optional[_Union[FixedFeeTerms, _Mapping]] = ..., retainer: _Optional[_Union[RetainerTerms, _Mapping]] = ..., pass_through_expenses: _Optional[_Union[ExpenseTerms, _Mapping]] = ..., subscription: _Optional[_Union[SubscriptionTerms, _Mapping]] = ..., billing_model: _Optional[_Union[BillingModel, str]] = ...) -> None: ...

class TimeAndMaterialsTerms(_message.Message):
    __slots__ = ("rate_card_id", "not_to_exceed")
    RATE_CARD_ID_FIELD_NUMBER: _ClassVar[int]
    NOT_TO_EXCEED_FIELD_NUMBER: _ClassVar[int]
    rate_card_id: str
    not_to_exceed: _common_pb2.Money
    def __init__(self, rate_card_id: _Optional[str] = ..., not_to_exceed: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class FixedFeeTerms(_message.Message):
    __slots__ = ("milestones",)
    MILESTONES_FIELD_NUMBER: _ClassVar[int]
    milestones: _containers.RepeatedCompositeFieldContainer[MilestoneSpec]
    def __init__(self, milestones: _Optional[_Iterable[_Union[MilestoneSpec, _Mapping]]] = ...) -> None: ...

class MilestoneSpec(_message.Message):
    __slots__ = ("milestone_id", "display_name", "amount", "due_date")
    MILESTONE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    milestone_id: str
    display_name: str
    amount: _common_pb2.Money
    due_date: _date_pb2.Date
    def __init__(self, milestone_id: _Optional[str] = ..., display_name: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., due_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class RetainerTerms(_message.Message):
    __slots__ = ("amount_per_month",)
    AMOUNT_PER_MONTH_FIELD_NUMBER: _ClassVar[int]
    amount_per_month: _common_pb2.Money
    def __init__(self, amount_per_month: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class ExpenseTerms(_message.Message):
    __slots__ = ("markup_percent",)
    MARKUP_PERCENT_FIELD_NUMBER: _ClassVar[int]
    markup_percent: str
    def __init__(self, markup_percent: _Optional[str] = ...) -> None: ...

class SubscriptionTerms(_message.Message):
    __slots__ = ("amount_per_period", "period")
    AMOUNT_PER_PERIOD_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    amount_per_period: _common_pb2.Money
    period: BillingPeriodUnit
    def __init__(self, amount_per_period: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., period: _Optional[_Union[BillingPeriodUnit, str]] = ...) -> None: ...

class StaffingAssignment(_message.Message):
    __slots__ = ("person", "role")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    person: str
    role: str
    def __init__(self, person: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class TimeEntryInput(_message.Message):
    __slots__ = ("entry_id", "billing_line_id", "person", "role", "work_date", "hours", "description")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    WORK_DATE_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    billing_line_id: str
    person: str
    role: str
    work_date: _date_pb2.Date
    hours: str
    description: str
    def __init__(self, entry_id: _Optional[str] = ..., billing_line_id: _Optional[str] = ..., person: _Optional[str] = ..., role: _Optional[str] = ..., work_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., hours: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class TimeEntry(_message.Message):
    __slots__ = ("entry_id", "billing_line_id", "person", "role", "work_date", "hours", "description", "status", "rejection_reason", "invoice_id", "submit_time", "update_time", "submitted_by")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    PERSON_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    WORK_DATE_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    billing_line_id: str
    person: str
    role: str
    work_date: _date_pb2.Date
    hours: str
    description: str
    status: TimeEntryStatus
    rejection_reason: str
    invoice_id: str
    submit_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    submitted_by: str
    def __init__(self, entry_id: _Optional[str] = ..., billing_line_id: _Optional[str] = ..., person: _Optional[str] = ..., role: _Optional[str] = ..., work_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., hours: _Optional[str] = ..., description: _Optional[str] = ..., status: _Optional[_Union[TimeEntryStatus, str]] = ..., rejection_reason: _Optional[str] = ..., invoice_id: _Optional[str] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., submitted_by: _Optional[str] = ...) -> None: ...

class ExpenseInput(_message.Message):
    __slots__ = ("expense_id", "billing_line_id", "category", "incurred_date", "amount", "description")
    EXPENSE_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    INCURRED_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    expense_id: str
    billing_line_id: str
    category: str
    incurred_date: _date_pb2.Date
    amount: _common_pb2.Money
    description: str
    def __init__(self, expense_id: _Optional[str] = ..., billing_line_id: _Optional[str] = ..., category: _Optional[str] = ..., incurred_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class Expense(_message.Message):
    __slots__ = ("expense_id", "billing_line_id", "category", "incurred_date", "amount", "description", "status", "rejection_reason", "invoice_id", "submit_time", "update_time", "submitted_by")
    EXPENSE_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    INCURRED_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_BY_FIELD_NUMBER: _ClassVar[int]
    expense_id: str
    billing_line_id: str
    category: str
    incurred_date: _date_pb2.Date
    amount: _common_pb2.Money
    description: str
    status: ExpenseStatus
    rejection_reason: str
    invoice_id: str
    submit_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    submitted_by: str
    def __init__(self, expense_id: _Optional[str] = ..., billing_line_id: _Optional[str] = ..., category: _Optional[str] = ..., incurred_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., description: _Optional[str] = ..., status: _Optional[_Union[ExpenseStatus, str]] = ..., rejection_reason: _Optional[str] = ..., invoice_id: _Optional[str] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., submitted_by: _Optional[str] = ...) -> None: ...

class Milestone(_message.Message):
    __slots__ = ("milestone_id", "billing_line_id", "display_name", "amount", "due_date", "status", "rejection_reason", "invoice_id", "update_time", "create_time")
    MILESTONE_ID_FIELD_NUMBER: _ClassVar[int]
    BILLING_LINE_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REJECTION_REASON_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    milestone_id: str
    billing_line_id: str
    display_name: str
    amount: _common_pb2.Money
    due_date: _date_pb2.Date
    status: MilestoneStatus
    rejection_reason: str
    invoice_id: str
    update_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, milestone_id: _Optional[str] = ..., billing_line_id: _Optional[str] = ..., display_name: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., due_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., status: _Optional[_Union[MilestoneStatus, str]] = ..., rejection_reason: _Optional[str] = ..., invoice_id: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateEngagementRequest(_message.Message):
    __slots__ = ("request_id", "customer_id", "display_name", "opportunity_ref", "expected_start_date", "service_line", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_REF_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_START_DATE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LINE_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    customer_id: str
    display_name: str
    opportunity_ref: str
    expected_start_date: _date_pb2.Date
    service_line: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., display_name: _Optional[str] = ..., opportunity_ref: _Optional[str] = ..., expected_start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., service_line: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class GetEngagementRequest(_message.Message):
    __slots__ = ("engagement_id", "view")
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    engagement_id: str
    view: EngagementView
    def __init__(self, engagement_id: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class ListEngagementsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state", "customer_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: EngagementState
    customer_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[EngagementState, str]] = ..., customer_id: _Optional[str] = ...) -> None: ...

class ListEngagementsResponse(_message.Message):
    __slots__ = ("engagements", "next_page_token")
    ENGAGEMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    engagements: _containers.RepeatedCompositeFieldContainer[Engagement]
    next_page_token: str
    def __init__(self, engagements: _Optional[_Iterable[_Union[Engagement, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class QualifyEngagementRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class CloseWonEngagementRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class ApproveContractRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "currency_code", "start_date", "end_date", "po_reference", "billing_lines", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_CODE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    PO_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    BILLING_LINES_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    currency_code: str
    start_date: _date_pb2.Date
    end_date: _date_pb2.Date
    po_reference: str
    billing_lines: _containers.RepeatedCompositeFieldContainer[BillingLine]
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., currency_code: _Optional[str] = ..., start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., po_reference: _Optional[str] = ..., billing_lines: _Optional[_Iterable[_Union[BillingLine, _Mapping]]] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class ActivateEngagementRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "start_date", "project_template_id", "staffing_plan", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    STAFFING_PLAN_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    start_date: _date_pb2.Date
    project_template_id: str
    staffing_plan: _containers.RepeatedCompositeFieldContainer[StaffingAssignment]
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., project_template_id: _Optional[str] = ..., staffing_plan: _Optional[_Iterable[_Union[StaffingAssignment, _Mapping]]] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class SubmitTimeEntriesRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "entries", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    entries: _containers.RepeatedCompositeFieldContainer[TimeEntryInput]
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[TimeEntryInput, _Mapping]]] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class ApproveTimeEntriesRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "entry_ids", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_IDS_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    entry_ids: _containers.RepeatedScalarFieldContainer[str]
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., entry_ids: _Optional[_Iterable[str]] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class RejectTimeEntriesRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "entry_ids", "reason", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ENTRY_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    entry_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., entry_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class SubmitExpensesRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "expenses", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPENSES_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    expenses: _containers.RepeatedCompositeFieldContainer[ExpenseInput]
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., expenses: _Optional[_Iterable[_Union[ExpenseInput, _Mapping]]] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class ApproveExpensesRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "expense_ids", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPENSE_IDS_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    expense_ids: _containers.RepeatedScalarFieldContainer[str]
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., expense_ids: _Optional[_Iterable[str]] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class RejectExpensesRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "expense_ids", "reason", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPENSE_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    expense_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., expense_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class CompleteMilestoneRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "milestone_id", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MILESTONE_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    milestone_id: str
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., milestone_id: _Optional[str] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class AcceptMilestoneRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "milestone_id", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MILESTONE_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    milestone_id: str
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., milestone_id: _Optional[str] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class RejectMilestoneRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "milestone_id", "reason", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MILESTONE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    milestone_id: str
    reason: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., milestone_id: _Optional[str] = ..., reason: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class CompleteEngagementRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class CancelEngagementRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "reason", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    reason: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., reason: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...

class GetInvoiceReadinessRequest(_message.Message):
    __slots__ = ("engagement_id", "period")
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    engagement_id: str
    period: _common_pb2.BillingPeriod
    def __init__(self, engagement_id: _Optional[str] = ..., period: _Optional[_Union[_common_pb2.BillingPeriod, _Mapping]] = ...) -> None: ...

class InvoiceReadiness(_message.Message):
    __slots__ = ("engagement_id", "period", "ready", "billable_lines", "subtotal", "tax", "total", "blockers")
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    BILLABLE_LINES_FIELD_NUMBER: _ClassVar[int]
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    BLOCKERS_FIELD_NUMBER: _ClassVar[int]
    engagement_id: str
    period: _common_pb2.BillingPeriod
    ready: bool
    billable_lines: _containers.RepeatedCompositeFieldContainer[_billing_pb2.InvoiceLine]
    subtotal: _common_pb2.Money
    tax: _common_pb2.Money
    total: _common_pb2.Money
    blockers: _containers.RepeatedCompositeFieldContainer[ReadinessBlocker]
    def __init__(self, engagement_id: _Optional[str] = ..., period: _Optional[_Union[_common_pb2.BillingPeriod, _Mapping]] = ..., ready: _Optional[bool] = ..., billable_lines: _Optional[_Iterable[_Union[_billing_pb2.InvoiceLine, _Mapping]]] = ..., subtotal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., blockers: _Optional[_Iterable[_Union[ReadinessBlocker, _Mapping]]] = ...) -> None: ...

class ReadinessBlocker(_message.Message):
    __slots__ = ("kind", "message", "item_ids")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ITEM_IDS_FIELD_NUMBER: _ClassVar[int]
    kind: ReadinessBlockerKind
    message: str
    item_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kind: _Optional[_Union[ReadinessBlockerKind, str]] = ..., message: _Optional[str] = ..., item_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GenerateInvoiceRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "period", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    period: _common_pb2.BillingPeriod
    comment: str
    view: _billing_pb2.InvoiceView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., period: _Optional[_Union[_common_pb2.BillingPeriod, _Mapping]] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[_billing_pb2.InvoiceView, str]] = ...) -> None: ...

class AmendContractRequest(_message.Message):
    __slots__ = ("request_id", "engagement_id", "effective_date", "billing_lines", "po_reference", "comment", "view")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ENGAGEMENT_ID_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_DATE_FIELD_NUMBER: _ClassVar[int]
    BILLING_LINES_FIELD_NUMBER: _ClassVar[int]
    PO_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    engagement_id: str
    effective_date: _date_pb2.Date
    billing_lines: _containers.RepeatedCompositeFieldContainer[BillingLine]
    po_reference: str
    comment: str
    view: EngagementView
    def __init__(self, request_id: _Optional[str] = ..., engagement_id: _Optional[str] = ..., effective_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., billing_lines: _Optional[_Iterable[_Union[BillingLine, _Mapping]]] = ..., po_reference: _Optional[str] = ..., comment: _Optional[str] = ..., view: _Optional[_Union[EngagementView, str]] = ...) -> None: ...
