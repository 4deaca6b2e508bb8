"""Reading the server's side back for the check: invoices by customer, engagements in full."""

from __future__ import annotations

import asyncio
from typing import Any

from clients.load.connect import Connection
from q2c.v1 import billing_pb2, engagement_pb2

PAGE = 500
READ_CONCURRENCY = 32


class ReadError(RuntimeError):
    """A read the check needs failed; the message names the call and the status."""


async def _read(conn: Connection, rpc: str, method: Any, request: Any) -> Any:
    code, reply = await conn.call(rpc, method, request)
    if code != "OK":
        raise ReadError(f"{rpc} failed with {code}")
    return reply


async def invoices(
    conn: Connection, *, customer_id: str = "", bill_run_id: str = ""
) -> list[billing_pb2.Invoice]:
    """Every invoice of a customer, or of a bill run (all pages)."""
    found: list[billing_pb2.Invoice] = []
    token = ""
    while True:
        request = billing_pb2.ListInvoicesRequest(
            page_size=PAGE, page_token=token, customer_id=customer_id, bill_run_id=bill_run_id
        )
        reply = await _read(conn, "ListInvoices", conn.billing.ListInvoices, request)
        found.extend(reply.invoices)
        token = reply.next_page_token
        if not token:
            return found


async def customers_invoices(conn: Connection, customer_ids: list[str]) -> list[billing_pb2.Invoice]:
    """The invoices of all these customers."""
    gate = asyncio.Semaphore(READ_CONCURRENCY)

    async def one(customer_id: str) -> list[billing_pb2.Invoice]:
        async with gate:
            return await invoices(conn, customer_id=customer_id)

    pages = await asyncio.gather(*(one(c) for c in customer_ids))
    return [invoice for page in pages for invoice in page]


async def engagements(
    conn: Connection, engagement_ids: dict[str, str]
) -> dict[str, engagement_pb2.Engagement | None]:
    """Plan key -> the engagement in full (None when the server does not know it)."""
    gate = asyncio.Semaphore(READ_CONCURRENCY)

    async def one(engagement_id: str) -> engagement_pb2.Engagement | None:
        request = engagement_pb2.GetEngagementRequest(
            engagement_id=engagement_id, view=engagement_pb2.ENGAGEMENT_VIEW_FULL
        )
        async with gate:
            code, reply = await conn.call("GetEngagement", conn.engagements.GetEngagement, request)
        if code == "NOT_FOUND":
            return None
        if code != "OK":
            raise ReadError(f"GetEngagement {engagement_id} failed with {code}")
        return reply  # type: ignore[no-any-return]

    keys = list(engagement_ids)
    found = await asyncio.gather(*(one(engagement_ids[k]) for k in keys))
    return dict(zip(keys, found, strict=True))
