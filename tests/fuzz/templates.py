"""Valid requests for every RPC, aimed at seeded entities, for the fuzzer to break one field of.

`template(rpc, ...)` fills every id field with a real id and every request_id with a fresh one,
then the builders below give the RPCs with structured payloads a request the server accepts
(when the target is in the right state), so a single broken field reaches deep code.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from google.protobuf.message import Message

from q2c.v1 import common_pb2, exception_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.edge.converters.convert_events import EVENT_TYPE_NAMES
from tests.fuzz import values as v
from tests.fuzz.catalog import Rpc
from tests.fuzz.random_messages import RandomMessages
from tests.service.client import contract_request, customer, gdate, money, rate_card, time_entry

Ids = Mapping[str, Sequence[str]]
Builder = Callable[[Message, random.Random, Ids], None]
MONTHS = ("2025-02", "2025-03", "2025-04", "2025-05", "2025-12")


def template(rpc: Rpc, gen: RandomMessages) -> Message:
    """A valid request for `rpc` on seeded entities (valid unless the target's state forbids it)."""
    request = rpc.new_request()
    for field in rpc.request.fields:
        if field.name == "request_id":
            request.request_id = gen.request_id() or gen.rng.getrandbits(64).to_bytes(8).hex()
        elif v.is_id_field(field.name) and field.type == field.TYPE_STRING:
            if field.is_repeated:
                getattr(request, field.name).append(gen.real_id(field.name))
            else:
                setattr(request, field.name, gen.real_id(field.name))
        elif field.name == "page_size":
            request.page_size = gen.rng.choice((1, 10, 100))
    builder = BUILDERS.get(rpc.name)
    if builder is not None:
        builder(request, gen.rng, gen.ids)
    return request


def _pick(rng: random.Random, ids: Ids, name: str) -> str:
    return rng.choice(list(ids.get(name) or [""]))


def _contract(request: Any, rng: random.Random, ids: Ids) -> None:
    full = contract_request(request.engagement_id, _pick(rng, ids, "rate_card_id"))
    request.billing_lines.extend(full.billing_lines)
    if isinstance(request, pb.ApproveContractRequest):
        request.currency_code = "USD"
        request.start_date.CopyFrom(full.start_date)
        request.end_date.CopyFrom(full.end_date)
    else:
        request.effective_date.CopyFrom(gdate(date(2025, rng.randint(3, 11), 1)))
    request.po_reference = "PO-1"


def _time(request: Any, rng: random.Random, ids: Ids) -> None:
    for n in range(rng.choice((1, 2, 3))):
        entry = time_entry(
            rng.randint(1000, 10**6),
            hours=rng.choice(("1", "7.5", "8")),
            day=date(2025, rng.randint(2, 11), rng.randint(1, 28)),
        )
        entry.person = rng.choice(("bob", "dana"))
        request.entries.append(entry)
        del n


def _expenses(request: Any, rng: random.Random, ids: Ids) -> None:
    request.expenses.append(
        pb.ExpenseInput(
            expense_id=f"X{rng.randint(1000, 10**6)}",
            billing_line_id="EXP-1",
            category="TRAVEL",
            incurred_date=gdate(date(2025, rng.randint(2, 11), 3)),
            amount=money(rng.choice(("10.00", "412.50", "0.01"))),
            description="taxi",
        )
    )


def _period(request: Any, rng: random.Random, ids: Ids) -> None:
    request.period.CopyFrom(common_pb2.BillingPeriod(month=rng.choice(MONTHS)))


def _customer(request: Any, rng: random.Random, ids: Ids) -> None:
    request.customer.CopyFrom(customer(display_name=f"Fuzz {rng.randint(0, 9999)}"))


def _update_customer(request: Any, rng: random.Random, ids: Ids) -> None:
    request.customer.CopyFrom(customer(customer_id=_pick(rng, ids, "customer_id"), display_name="Renamed"))
    request.update_mask.paths.append(rng.choice(("display_name", "payment_terms_days", "po_required")))
    request.ClearField("etag")


def _rate_card(request: Any, rng: random.Random, ids: Ids) -> None:
    request.ClearField("rate_card_id")
    request.rate_card.CopyFrom(rate_card(start=date(2025, rng.randint(1, 12), 1)))


def _activate(request: Any, rng: random.Random, ids: Ids) -> None:
    request.project_template_id = "TPL-1"
    request.staffing_plan.append(pb.StaffingAssignment(person="bob", role="engineer"))


def _payment(request: Any, rng: random.Random, ids: Ids) -> None:
    request.amount.CopyFrom(money(rng.choice(("100.00", "1.00", "5000"))))
    request.received_date.CopyFrom(gdate(date(2025, 6, 1)))
    request.reference = "WIRE-1"


def _reason(field: str) -> Builder:
    def build(request: Any, rng: random.Random, ids: Ids) -> None:
        setattr(request, field, "fuzzed")

    return build


def _events(request: Any, rng: random.Random, ids: Ids) -> None:
    request.event_types.extend(rng.sample(EVENT_TYPE_NAMES, rng.choice((0, 1, 3))))
    request.follow = rng.random() < 0.3
    if rng.random() < 0.5:
        request.ClearField("engagement_id")


def _resolve(request: Any, rng: random.Random, ids: Ids) -> None:
    request.resolution_note = "handled"
    request.resolution = rng.choice(
        [value.number for value in exception_pb2.ExceptionResolution.DESCRIPTOR.values][1:]
    )


def _verify(request: Any, rng: random.Random, ids: Ids) -> None:
    if rng.random() < 0.5:
        request.ClearField("stream_id")


BUILDERS: dict[str, Builder] = {
    "ApproveContract": _contract,
    "AmendContract": _contract,
    "SubmitTimeEntries": _time,
    "SubmitExpenses": _expenses,
    "GenerateInvoice": _period,
    "GetInvoiceReadiness": _period,
    "StartBillRun": _period,
    "CreateCustomer": _customer,
    "UpdateCustomer": _update_customer,
    "CreateRateCard": _rate_card,
    "ActivateEngagement": _activate,
    "RecordPayment": _payment,
    "CancelEngagement": _reason("reason"),
    "RejectTimeEntries": _reason("reason"),
    "RejectExpenses": _reason("reason"),
    "RejectMilestone": _reason("reason"),
    "VoidInvoice": _reason("reason"),
    "CancelBillRun": _reason("reason"),
    "SubscribeEvents": _events,
    "ResolveException": _resolve,
    "VerifyAuditLog": _verify,
}
"""Request payloads beyond ids, for the RPCs that need them to be accepted."""
