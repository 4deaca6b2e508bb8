"""The oracle fails when the server's side and the plan disagree: checked against the real
outcome of a month-end run (SQLite only: the database is not what this exercises)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from clients.load import profile as profiles
from clients.load import scenario
from clients.load.connect import Settings
from clients.load.driver import Options, Outcome, read_server, run
from clients.load.oracle import ServerView, check
from clients.load.plan import Plan
from clients.load.record import Recorder
from clients.load.schedule import Pace
from q2c.v1 import billing_pb2, engagement_pb2
from tests import credentials
from tests.load.test_load_run import PROFILE, SEED


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite only, for this module."""
    yield f"sqlite:///{tmp_path_factory.mktemp('q2c_db') / 'q2c.db'}"


def _plan(directory: Path, tag: str) -> Plan:
    path = directory / "profile.yaml"
    path.write_text(PROFILE)
    return scenario.build(profiles.load(path, {}), SEED, tag)


@pytest.fixture(scope="module")
def finished(load_server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Plan, Outcome, ServerView]:
    """A month-end driven through the driver itself, and the server's side read back (once per
    module: the tests below only read it)."""
    plan = _plan(tmp_path_factory.mktemp("finished"), f"t-{uuid.uuid4().hex[:8]}")
    tenant = f"load-{uuid.uuid4().hex[:12]}"
    submitter, approver = credentials.token(tenant, "submitter"), credentials.token(tenant, "approver")
    settings = Settings(load_server, token=submitter, approver_token=approver)
    options = Options(settings, Pace(clients=8))

    async def drive() -> tuple[Outcome, ServerView]:
        outcome = await run(plan, options, Recorder(time.monotonic()), lambda _: None)
        assert outcome.ids is not None
        return outcome, await read_server(settings, outcome.ids, outcome)

    outcome, view = asyncio.run(drive())
    assert outcome.verdict is not None and outcome.verdict.correctness.passed
    return plan, outcome, view


def test_the_oracle_fails_when_the_plan_expects_other_amounts(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    plan, outcome, view = finished
    target = next(e for e in plan.engagements if e.retainer is not None)
    corrupted = replace(
        plan,
        engagements=tuple(
            replace(e, retainer=e.retainer + Decimal(1)) if e.key == target.key and e.retainer else e
            for e in plan.engagements
        ),
    )
    verdict = check(corrupted, outcome.before, outcome.after, view)
    assert not verdict.correctness.passed
    assert [m.split(":")[0] for m in verdict.correctness.mismatches] == [target.key]
    assert "first differing line ret" in verdict.correctness.mismatches[0]
    assert verdict.correctness.expected_minor != verdict.correctness.server_minor


def test_the_oracle_counts_an_item_billed_twice(finished: tuple[Plan, Outcome, ServerView]) -> None:
    plan, outcome, view = finished
    invoice = next(i for i in view.invoices if i.lines)
    twin = billing_pb2.Invoice()
    twin.CopyFrom(invoice)
    twin.invoice_id = invoice.invoice_id + "-twin"
    verdict = check(plan, outcome.before, outcome.after, ServerView([*view.invoices, twin], view.engagements))
    assert not verdict.correctness.passed
    assert verdict.correctness.billed_twice == len(invoice.lines)


def test_the_oracle_counts_an_acknowledged_command_whose_effect_is_missing(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    plan, outcome, view = finished
    key = next(k for k, e in view.engagements.items() if e is not None and e.time_entries)
    engagement = view.engagements[key]
    assert engagement is not None
    trimmed = engagement_pb2.Engagement()
    trimmed.CopyFrom(engagement)
    del trimmed.time_entries[0]
    verdict = check(
        plan, outcome.before, outcome.after, ServerView(view.invoices, {**view.engagements, key: trimmed})
    )
    assert not verdict.correctness.passed
    assert verdict.correctness.lost_commands == 2  # the entry's submission and its review


def test_the_oracle_counts_approved_items_left_unbilled(finished: tuple[Plan, Outcome, ServerView]) -> None:
    plan, outcome, view = finished
    late = {(e.key, t.entry_id) for e in plan.engagements for t in e.time_entries if t.late}
    key, entry_index = next(
        (k, n)
        for k, e in view.engagements.items()
        if e is not None
        for n, t in enumerate(e.time_entries)
        if t.status == engagement_pb2.TIME_ENTRY_STATUS_BILLED and (k, t.entry_id) not in late
    )
    engagement = view.engagements[key]
    assert engagement is not None
    unbilled = engagement_pb2.Engagement()
    unbilled.CopyFrom(engagement)
    unbilled.time_entries[entry_index].status = engagement_pb2.TIME_ENTRY_STATUS_APPROVED
    verdict = check(
        plan, outcome.before, outcome.after, ServerView(view.invoices, {**view.engagements, key: unbilled})
    )
    assert verdict.correctness.approved_unbilled == 1
    assert not verdict.correctness.passed
    assert verdict.correctness.mismatches == []


def _with_invoice(
    view: ServerView, old: billing_pb2.Invoice | None, new: billing_pb2.Invoice | None
) -> ServerView:
    """The view with `old` replaced by `new` (None: removed / only added)."""
    invoices = [i for i in view.invoices if old is None or i.invoice_id != old.invoice_id]
    return ServerView([*invoices, *([new] if new is not None else [])], view.engagements)


def _copy(invoice: billing_pb2.Invoice) -> billing_pb2.Invoice:
    made = billing_pb2.Invoice()
    made.CopyFrom(invoice)
    return made


def _minor(currency: str) -> Decimal:
    return Decimal(1).scaleb(-profiles.CURRENCY_PLACES[currency])


@pytest.mark.parametrize("currency", ["USD", "JPY"])
def test_the_oracle_fails_on_a_server_invoice_off_by_one_minor_unit(
    finished: tuple[Plan, Outcome, ServerView], currency: str
) -> None:
    plan, outcome, view = finished
    invoice = next(i for i in view.invoices if i.currency_code == currency and i.lines)
    wrong = _copy(invoice)
    wrong.total.amount = str(Decimal(invoice.total.amount) + _minor(currency))
    verdict = check(plan, outcome.before, outcome.after, _with_invoice(view, invoice, wrong))
    assert not verdict.correctness.passed
    assert len(verdict.correctness.mismatches) == 1
    assert invoice.engagement_id in verdict.correctness.mismatches[0]
    assert verdict.correctness.server_minor[currency] == verdict.correctness.expected_minor[currency] + 1


def test_the_oracle_fails_when_an_invoice_is_missing(finished: tuple[Plan, Outcome, ServerView]) -> None:
    plan, outcome, view = finished
    invoice = next(i for i in view.invoices if i.lines)
    verdict = check(plan, outcome.before, outcome.after, _with_invoice(view, invoice, None))
    assert not verdict.correctness.passed
    assert len(verdict.correctness.mismatches) == 1
    assert "server no invoice" in verdict.correctness.mismatches[0]


def test_the_oracle_fails_on_an_invoice_in_another_currency(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    plan, outcome, view = finished
    invoice = next(i for i in view.invoices if i.currency_code == "USD" and i.lines)
    wrong = _copy(invoice)
    wrong.currency_code = wrong.total.currency_code = "EUR"
    verdict = check(plan, outcome.before, outcome.after, _with_invoice(view, invoice, wrong))
    assert not verdict.correctness.passed
    assert len(verdict.correctness.mismatches) == 1
    assert invoice.engagement_id in verdict.correctness.mismatches[0]


def test_the_oracle_fails_on_a_line_mispriced_when_the_total_is_right(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    plan, outcome, view = finished
    invoice = next(i for i in view.invoices if len(i.lines) >= 2)
    wrong = _copy(invoice)
    step = _minor(invoice.currency_code)
    wrong.lines[0].amount.amount = str(Decimal(wrong.lines[0].amount.amount) + step)
    wrong.lines[1].amount.amount = str(Decimal(wrong.lines[1].amount.amount) - step)
    verdict = check(plan, outcome.before, outcome.after, _with_invoice(view, invoice, wrong))
    assert not verdict.correctness.passed
    assert len(verdict.correctness.mismatches) == 1
    assert "first differing line" in verdict.correctness.mismatches[0]


def test_the_oracle_fails_on_an_invoice_for_an_engagement_it_did_not_create(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    plan, outcome, view = finished
    stray = _copy(next(i for i in view.invoices if i.lines))
    stray.invoice_id, stray.engagement_id = "inv-stray", "eng-unknown-to-the-plan"
    verdict = check(plan, outcome.before, outcome.after, _with_invoice(view, None, stray))
    assert not verdict.correctness.passed
    assert any("inv-stray" in m for m in verdict.correctness.mismatches)


def test_the_oracle_fails_when_the_server_refused_a_valid_command(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    """The plan sends only valid commands: a refusal (here CreateEngagement answered
    INVALID_ARGUMENT, so nothing of the engagement exists) fails the check, though the rest of
    the server's side agrees with the plan cut to what it acknowledged."""
    plan, outcome, view = finished
    key, progress = next((k, p) for k, p in outcome.before.items() if p.engagement_id)
    refused = {**outcome.before, key: replace(progress, engagement_id="", done=0, failed="INVALID_ARGUMENT")}
    invoices = [i for i in view.invoices if i.engagement_id != progress.engagement_id]
    engagements = {k: e for k, e in view.engagements.items() if k != key}
    after = {k: p for k, p in outcome.after.items() if k != key}
    verdict = check(plan, refused, after, ServerView(invoices, engagements))
    assert not verdict.correctness.passed
    assert verdict.correctness.refused_commands == 1
    assert any(key in m and "INVALID_ARGUMENT" in m for m in verdict.correctness.mismatches)


@pytest.mark.parametrize("code", ["RESOURCE_EXHAUSTED", "ABORTED"])
def test_a_rate_limited_or_conflicting_command_is_not_a_refusal(
    finished: tuple[Plan, Outcome, ServerView], code: str
) -> None:
    """A rate limit, or CONCURRENT_MODIFICATION (an engagement that kept changing under a
    command, e.g. while a shard moved): not applied, and no sign of a wrong server."""
    plan, outcome, view = finished
    key, progress = next((k, p) for k, p in outcome.before.items() if p.engagement_id)
    limited = {
        **outcome.before,
        key: replace(progress, engagement_id="", done=0, failed=code),
    }
    invoices = [i for i in view.invoices if i.engagement_id != progress.engagement_id]
    engagements = {k: e for k, e in view.engagements.items() if k != key}
    after = {k: p for k, p in outcome.after.items() if k != key}
    verdict = check(plan, limited, after, ServerView(invoices, engagements))
    assert verdict.correctness.passed
    assert verdict.correctness.refused_commands == 0


def test_engagements_left_out_as_uncertain_are_in_the_verdict(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    """report.json carries how many engagements the check could not judge (outcome unknown)."""
    plan, outcome, view = finished
    key, progress = next((k, p) for k, p in outcome.before.items() if p.engagement_id)
    unknown = {**outcome.before, key: replace(progress, failed="UNAVAILABLE", uncertain=True)}
    verdict = check(plan, unknown, outcome.after, view)
    assert verdict.correctness.passed
    assert verdict.correctness.uncertain == verdict.uncertain == 1


def test_an_item_marked_billed_but_on_no_invoice_counts_as_approved_unbilled(
    finished: tuple[Plan, Outcome, ServerView],
) -> None:
    """An entry held at the cap that the server records BILLED, though no invoice carries it,
    would never be billed: the invoices agree with the plan, the entry's status must not."""
    plan, outcome, view = finished
    key, held = next((k, e.held[0]) for k, e in outcome.verdict.expected.items() if e.held)  # type: ignore[union-attr]
    engagement = view.engagements[key]
    assert engagement is not None
    marked = engagement_pb2.Engagement()
    marked.CopyFrom(engagement)
    entry = next(t for t in marked.time_entries if t.entry_id == held)
    assert entry.status == engagement_pb2.TIME_ENTRY_STATUS_HELD_AT_CAP
    entry.status = engagement_pb2.TIME_ENTRY_STATUS_BILLED
    verdict = check(
        plan, outcome.before, outcome.after, ServerView(view.invoices, {**view.engagements, key: marked})
    )
    assert verdict.correctness.mismatches == []
    assert verdict.correctness.approved_unbilled == 1
    assert not verdict.correctness.passed
