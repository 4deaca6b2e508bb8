"""The q2c demo: start a server (SQLite + local Ray), drive a realistic scenario, print it.

python -m clients.demo               # starts server.py itself on a free port, trusting a fresh
                                     # development key, and calls it with tokens minted from it
python -m clients.demo --target HOST:PORT --dev-key-dir DIR   # drives an already running server
python -m clients.demo --target HOST:PORT --token T --approver-token T2
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import grpc
from rich.console import Console
from rich.table import Table

from clients.connection import Q2c, money, pb_date
from clients.demo_access import Crew, add_options, crew, local_dev_key, minted, target_tokens
from clients.demo_billing import bill_run, invoice_month
from clients.demo_integration import integration
from q2c.v1 import (
    audit_pb2,
    customer_pb2,
    engagement_pb2,
    exception_pb2,
    rate_card_pb2,
)

console = Console()
START = date(2026, 1, 5)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextmanager
def local_simulator(workdir: str) -> Iterator[str]:
    """Run the ERP/PSA simulator (its own process and SQLite file); yield its URL."""
    command = [sys.executable, "-m", "simulator", "--port", "0", "--db", f"{workdir}/erp.db"]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("simulator listening on"):
            raise SystemExit(f"simulator exited early with code {proc.wait()}")
        yield "http://" + line.split()[-1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


@contextmanager
def local_server(shards: int, workdir: str, erp_url: str) -> Iterator[str]:
    """Run server.py on a free port with a fresh SQLite file, trusting `<workdir>/dev-key` and
    delivering to the simulator at `erp_url`; stop it with SIGTERM."""
    command = [
        sys.executable,
        "server.py",
        "--port",
        "0",
        "--shards",
        str(shards),
        "--database-url",
        f"sqlite:///{workdir}/q2c.db",
        "--ray-num-cpus",
        "2",
        "--log-level",
        "WARNING",
        "--erp-url",
        erp_url,
        "--psa-url",
        erp_url,
        "--delivery-base-seconds",
        "0.2",
        "--dev-key-dir",
        f"{workdir}/dev-key",
    ]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("q2c listening on"):
                yield line.split()[-1]
                break
        else:
            raise SystemExit(f"server exited early with code {proc.wait()}")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        console.print(f"[dim]server stopped (exit code {code})[/dim]")


def step(text: str) -> None:
    """Print one step of the story."""
    console.print(f"[bold cyan]>[/bold cyan] {text}")


def create_customer(q: Q2c, name: str, *, tax: bool) -> customer_pb2.Customer:
    """A customer in USD, with or without a tax profile."""
    customer = customer_pb2.Customer(
        display_name=name,
        legal_entity=f"{name} Ltd",
        billing_currency="USD",
        payment_terms_days=30,
        service_line="Digital Transformation",
        status=customer_pb2.CUSTOMER_STATUS_ACTIVE,
    )
    if tax:
        customer.tax_profile.CopyFrom(customer_pb2.TaxProfile(jurisdiction="US-NY", rate="0.08875"))
    return q.call(q.customers.CreateCustomer, customer_pb2.CreateCustomerRequest(customer=customer))


def create_rate_card(q: Q2c) -> rate_card_pb2.RateCard:
    """Hourly rates per role, effective from 2026-01-01, open-ended."""
    card = rate_card_pb2.RateCard(
        display_name="Standard 2026",
        currency_code="USD",
        effective_from=pb_date(date(2026, 1, 1)),
        rates=[
            rate_card_pb2.RoleRate(role=r, hourly_rate=money(a, "USD"))
            for r, a in (("architect", "225.00"), ("engineer", "165.00"), ("analyst", "120.50"))
        ],
    )
    return q.call(q.rate_cards.CreateRateCard, rate_card_pb2.CreateRateCardRequest(rate_card=card))


def open_engagement(q: Q2c, customer_id: str, name: str) -> engagement_pb2.Engagement:
    """Create and qualify an engagement."""
    created = q.call(
        q.engagements.CreateEngagement,
        engagement_pb2.CreateEngagementRequest(
            customer_id=customer_id,
            display_name=name,
            opportunity_ref=f"OPP-{name[:3].upper()}",
            expected_start_date=pb_date(START),
        ),
    )
    return q.call(
        q.engagements.QualifyEngagement,
        engagement_pb2.QualifyEngagementRequest(engagement_id=created.engagement_id),
    )


def billing_lines(rate_card_id: str) -> list[engagement_pb2.BillingLine]:
    """Every billing model: capped T&M, fixed-fee milestones, a retainer, expenses, a subscription."""
    return [
        engagement_pb2.BillingLine(
            line_id="tm",
            description="Delivery team",
            time_and_materials=engagement_pb2.TimeAndMaterialsTerms(
                rate_card_id=rate_card_id, not_to_exceed=money("250000", "USD")
            ),
        ),
        engagement_pb2.BillingLine(
            line_id="ff",
            description="Design milestones",
            fixed_fee=engagement_pb2.FixedFeeTerms(
                milestones=[
                    engagement_pb2.MilestoneSpec(
                        milestone_id="design", display_name="Design sign-off", amount=money("40000", "USD")
                    ),
                    engagement_pb2.MilestoneSpec(
                        milestone_id="golive", display_name="Go-live", amount=money("60000", "USD")
                    ),
                ]
            ),
        ),
        engagement_pb2.BillingLine(
            line_id="ret",
            description="Advisory retainer",
            retainer=engagement_pb2.RetainerTerms(amount_per_month=money("5000", "USD")),
        ),
        engagement_pb2.BillingLine(
            line_id="exp",
            description="Travel at cost + 5%",
            pass_through_expenses=engagement_pb2.ExpenseTerms(markup_percent="5"),
        ),
        engagement_pb2.BillingLine(
            line_id="sub",
            description="Managed platform subscription",
            subscription=engagement_pb2.SubscriptionTerms(
                amount_per_period=money("1200", "USD"), period=engagement_pb2.BILLING_PERIOD_UNIT_QUARTER
            ),
        ),
    ]


def deliver(team: Crew, engagement_id: str) -> engagement_pb2.Engagement:
    """A week of time and two expenses submitted by one principal and reviewed by another; one
    milestone completed and accepted."""
    q, approver = team.q, team.approver
    entries = [
        engagement_pb2.TimeEntryInput(
            entry_id=f"t-{who}-{d}",
            billing_line_id="tm",
            person=who,
            role=role,
            work_date=pb_date(START + timedelta(days=d)),
            hours=h,
        )
        for who, role, h in (("ana", "architect", "6.5"), ("ben", "engineer", "8"), ("cy", "analyst", "7.25"))
        for d in range(5)
    ]
    q.call(
        q.engagements.SubmitTimeEntries,
        engagement_pb2.SubmitTimeEntriesRequest(engagement_id=engagement_id, entries=entries),
    )
    approver.call(
        approver.engagements.ApproveTimeEntries,
        engagement_pb2.ApproveTimeEntriesRequest(
            engagement_id=engagement_id, entry_ids=[e.entry_id for e in entries[:-1]]
        ),
    )
    approver.call(
        approver.engagements.RejectTimeEntries,
        engagement_pb2.RejectTimeEntriesRequest(
            engagement_id=engagement_id, entry_ids=[entries[-1].entry_id], reason="wrong project code"
        ),
    )
    q.call(
        q.engagements.SubmitExpenses,
        engagement_pb2.SubmitExpensesRequest(
            engagement_id=engagement_id,
            expenses=[
                engagement_pb2.ExpenseInput(
                    expense_id="x-flight",
                    billing_line_id="exp",
                    category="travel",
                    incurred_date=pb_date(START),
                    amount=money("612.40", "USD"),
                ),
                engagement_pb2.ExpenseInput(
                    expense_id="x-hotel",
                    billing_line_id="exp",
                    category="lodging",
                    incurred_date=pb_date(START),
                    amount=money("845.00", "USD"),
                ),
            ],
        ),
    )
    approver.call(
        approver.engagements.ApproveExpenses,
        engagement_pb2.ApproveExpensesRequest(
            engagement_id=engagement_id, expense_ids=["x-flight", "x-hotel"]
        ),
    )
    q.call(
        q.engagements.CompleteMilestone,
        engagement_pb2.CompleteMilestoneRequest(engagement_id=engagement_id, milestone_id="design"),
    )
    return approver.call(
        approver.engagements.AcceptMilestone,
        engagement_pb2.AcceptMilestoneRequest(engagement_id=engagement_id, milestone_id="design"),
    )


def state_name(value: int) -> str:
    """ENGAGEMENT_STATE_ACTIVE -> ACTIVE."""
    return engagement_pb2.EngagementState.Name(value).removeprefix("ENGAGEMENT_STATE_")


def scenario(team: Crew, erp_url: str | None = None) -> None:
    """The story: a clean engagement billed and paid, one held at close-won, bill runs, the
    ERP's acknowledgements and a reconciliation (with `erp_url`: the simulator q2c delivers to),
    the audit."""
    q = team.q
    card = create_rate_card(q)
    acme = create_customer(q, "Acme", tax=True)
    globex = create_customer(q, "Globex", tax=False)
    step(f"customers Acme and Globex (no tax profile); rate card {card.rate_card_id[:8]} rev {card.revision}")

    eng = open_engagement(q, acme.customer_id, "Acme cloud migration")
    eng = q.call(
        q.engagements.CloseWonEngagement,
        engagement_pb2.CloseWonEngagementRequest(engagement_id=eng.engagement_id),
    )
    eng = q.call(
        q.engagements.ApproveContract,
        engagement_pb2.ApproveContractRequest(
            engagement_id=eng.engagement_id,
            currency_code="USD",
            start_date=pb_date(START),
            end_date=pb_date(date(2026, 12, 31)),
            po_reference=" po-7781 ",
            billing_lines=billing_lines(card.rate_card_id),
        ),
    )
    step(
        f"Acme: won, contract approved (PO normalized to {eng.contract.po_reference!r})"
        f" -> {state_name(eng.state)}"
    )
    eng = q.call(
        q.engagements.ActivateEngagement,
        engagement_pb2.ActivateEngagementRequest(
            engagement_id=eng.engagement_id,
            project_template_id="cloud-migration-v3",
            staffing_plan=[engagement_pb2.StaffingAssignment(person="ana", role="architect")],
        ),
    )
    eng = deliver(team, eng.engagement_id)
    step(
        "Acme: activated; 15 time entries and 2 expenses submitted by one principal, reviewed by"
        f" another (14 entries approved, 1 rejected); milestone accepted -> version {eng.version}"
    )

    held = open_engagement(q, globex.customer_id, "Globex data platform")
    held = q.call(
        q.engagements.CloseWonEngagement,
        engagement_pb2.CloseWonEngagementRequest(engagement_id=held.engagement_id),
    )
    step(f"Globex: close-won -> {state_name(held.state)} (blocking exception, not an error)")
    queue = q.call(
        q.exceptions.ListExceptions,
        exception_pb2.ListExceptionsRequest(
            engagement_id=held.engagement_id, state=exception_pb2.EXCEPTION_STATE_OPEN
        ),
    )
    show_exceptions(queue.exceptions)
    fixed = customer_pb2.Customer(
        customer_id=globex.customer_id,
        tax_profile=customer_pb2.TaxProfile(jurisdiction="US-CA", rate="0.0725"),
    )
    q.call(
        q.customers.UpdateCustomer,
        customer_pb2.UpdateCustomerRequest(
            customer=fixed, update_mask={"paths": ["tax_profile"]}, etag=globex.etag
        ),
    )
    for item in queue.exceptions:
        q.call(
            q.exceptions.ResolveException,
            exception_pb2.ResolveExceptionRequest(
                exception_id=item.exception_id, resolution_note="tax profile added in CRM"
            ),
        )
    held = q.call(
        q.engagements.GetEngagement, engagement_pb2.GetEngagementRequest(engagement_id=held.engagement_id)
    )
    step(f"Globex: tax profile added, exception resolved -> back to {state_name(held.state)}")
    held = q.call(
        q.engagements.CloseWonEngagement,
        engagement_pb2.CloseWonEngagementRequest(engagement_id=held.engagement_id),
    )
    step(f"Globex: close-won retried -> {state_name(held.state)}")

    january = invoice_month(q, eng.engagement_id, "2026-01")
    bill_run(q, "2026-02")
    bill_run(q, "2026-02")  # a re-run bills nothing twice
    if erp_url:
        integration(q, erp_url, january.invoice_id)
    show_errors(q, eng.engagement_id)
    eng = q.call(
        q.engagements.CompleteEngagement,
        engagement_pb2.CompleteEngagementRequest(engagement_id=eng.engagement_id),
    )
    step(f"Acme: delivery complete -> {state_name(eng.state)}")
    show_audit(q, eng.engagement_id)


def show_exceptions(items: list[exception_pb2.BusinessException]) -> None:
    """The exception queue as a table."""
    table = Table("check", "severity", "message", title="open exceptions")
    for item in items:
        severity = exception_pb2.ExceptionSeverity.Name(item.severity).removeprefix("EXCEPTION_SEVERITY_")
        table.add_row(item.check, severity, item.message)
    console.print(table)


def show_errors(q: Q2c, engagement_id: str) -> None:
    """What bad input gets: a clear status with details, never INTERNAL."""
    bad = engagement_pb2.TimeEntryInput(
        entry_id="bad",
        billing_line_id="tm",
        person="ana",
        role="astronaut",
        work_date=pb_date(START),
        hours="-2",
    )
    for label, method, request in (
        (
            "negative hours, unknown role",
            q.engagements.SubmitTimeEntries,
            engagement_pb2.SubmitTimeEntriesRequest(engagement_id=engagement_id, entries=[bad]),
        ),
        (
            "qualify an active engagement",
            q.engagements.QualifyEngagement,
            engagement_pb2.QualifyEngagementRequest(engagement_id=engagement_id),
        ),
        (
            "unknown engagement",
            q.engagements.GetEngagement,
            engagement_pb2.GetEngagementRequest(engagement_id="no-such-engagement"),
        ),
    ):
        try:
            q.call(method, request)
        except grpc.RpcError as error:
            step(f"{label}: [yellow]{error.code().name}[/yellow] {error.details()}")
    anonymous = Q2c(q.target)  # no token: refused before any work is done
    try:
        anonymous.call(q.customers.ListCustomers, customer_pb2.ListCustomersRequest())
    except grpc.RpcError as error:
        step(f"a call without a token: [yellow]{error.code().name}[/yellow] {error.details()}")
    finally:
        anonymous.close()


def show_audit(q: Q2c, engagement_id: str) -> None:
    """The engagement's hash-chained audit trail, and a verification of the whole log."""
    records = q.call(
        q.audit.ListAuditRecords, audit_pb2.ListAuditRecordsRequest(stream_id=engagement_id, page_size=100)
    )
    table = Table("seq", "command", "principal", "outcome", "reason", "hash", title="audit trail (Acme)")
    for r in records.audit_records:
        table.add_row(
            str(r.sequence),
            r.command_type,
            r.principal,
            audit_pb2.AuditOutcome.Name(r.outcome)[14:],
            r.rejection_reason,
            r.hash[:12],
        )
    console.print(table)
    anchor_audit_log(q)
    verdict = q.call(q.audit.VerifyAuditLog, audit_pb2.VerifyAuditLogRequest())
    sequence = verdict.checkpoint.sequence
    against = f" against signed checkpoint {sequence}" if sequence else ""
    step(f"audit log verified{against}: ok={verdict.ok}, {verdict.records_checked} records checked")
    if not verdict.ok:
        raise SystemExit(1)


def anchor_audit_log(q: Q2c) -> None:
    """Sign a checkpoint of every stream head, as an operator would before exporting it."""
    try:
        checkpoint = q.call(q.audit.CreateAuditCheckpoint, audit_pb2.CreateAuditCheckpointRequest())
    except grpc.RpcError as error:  # a --target server without a signing key
        step(f"no audit checkpoint: {error.details()}")
        return
    step(
        f"signed audit checkpoint {checkpoint.sequence}: {len(checkpoint.stream_heads)} stream heads,"
        f" Merkle root {checkpoint.root_hash[:12]}, Ed25519 key {checkpoint.key_id}"
        " (export: q2c audit checkpoint export)"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the demo against a fresh local server, or --target an existing one."""
    parser = argparse.ArgumentParser(prog="q2c demo", description=__doc__)
    parser.add_argument("--target", help="host:port of a running q2c (default: start one)")
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--erp-url", help="with --target: the simulator that server delivers to")
    add_options(parser)
    args = parser.parse_args(argv)
    if args.target:
        with crew(args.target, target_tokens(args)) as team:
            scenario(team, args.erp_url)
        return 0
    workdir = tempfile.mkdtemp(prefix="q2c-demo-")
    key = local_dev_key(workdir)
    with local_simulator(workdir) as erp_url, local_server(args.shards, workdir, erp_url) as target:
        console.print(
            f"[dim]q2c started on {target} (SQLite, local Ray, {args.shards} shards), trusting the"
            f" development key in {key.directory}; ERP/PSA simulator at {erp_url}[/dim]"
        )
        with crew(target, minted(key)) as team:
            scenario(team, erp_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
