"""The bound of every request field, by proto field name, checked before any converter runs.

One walk over the request (only the fields it sets) checks decimal strings with the one strict
parser (q2c_core.domain.limits.parse_wire_decimal), string lengths and repeated-field sizes,
and reports every bad field at once as BadRequest field violations with proto paths
("entries[3].hours"). Semantic rules (ids exist, dates line up) stay with the converters and
the domain, which re-check their own bounds.

Every call is checked, and almost every call is within bounds: so the walk that decides runs a
plan compiled once per message type (each set field's check looked up by number, no paths or
violations built), and only a request it refuses is walked again to name every bad field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor  # type: ignore[import-untyped, unused-ignore]

from q2c_core.domain import limits as lim
from q2c_core.domain.errors import FieldViolation, ValidationError
from q2c_core.domain.limits import DecimalKind
from q2c_core.edge.converters.wire_decimals import wire_decimal

DecimalField = tuple[DecimalKind, bool]
"""A decimal field's kind, and whether it is required once its message is present."""

DECIMAL_FIELDS: Mapping[str, DecimalField] = {
    "q2c.v1.Money.amount": (lim.MONEY, True),
    "q2c.v1.TimeEntryInput.hours": (lim.HOURS, True),
    "q2c.v1.TaxProfile.rate": (lim.TAX_RATE, False),  # empty = "0"
    "q2c.v1.ExpenseTerms.markup_percent": (lim.PERCENT, False),  # empty = "0"
}
"""Every decimal string a request can carry (tests/unit/test_wire_limits.py finds them all)."""

MAX_CODE_LENGTH = 16
"""Currency codes, months ("2026-01"): short codes the converters then check exactly."""
MAX_DIGEST_LENGTH = 512
"""Hashes and signatures of an audit checkpoint handed back for verification."""
MAX_VIOLATIONS = 100
"""At most this many field violations are reported: the error reply stays small too."""

STRING_LIMITS: Mapping[str, int] = {
    "q2c.v1.AuditCheckpoint.root_hash": MAX_DIGEST_LENGTH,
    "q2c.v1.AuditCheckpoint.signature": MAX_DIGEST_LENGTH,
    "q2c.v1.AuditStreamHead.hash": MAX_DIGEST_LENGTH,
    "q2c.v1.BillingLine.description": lim.MAX_LINE_DESCRIPTION_LENGTH,
    "q2c.v1.BillingPeriod.month": MAX_CODE_LENGTH,
    "q2c.v1.CreateEngagementRequest.display_name": lim.MAX_NAME_LENGTH,
    "q2c.v1.CreateEngagementRequest.opportunity_ref": lim.MAX_REF_LENGTH,
    "q2c.v1.CreateEngagementRequest.service_line": lim.MAX_REF_LENGTH,
    "q2c.v1.Customer.display_name": lim.MAX_NAME_LENGTH,
    "q2c.v1.Customer.legal_entity": lim.MAX_NAME_LENGTH,
    "q2c.v1.Customer.service_line": lim.MAX_REF_LENGTH,
    "q2c.v1.ExpenseInput.category": lim.MAX_REF_LENGTH,
    "q2c.v1.ExpenseInput.description": lim.MAX_TEXT_LENGTH,
    "q2c.v1.MilestoneSpec.display_name": lim.MAX_NAME_LENGTH,
    "q2c.v1.RateCard.display_name": lim.MAX_NAME_LENGTH,
    "q2c.v1.RecordPaymentRequest.reference": lim.MAX_NAME_LENGTH,
    "q2c.v1.ResolveExceptionRequest.resolution_note": lim.MAX_TEXT_LENGTH,
    "q2c.v1.RoleRate.role": lim.MAX_ROLE_LENGTH,
    "q2c.v1.StaffingAssignment.person": lim.MAX_NAME_LENGTH,
    "q2c.v1.StaffingAssignment.role": lim.MAX_ROLE_LENGTH,
    "q2c.v1.SubscribeEventsRequest.event_types": lim.MAX_FILTER_LENGTH,
    "q2c.v1.TaxProfile.jurisdiction": lim.MAX_ROLE_LENGTH,
    "q2c.v1.TimeEntryInput.description": lim.MAX_TEXT_LENGTH,
    "q2c.v1.TimeEntryInput.person": lim.MAX_NAME_LENGTH,
    "q2c.v1.TimeEntryInput.role": lim.MAX_ROLE_LENGTH,
    "google.protobuf.FieldMask.paths": lim.MAX_FILTER_LENGTH,
}
"""String bounds not given by a naming rule (see string_limit)."""

REPEATED_LIMITS: Mapping[str, int] = {
    "q2c.v1.ActivateEngagementRequest.staffing_plan": lim.MAX_STAFFING_ASSIGNMENTS,
    "q2c.v1.AmendContractRequest.billing_lines": lim.MAX_BILLING_LINES,
    "q2c.v1.ApproveContractRequest.billing_lines": lim.MAX_BILLING_LINES,
    "q2c.v1.ApproveExpensesRequest.expense_ids": lim.MAX_BATCH,
    "q2c.v1.ApproveTimeEntriesRequest.entry_ids": lim.MAX_BATCH,
    "q2c.v1.AuditCheckpoint.stream_heads": lim.MAX_CHECKPOINT_STREAM_HEADS,
    "q2c.v1.FixedFeeTerms.milestones": lim.MAX_MILESTONES_PER_LINE,
    "q2c.v1.RateCard.rates": lim.MAX_RATES_PER_CARD,
    "q2c.v1.RejectExpensesRequest.expense_ids": lim.MAX_BATCH,
    "q2c.v1.RejectTimeEntriesRequest.entry_ids": lim.MAX_BATCH,
    "q2c.v1.StartBillRunRequest.customer_ids": lim.MAX_BILL_RUN_CUSTOMERS,
    "q2c.v1.SubmitExpensesRequest.expenses": lim.MAX_BATCH,
    "q2c.v1.SubmitTimeEntriesRequest.entries": lim.MAX_BATCH,
    "q2c.v1.SubscribeEventsRequest.event_types": lim.MAX_EVENT_TYPE_FILTERS,
    "google.protobuf.FieldMask.paths": lim.MAX_UPDATE_MASK_PATHS,
}
"""The most items each repeated request field may hold."""

_RULE_SUFFIXES: tuple[tuple[str, int], ...] = (
    ("_id", lim.MAX_ID_LENGTH),
    ("_ids", lim.MAX_ID_LENGTH),
    ("etag", lim.MAX_ID_LENGTH),
    ("page_token", lim.MAX_PAGE_TOKEN_LENGTH),
    ("comment", lim.MAX_TEXT_LENGTH),
    ("reason", lim.MAX_TEXT_LENGTH),
    ("po_reference", lim.MAX_REF_LENGTH),
    ("currency_code", MAX_CODE_LENGTH),
    ("billing_currency", MAX_CODE_LENGTH),
)
"""Naming rules: ids (request_id included) 128, page tokens 1024, comments and reasons 2000..."""

INT32_MAX = 2**31 - 1
INTEGER_LIMITS: Mapping[str, tuple[int, int]] = {
    "q2c.v1.AuditCheckpoint.sequence": (0, INT32_MAX),
    "q2c.v1.AuditStreamHead.sequence": (0, INT32_MAX),
    "q2c.v1.GetAuditCheckpointRequest.sequence": (0, INT32_MAX),
}
"""64-bit request integers stored in 32-bit columns: their range (PostgreSQL would refuse more)."""

TIMESTAMP_SECONDS = (-62135596800, 253402300799)
"""google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z."""

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters no text may carry (tab, newline and carriage return are text)."""
_ID_CONTROL = re.compile("[\x00-\x1f\x7f]")
"""Ids, codes and tokens carry no control characters at all: they are stored and echoed as is."""

_WALKED = ("q2c.", "google.protobuf.FieldMask")
"""Message types the walk descends into (dates, timestamps, durations hold no strings)."""


def string_limit(field: FieldDescriptor) -> int | None:
    """The length bound of a string field: explicit, else by naming rule, else None."""
    explicit = STRING_LIMITS.get(field.full_name)
    if explicit is not None:
        return explicit
    return next((limit for suffix, limit in _RULE_SUFFIXES if field.name.endswith(suffix)), None)


def check_request(message: Any) -> None:
    """Raise one ValidationError naming every field of the request beyond its bound."""
    if within_bounds(message):
        return
    violations = []
    for violation in _violations(message, ""):
        violations.append(violation)
        if len(violations) == MAX_VIOLATIONS:
            break
    if violations:
        raise ValidationError(violations)


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _violations(message: Any, prefix: str) -> Iterator[FieldViolation]:
    descriptor: Descriptor = message.DESCRIPTOR
    yield from _missing_decimals(message, descriptor, prefix)
    for field, value in message.ListFields():
        path = _path(prefix, field.name)
        if field.is_repeated:
            limit = REPEATED_LIMITS.get(field.full_name, lim.MAX_BATCH)
            if len(value) > limit:
                yield FieldViolation(field=path, description=f"must hold at most {limit} items")
                continue
            for i, item in enumerate(value):
                yield from _one(field, item, f"{path}[{i}]")
        else:
            yield from _one(field, value, path)


def _one(field: FieldDescriptor, value: Any, path: str) -> Iterator[FieldViolation]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            yield from _timestamp(value, path)
        elif field.message_type.full_name.startswith(_WALKED):
            yield from _violations(value, path)
    elif field.full_name in INTEGER_LIMITS:
        low, high = INTEGER_LIMITS[field.full_name]
        if not low <= value <= high:
            yield FieldViolation(field=path, description=f"must be between {low} and {high}")
    elif field.type == FieldDescriptor.TYPE_STRING:
        yield from _string(field, value, path)
    elif field.type == FieldDescriptor.TYPE_BYTES and len(value) > lim.MAX_TEXT_LENGTH:
        yield FieldViolation(field=path, description=f"must be at most {lim.MAX_TEXT_LENGTH} bytes")


def _string(field: FieldDescriptor, value: str, path: str) -> Iterator[FieldViolation]:
    decimal = DECIMAL_FIELDS.get(field.full_name)
    if decimal is not None:
        try:
            lim.parse_wire_decimal(value, decimal[0])
        except ValueError as exc:
            yield FieldViolation(field=path, description=str(exc))
        return
    limit = string_limit(field) or lim.MAX_TEXT_LENGTH
    if len(value) > limit:
        yield FieldViolation(field=path, description=f"must be at most {limit} characters")
    elif (_ID_CONTROL if limit <= lim.MAX_ID_LENGTH else _CONTROL).search(value):
        yield FieldViolation(field=path, description="must not contain control characters")


def _timestamp(value: Any, path: str) -> Iterator[FieldViolation]:
    low, high = TIMESTAMP_SECONDS
    if not (low <= value.seconds <= high and 0 <= value.nanos <= 999_999_999):
        yield FieldViolation(field=path, description="must be a timestamp between 0001-01-01 and 9999-12-31")


def _missing_decimals(message: Any, descriptor: Descriptor, prefix: str) -> Iterator[FieldViolation]:
    """A present message's required decimal left empty (proto3 does not list empty strings)."""
    for field in descriptor.fields:
        decimal = DECIMAL_FIELDS.get(field.full_name)
        if decimal is not None and decimal[1] and not getattr(message, field.name):
            yield FieldViolation(field=_path(prefix, field.name), description="is required")


# -- the compiled check: the same rules, decided without naming anything ---------------------------

Check = Callable[[Any], bool]
"""True when a field's value (a whole repeated field included) is within its bounds."""
SCALAR, PRESENCE, REPEATED = 0, 1, 2
"""How a compiled step reads its field: a proto3 scalar is set when it is not its default (what
ListFields reports), a field with presence when HasField says so, a repeated one always."""
_Step = tuple[str, int, Check]
_Plan = tuple[tuple[str, ...], tuple[_Step, ...]]
"""Per message type: its required decimals, and a step for each field that has a bound."""
_PLANS: dict[type, _Plan] = {}


def within_bounds(message: Any) -> bool:
    """True when `message` has no field beyond its bound (exactly when `_violations` finds none)."""
    plan = _PLANS.get(type(message))
    if plan is None:
        plan = _PLANS[type(message)] = _compile(message.DESCRIPTOR)
    required, steps = plan
    for name in required:
        if not getattr(message, name):
            return False
    for name, how, check in steps:
        if how == PRESENCE:
            if message.HasField(name) and not check(getattr(message, name)):
                return False
        else:
            value = getattr(message, name)
            if (value or how == REPEATED) and not check(value):
                return False
    return True


def _compile(descriptor: Descriptor) -> _Plan:
    required = tuple(
        field.name
        for field in descriptor.fields
        if field.full_name in DECIMAL_FIELDS and DECIMAL_FIELDS[field.full_name][1]
    )
    steps: list[_Step] = []
    for field in descriptor.fields:
        item = _item_check(field)
        if field.is_repeated:
            limit = REPEATED_LIMITS.get(field.full_name, lim.MAX_BATCH)
            steps.append((field.name, REPEATED, _repeated_check(limit, item)))
        elif item is not None:
            steps.append((field.name, PRESENCE if field.has_presence else SCALAR, item))
    return required, tuple(steps)


def _repeated_check(limit: int, item: Check | None) -> Check:
    if item is None:
        return lambda values: len(values) <= limit
    return lambda values: len(values) <= limit and all(map(item, values))


def _item_check(field: FieldDescriptor) -> Check | None:
    """The compiled form of `_one` for one field (None: nothing to check)."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            return _timestamp_within
        return within_bounds if field.message_type.full_name.startswith(_WALKED) else None
    if field.full_name in INTEGER_LIMITS:
        low, high = INTEGER_LIMITS[field.full_name]
        return lambda value: low <= value <= high
    if field.type == FieldDescriptor.TYPE_STRING:
        decimal = DECIMAL_FIELDS.get(field.full_name)
        if decimal is not None:
            return _decimal_check(decimal[0])
        limit = string_limit(field) or lim.MAX_TEXT_LENGTH
        search = (_ID_CONTROL if limit <= lim.MAX_ID_LENGTH else _CONTROL).search
        # a printable string has none of the control characters (str.isprintable is a C loop)
        return lambda value: len(value) <= limit and (value.isprintable() or search(value) is None)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return lambda value: len(value) <= lim.MAX_TEXT_LENGTH
    return None


def _decimal_check(kind: DecimalKind) -> Check:
    def check(value: str) -> bool:
        try:
            wire_decimal(value, kind)  # the converter's parse of it is then a lookup
        except ValueError:
            return False
        return True

    return check


def _timestamp_within(value: Any) -> bool:
    low, high = TIMESTAMP_SECONDS
    return bool(low <= value.seconds <= high and 0 <= value.nanos <= 999_999_999)
