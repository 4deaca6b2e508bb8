"""messages.py: the digest idempotency compares, and what crosses Ray pickled.

The digests are pinned to the values stored idempotency records hold: a retry sent after an
upgrade must still match its record, so a faster digest must give byte-identical input to sha256.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c_core.app.messages import (
    Caller,
    CommandEnvelope,
    CommandResult,
    ContractHeader,
    EngagementSummary,
    payload_digest,
)
from q2c_core.domain import commands as cmd
from q2c_core.domain.commands import Command
from q2c_core.domain.entities import (
    BillingLine,
    EngagementState,
    ExpenseTerms,
    GatedStep,
    TimeAndMaterialsTerms,
)
from q2c_core.domain.errors import ErrorKind, ErrorPayload
from q2c_core.domain.money import Money

CALLER = Caller(tenant_id="t1", principal="ana", correlation_id="c-1")

PINNED: list[tuple[Command, str]] = [
    (
        cmd.CreateEngagement(
            customer_id="cust-1",
            display_name='Café Ünïcode ✓ "quoted" \\ back',
            expected_start_date=date(2026, 1, 2),
        ),
        "a3e732cd9f375cf7a564cbc5e0adb67bc527436ee81bf068d37e47a4fb1f1599",
    ),
    (cmd.QualifyEngagement(), "307bf9a980efad7d07418c08137b9684b0c237e53d65988cfd94dd1ca978191e"),
    (
        cmd.ApproveContract(
            currency="USD",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
            billing_lines=[
                BillingLine(
                    line_id="tm",
                    terms=TimeAndMaterialsTerms(rate_card_id="rc-1", not_to_exceed=Money.of("125000", "USD")),
                ),
                BillingLine(line_id="ex", terms=ExpenseTerms(markup_percent=Decimal("2.5"))),
            ],
        ),
        "53ebf5ab01b91daec86db8cfe0e548258ac313b3bc8574544d1b104973b63602",
    ),
    (
        cmd.SubmitTimeEntries(
            entries=[
                cmd.TimeEntryInput(
                    entry_id=f"t{i}",
                    billing_line_id="tm",
                    person="p0",
                    role="engineer",
                    work_date=date(2026, 1, 2 + i),
                    hours=Decimal("7.25"),
                )
                for i in range(3)
            ]
        ),
        "6490576bbce08d3e0c725d24f1a37177b32f51d377ca01721a91f8a9754cb1f5",
    ),
    (
        cmd.RecordPayment(
            invoice_id="inv-1",
            amount=Money.of(Decimal("1485.00"), "USD"),
            received_date=date(2026, 2, 20),
            reference="WIRE-1",
        ),
        "5c4cbeac8fd6f10f0c7aa7335fa6fd3aca43790974127706c038271c389aca44",
    ),
]


@pytest.mark.parametrize(("command", "digest"), PINNED, ids=[c.kind for c, _ in PINNED])
def test_the_digest_of_a_command_is_pinned(command: Command, digest: str) -> None:
    envelope = CommandEnvelope(caller=CALLER, engagement_id="e-1", request_id="r-1", command=command)
    assert envelope.digest() == digest
    assert envelope.digest() == payload_digest(command.kind, command.model_dump(mode="json"))


def _summary() -> EngagementSummary:
    when = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    header = ContractHeader(
        revision=2,
        currency="USD",
        start_date=date(2026, 1, 1),
        end_date=None,
        po_reference="PO-7",
        approve_time=when,
        effective_from=date(2026, 3, 1),
    )
    return EngagementSummary(
        engagement_id="e-1",
        customer_id="cust-1",
        display_name="Café",
        opportunity_ref="opp",
        service_line="Cloud",
        expected_start_date=date(2026, 1, 2),
        start_date=None,
        state=EngagementState.ON_HOLD,
        held_from=EngagementState.ACTIVE,
        held_step=next(iter(GatedStep)),
        project_template_id="tpl",
        open_exception_ids=("x1", "x2"),
        contract=header,
        version=9,
        create_time=when,
        update_time=when,
    )


def test_a_summary_and_its_contract_header_pickle_as_plain_tuples() -> None:
    summary = _summary()
    assert type(summary.__getstate__()) is tuple  # the dataclass default: a list built from fields()
    assert summary.contract is not None and type(summary.contract.__getstate__()) is tuple
    copy = pickle.loads(pickle.dumps(summary, protocol=5))
    assert copy == summary
    assert copy.contract == summary.contract
    assert type(copy.state) is EngagementState


def test_a_slim_result_keeps_its_summary_across_pickling() -> None:
    error = ErrorPayload(kind=ErrorKind.INTERNAL, reason="INTERNAL", message="internal error")
    results = [
        CommandResult(event_ids=["e-1:9"], version=9, summary=_summary()),
        CommandResult(error=error),
    ]
    copies = pickle.loads(pickle.dumps(results, protocol=5))
    assert copies == results
    assert copies[0].summary == results[0].summary
    assert [c.model_fields_set for c in copies] == [r.model_fields_set for r in results]


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


@given(text, json_values)
def test_the_payload_digest_hashes_what_json_dumps_gives(kind: str, payload: object) -> None:
    oracle = json.dumps({"kind": kind, "payload": payload}, sort_keys=True, separators=(",", ":"))
    assert payload_digest(kind, payload) == hashlib.sha256(oracle.encode()).hexdigest()
