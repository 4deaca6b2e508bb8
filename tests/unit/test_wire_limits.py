"""Every request field has a bound, found from the descriptors; at the bound accepted, past it refused."""

from __future__ import annotations

import pytest
from google.protobuf.descriptor import FieldDescriptor  # type: ignore[import-untyped]

from q2c.v1 import common_pb2, customer_pb2, engagement_pb2
from q2c_core.domain.errors import ValidationError
from q2c_core.edge.converters import wire_limits
from q2c_core.edge.converters.wire_limits import (
    DECIMAL_FIELDS,
    MAX_VIOLATIONS,
    REPEATED_LIMITS,
    STRING_LIMITS,
    check_request,
    string_limit,
)
from tests.unit.wire_fields import (
    DECIMAL_NAME_HINTS,
    FieldPath,
    documented_decimals,
    field_comments,
    is_string,
    message_class,
    request_fields,
)


def _violations(message: object) -> dict[str, str]:
    try:
        check_request(message)
    except ValidationError as exc:
        return {v.field: v.description for v in exc.field_violations}
    return {}


def _distinct(fields: list[FieldPath]) -> dict[str, FieldDescriptor]:
    return {f.field.full_name: f.field for f in fields}


STRINGS = _distinct([f for f in request_fields() if is_string(f.field)])
REPEATED = _distinct([f for f in request_fields() if f.field.is_repeated])


def test_the_decimal_registry_is_exactly_the_fields_the_protos_document_as_decimals() -> None:
    assert set(DECIMAL_FIELDS) == documented_decimals()


def test_a_string_field_named_like_a_number_is_a_registered_decimal() -> None:
    suspicious = {
        name
        for name, field in STRINGS.items()
        if any(hint in field.name for hint in DECIMAL_NAME_HINTS) and not field.name.endswith("_id")
    }
    assert suspicious <= set(DECIMAL_FIELDS), suspicious - set(DECIMAL_FIELDS)


def test_every_request_string_field_has_a_named_bound() -> None:
    unbounded = {
        name for name, field in STRINGS.items() if name not in DECIMAL_FIELDS and not string_limit(field)
    }
    assert not unbounded


def test_every_request_repeated_field_has_a_named_bound() -> None:
    assert set(REPEATED) <= set(REPEATED_LIMITS), set(REPEATED) - set(REPEATED_LIMITS)


def test_every_explicit_bound_is_named_in_its_proto_comment() -> None:
    comments = field_comments()
    limits = {**STRING_LIMITS, **REPEATED_LIMITS}
    unnamed = {
        name
        for name, limit in limits.items()
        if name.startswith("q2c.v1.")
        and name in comments
        and str(limit) not in comments[name].replace(",", "")
    }
    assert not unnamed


def test_every_decimal_field_names_its_grammar_bounds_in_its_proto_comment() -> None:
    comments = field_comments()
    for name, (kind, _) in DECIMAL_FIELDS.items():
        assert f"{kind.places} decimal places" in " ".join(comments[name].split()), name


@pytest.mark.parametrize("name", sorted(set(STRINGS) - set(DECIMAL_FIELDS)))
def test_a_string_at_its_bound_is_accepted_and_one_more_character_refused(name: str) -> None:
    field = STRINGS[name]
    limit = string_limit(field)
    assert limit is not None
    cls = message_class(field.containing_type)
    for length, refused in ((limit, False), (limit + 1, True)):
        message = cls()
        if field.is_repeated:
            getattr(message, field.name).append("x" * length)
            path = f"{field.name}[0]"
        else:
            setattr(message, field.name, "x" * length)
            path = field.name
        assert (path in _violations(message)) is refused, (name, length)


@pytest.mark.parametrize("name", sorted(REPEATED))
def test_a_repeated_field_at_its_bound_is_accepted_and_one_more_item_refused(name: str) -> None:
    field = REPEATED[name]
    limit = REPEATED_LIMITS[name]
    cls = message_class(field.containing_type)
    for count, refused in ((limit, False), (limit + 1, True)):
        message = cls()
        items = getattr(message, field.name)
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for _ in range(count):
                items.add()
        else:
            items.extend(["x"] * count)
        found = _violations(message)
        assert (field.name in found) is refused, (name, count)
        if refused:
            assert found[field.name] == f"must hold at most {limit} items"


def test_an_update_mask_with_too_many_paths_is_refused() -> None:
    request = customer_pb2.UpdateCustomerRequest()
    request.update_mask.paths.extend(["display_name"] * 17)
    assert "update_mask.paths" in _violations(request)


def test_violations_name_the_proto_path_of_a_nested_decimal() -> None:
    request = engagement_pb2.ApproveContractRequest(
        billing_lines=[
            engagement_pb2.BillingLine(line_id="TM-1"),
            engagement_pb2.BillingLine(
                fixed_fee=engagement_pb2.FixedFeeTerms(
                    milestones=[engagement_pb2.MilestoneSpec(amount=common_pb2.Money(amount="1E5"))]
                )
            ),
        ]
    )
    found = _violations(request)
    assert list(found) == ["billing_lines[1].fixed_fee.milestones[0].amount.amount"]
    assert "no exponent" in found["billing_lines[1].fixed_fee.milestones[0].amount.amount"]


def test_a_present_money_without_an_amount_is_refused_but_absent_optional_decimals_are_not() -> None:
    request = engagement_pb2.SubmitExpensesRequest(
        expenses=[engagement_pb2.ExpenseInput(amount=common_pb2.Money(currency_code="USD"))]
    )
    assert _violations(request) == {"expenses[0].amount.amount": "is required"}
    profile = customer_pb2.CreateCustomerRequest(
        customer=customer_pb2.Customer(tax_profile=customer_pb2.TaxProfile())
    )
    assert _violations(profile) == {}


def test_at_most_a_hundred_violations_are_reported() -> None:
    request = engagement_pb2.SubmitTimeEntriesRequest(
        entries=[engagement_pb2.TimeEntryInput(hours="NaN") for _ in range(400)]
    )
    with pytest.raises(ValidationError) as caught:
        check_request(request)
    assert len(caught.value.field_violations) == MAX_VIOLATIONS


def test_limits_module_names_every_bound_once() -> None:
    assert wire_limits.MAX_CODE_LENGTH == 16
    assert all(limit > 0 for limit in [*STRING_LIMITS.values(), *REPEATED_LIMITS.values()])


@pytest.mark.parametrize(
    ("request_message", "path"),
    [
        (engagement_pb2.GetEngagementRequest(engagement_id="e\x00-1"), "engagement_id"),
        (engagement_pb2.QualifyEngagementRequest(request_id="r\x01", engagement_id="e-1"), "request_id"),
        (engagement_pb2.QualifyEngagementRequest(request_id="r\n", engagement_id="e-1"), "request_id"),
        (
            engagement_pb2.CreateEngagementRequest(request_id="r", customer_id="c", display_name="Acme\x00"),
            "display_name",
        ),
    ],
    ids=["nul-in-id", "control-in-request-id", "newline-in-request-id", "nul-in-name"],
)
def test_control_characters_are_refused_naming_the_field(request_message: object, path: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_request(request_message)
    assert [v.field for v in refused.value.field_violations] == [path]


def test_free_text_keeps_tabs_and_newlines() -> None:
    note = engagement_pb2.CreateEngagementRequest(
        request_id="r", customer_id="c", display_name="Acme\tEMEA\n"
    )
    check_request(note)


def test_a_checkpoint_sequence_beyond_its_32_bit_column_is_refused() -> None:
    from q2c.v1 import audit_pb2

    with pytest.raises(ValidationError) as refused:
        check_request(audit_pb2.GetAuditCheckpointRequest(sequence=2**31))
    assert refused.value.field_violations[0].field == "sequence"
