"""What must still hold after the fuzzer is done, whatever it sent.

Over the API: the server answers health, every seeded entity is still readable, and the
tenant's audit chain verifies (every page). In the database, through the Store's engine: no
half-written rows (an engagement's version is its event count, idempotency records point at
audit rows, audit rows point at events that exist, events and invoices belong to engagements).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import text

from q2c.v1 import audit_pb2, billing_pb2, customer_pb2, rate_card_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.adapters.store import Store
from tests.fuzz.known_bugs import known_store_offender
from tests.fuzz.seeding import Seeded
from tests.service.client import Stubs

Metadata = tuple[tuple[str, str], ...]
TIMEOUT = 60.0

SQL_CHECKS: dict[str, str] = {
    "engagement version equals its event count": """
        SELECT e.engagement_id FROM engagements e
        LEFT JOIN (SELECT stream_id, COUNT(*) AS n, MAX(seq) AS mx FROM events WHERE tenant_id = :t
                   GROUP BY stream_id) ev ON ev.stream_id = e.engagement_id
        WHERE e.tenant_id = :t AND (COALESCE(ev.n, 0) <> e.version OR COALESCE(ev.mx, 0) <> e.version
                                    OR e.snapshot_version > e.version)""",
    "events belong to an engagement row": """
        SELECT DISTINCT ev.stream_id FROM events ev
        LEFT JOIN engagements e ON e.tenant_id = ev.tenant_id AND e.engagement_id = ev.stream_id
        WHERE ev.tenant_id = :t AND e.engagement_id IS NULL""",
    "idempotency records point at an audit record": """
        SELECT i.request_id FROM idempotency i
        WHERE i.tenant_id = :t AND NOT EXISTS (
            SELECT 1 FROM audit_records a WHERE a.tenant_id = i.tenant_id AND a.request_id = i.request_id)""",
    "invoices belong to an engagement row": """
        SELECT i.invoice_id FROM invoices i
        LEFT JOIN engagements e ON e.tenant_id = i.tenant_id AND e.engagement_id = i.engagement_id
        WHERE i.tenant_id = :t AND e.engagement_id IS NULL""",
    "audit seqs are contiguous per stream": """
        SELECT stream_id FROM audit_records WHERE tenant_id = :t
        GROUP BY stream_id HAVING COUNT(*) <> MAX(seq) OR MIN(seq) <> 1""",
}
"""Name -> a query returning the offending keys (none when the invariant holds)."""


async def api_problems(channel: grpc.aio.Channel, me: Metadata, seeded: Seeded) -> list[str]:
    """Health, readability of every seeded entity, and the audit chain; problems found."""
    problems = []
    health = health_pb2_grpc.HealthStub(channel)
    try:
        reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT)
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            problems.append(f"health: {reply.status}")
    except grpc.aio.AioRpcError as error:
        return [f"health check failed: {error.code().name} {error.details()}"]
    stubs = Stubs.on(channel)
    reads: list[tuple[str, Any, Any]] = [
        *(
            (f"engagement {i}", stubs.engagements.GetEngagement, pb.GetEngagementRequest(engagement_id=i))
            for i in seeded.engagements
        ),
        *(
            (f"customer {i}", stubs.customers.GetCustomer, customer_pb2.GetCustomerRequest(customer_id=i))
            for i in seeded.customers
        ),
        *(
            (f"rate card {i}", stubs.rate_cards.GetRateCard, rate_card_pb2.GetRateCardRequest(rate_card_id=i))
            for i in seeded.rate_cards
        ),
        *(
            (f"invoice {i}", stubs.billing.GetInvoice, billing_pb2.GetInvoiceRequest(invoice_id=i))
            for i in seeded.invoices
        ),
        *(
            (f"bill run {i}", stubs.billing.GetBillRun, billing_pb2.GetBillRunRequest(bill_run_id=i))
            for i in seeded.bill_runs
        ),
    ]
    for what, method, request in reads:
        try:
            await method(request, metadata=me, timeout=TIMEOUT)
        except grpc.aio.AioRpcError as error:
            problems.append(f"{what} unreadable: {error.code().name} {(error.details() or '')[:300]}")
    problems += await audit_problems(stubs, me)
    return problems


async def audit_problems(stubs: Stubs, me: Metadata) -> list[str]:
    """VerifyAuditLog over the whole tenant, following next_page_token to the last page."""
    token, pages = "", 0
    while True:
        request = audit_pb2.VerifyAuditLogRequest()
        if token:
            request.page_token = token
        try:
            reply = await stubs.audit.VerifyAuditLog(request, metadata=me, timeout=TIMEOUT)
        except grpc.aio.AioRpcError as error:
            return [f"VerifyAuditLog failed: {error.code().name} {error.details()}"]
        pages += 1
        if not reply.ok:
            return [f"audit chain broken: {reply.problem} (stream {reply.problem_stream_id})"]
        token = getattr(reply, "next_page_token", "")
        if not token or pages > 10_000:
            return []


def store_problems(database_url: str, tenant_id: str) -> tuple[list[str], Counter[str]]:
    """Every SQL_CHECKS invariant over the fuzz tenant's rows: one line per violated invariant,
    and the offending rows explained by a known bug (tests.fuzz.known_bugs), counted by bug."""
    store = Store.open(database_url, migrate=False)
    known: Counter[str] = Counter()
    try:
        problems = []
        with store.engine.connect() as conn:
            for name, query in SQL_CHECKS.items():
                bad = []
                for row in conn.execute(text(query), {"t": tenant_id}):
                    bug = known_store_offender(name, str(row[0]))
                    if bug is None:
                        bad.append(str(row[0]))
                    else:
                        known[bug] += 1
                if bad:
                    problems.append(f"{name}: violated by {bad[:5]} ({len(bad)} in all)")
        return problems, known
    finally:
        store.close()
