"""What a test reads back: refusal details from the wire, row counts and security events from the store."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any

import grpc
from google.rpc import error_details_pb2
from sqlalchemy import func, select

from q2c_core.adapters.store import Store
from q2c_core.adapters.store import schema as s
from q2c_core.app.records import SecurityEventRow
from tests.service.client import error_info, rich_error

COUNTED = (
    s.customers,
    s.rate_cards,
    s.engagements,
    s.events,
    s.audit_records,
    s.idempotency,
    s.exceptions,
    s.invoices,
)
"""Every table a q2c.v1 write could touch."""


def correlation_id() -> str:
    """A correlation id no other call uses."""
    return f"sec-{uuid.uuid4().hex}"


async def refusal(call: Awaitable[Any]) -> tuple[grpc.StatusCode, error_details_pb2.ErrorInfo]:
    """Await a call expected to fail: its code and its one q2c ErrorInfo."""
    code, status = await rich_error(call)
    return code, error_info(status)


def row_counts(store: Store, tenant_id: str | None = None) -> dict[str, int]:
    """Rows per table (of one tenant when given)."""
    counts = {}
    with store.engine.connect() as conn:
        for table in COUNTED:
            query = select(func.count()).select_from(table)
            if tenant_id is not None:
                query = query.where(table.c.tenant_id == tenant_id)
            counts[table.name] = conn.execute(query).scalar_one()
    return counts


def security_events(store: Store, tenant_id: str) -> list[SecurityEventRow]:
    """Every security event of one tenant ("" = no verified tenant), newest first, all pages."""
    events: list[SecurityEventRow] = []
    token = ""
    while True:
        page = store.list_security_events([tenant_id], page_size=200, page_token=token)
        events.extend(page.items)
        if not page.next_page_token:
            return events
        token = page.next_page_token


def security_event(store: Store, tenant_id: str, correlation: str) -> SecurityEventRow:
    """The one security event of `tenant_id` carrying `correlation`."""
    [event] = [e for e in security_events(store, tenant_id) if e.correlation_id == correlation]
    return event
