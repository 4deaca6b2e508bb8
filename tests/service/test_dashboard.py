"""The operations dashboard of an in-process (--local) q2c started by the composition root:
what it shows of a tenant, that it escapes what it renders, and that it authenticates like the API."""

from __future__ import annotations

import asyncio
import http.client
import re
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from q2c.v1 import billing_pb2, customer_pb2
from q2c.v1 import engagement_pb2 as pb
from q2c_core.app.records import Page
from q2c_core.bootstrap import running
from q2c_core.edge import dashboard_view
from q2c_core.settings import Settings, parse_settings
from q2c_sdk import Q2cClient, date, month
from tests import credentials
from tests.sdk import flows
from tests.tls_certs import make_pki

TENANT = "dashboard-ops"
SCRIPT_NAME = "<script>alert(1)</script>"
Reply = tuple[int, http.client.HTTPMessage, str]


def get(
    port: int, path: str, headers: dict[str, str] | None = None, tls: ssl.SSLContext | None = None
) -> Reply:
    """One GET (over HTTPS trusting `tls`'s CA when given), redirects not followed."""
    connection = (
        http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=tls)
        if tls is not None
        else http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    )
    try:
        connection.request("GET", path, headers=headers or {})
        reply = connection.getresponse()
        return reply.status, reply.headers, reply.read().decode("utf-8")
    finally:
        connection.close()


def dashboard_settings(tmp_path: Path, *extra: str) -> Settings:
    """--local q2c trusting the test development key, gateway and dashboard on free ports."""
    key = str(credentials.dev_key().directory)
    database = f"sqlite:///{tmp_path}/q2c.db"
    flags = ["--local", "--port", "0", "--dashboard-port", "0", "--database-url", database]
    return parse_settings([*flags, "--dev-key-dir", key, *extra])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def state_counts(page: str) -> dict[str, int]:
    """The engagements-per-state table of the page."""
    states = page.split('<div id="states">', 1)[1].split("</table>", 1)[0]
    return {
        state: int(n) for state, n in re.findall(r'<tr><td>(\w+)</td><td class="n">(\d+)</td></tr>', states)
    }


def _customer(q2c: Q2cClient, name: str, taxed: bool = True) -> str:
    customer = customer_pb2.Customer(
        display_name=name,
        legal_entity="Script Kiddies LLC",
        billing_currency="USD",
        service_line="CONSULTING",
    )
    if taxed:
        customer.tax_profile.CopyFrom(customer_pb2.TaxProfile(jurisdiction="US-NY", rate="0.08875"))
    return q2c.create_customer(customer_pb2.CreateCustomerRequest(customer=customer)).customer_id


def _pipeline(target: str) -> str:
    """An ACTIVE engagement of the <script> customer with an issued invoice and a bill run, one
    DRAFT, and one ON_HOLD at close-won (its customer has no tax profile: an open exception)."""
    with (
        Q2cClient(target, token=credentials.token(TENANT), deadline=20.0) as q2c,
        Q2cClient(target, token=credentials.token(TENANT, "bob"), deadline=20.0) as bob,
    ):
        customer_id = _customer(q2c, SCRIPT_NAME)
        card = flows.new_rate_card(q2c)
        eid = q2c.create_engagement(
            pb.CreateEngagementRequest(customer_id=customer_id, display_name=f"Build {SCRIPT_NAME}")
        ).engagement_id
        q2c.qualify_engagement(pb.QualifyEngagementRequest(engagement_id=eid))
        q2c.close_won_engagement(pb.CloseWonEngagementRequest(engagement_id=eid))
        q2c.approve_contract(
            pb.ApproveContractRequest(
                engagement_id=eid,
                currency_code="USD",
                start_date=date(flows.CONTRACT_START),
                end_date=date(flows.CONTRACT_END),
                po_reference="PO-1",
                billing_lines=flows.billing_lines(card.rate_card_id),
            )
        )
        q2c.activate_engagement(pb.ActivateEngagementRequest(engagement_id=eid, project_template_id="T"))
        q2c.submit_time_entries(
            pb.SubmitTimeEntriesRequest(engagement_id=eid, entries=flows.time_entries("T1"))
        )
        bob.approve_time_entries(pb.ApproveTimeEntriesRequest(engagement_id=eid, entry_ids=["T1"]))
        draft = q2c.generate_invoice(pb.GenerateInvoiceRequest(engagement_id=eid, period=month("2025-03")))
        q2c.issue_invoice(billing_pb2.IssueInvoiceRequest(invoice_id=draft.invoice_id))
        run = q2c.start_bill_run(billing_pb2.StartBillRunRequest(period=month("2025-03")))
        for _ in q2c.watch_bill_run(billing_pb2.WatchBillRunRequest(bill_run_id=run.bill_run_id)):
            pass
        q2c.create_engagement(pb.CreateEngagementRequest(customer_id=customer_id, display_name="Later"))
        untaxed = _customer(q2c, "No Tax Inc", taxed=False)
        held = q2c.create_engagement(pb.CreateEngagementRequest(customer_id=untaxed, display_name="Held"))
        q2c.qualify_engagement(pb.QualifyEngagementRequest(engagement_id=held.engagement_id))
        q2c.close_won_engagement(pb.CloseWonEngagementRequest(engagement_id=held.engagement_id))
        return run.bill_run_id


async def test_dashboard_shows_the_tenants_pipeline_escaped_to_holders_of_dashboard_read(
    tmp_path: Path,
) -> None:
    settings = dashboard_settings(tmp_path)
    async with running(settings) as service:
        assert service.dashboard is not None and service.dashboard.port > 0
        port = service.dashboard.port
        run_id = await asyncio.to_thread(_pipeline, f"127.0.0.1:{service.gateway.port}")
        viewer = credentials.token(TENANT, "ops", ("dashboard:read",))

        status, headers, page = await asyncio.to_thread(get, port, "/dashboard", bearer(viewer))
        assert status == 200, page
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert "script-src 'sha256-" in headers["Content-Security-Policy"]
        counts = state_counts(page)
        assert (counts["ACTIVE"], counts["DRAFT"], counts["ON_HOLD"]) == (1, 1, 1), counts
        assert sum(counts.values()) == 3
        assert SCRIPT_NAME not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the customer and the engagement
        assert page.count("<script>") == 1  # the page's own refresh script only
        assert "TAX_PROFILE_PRESENT" in page and "customer has no tax profile" in page
        assert run_id in page and "SUCCEEDED" in page
        assert "Quote to activation (1 samples)" in page
        assert "EngagementService/CreateEngagement" in page  # latency by RPC
        assert '<tr class="late">' not in page  # nothing is past its SLA yet

        service.dashboard.app.clock = lambda: datetime.now(UTC) + timedelta(days=60)
        _, _, later = await asyncio.to_thread(get, port, "/dashboard", bearer(viewer))
        assert '<tr class="late">' in later and "LATE " in later

        status, _, fragment = await asyncio.to_thread(get, port, "/dashboard/bill-runs", bearer(viewer))
        assert status == 200 and run_id in fragment and "<html" not in fragment

        other = credentials.token("dashboard-other", "ops", ("dashboard:read",))
        _, _, theirs = await asyncio.to_thread(get, port, "/dashboard", bearer(other))
        assert sum(state_counts(theirs).values()) == 0 and "alert(1)" not in theirs


async def test_dashboard_refuses_like_the_api_and_keeps_a_token_given_once_in_a_cookie(
    tmp_path: Path,
) -> None:
    settings = dashboard_settings(tmp_path)
    async with running(settings) as service:
        assert service.dashboard is not None
        port = service.dashboard.port
        viewer = credentials.token(TENANT, "ops", ("dashboard:read",))

        status, headers, _ = await asyncio.to_thread(get, port, "/dashboard")
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        status, _, _ = await asyncio.to_thread(get, port, "/dashboard", bearer("not-a-token"))
        assert status == 401
        reader = credentials.token(TENANT, "sales", ("engagements:read",))
        status, _, body = await asyncio.to_thread(get, port, "/dashboard", bearer(reader))
        assert status == 403 and "dashboard:read" in body
        status, _, _ = await asyncio.to_thread(get, port, "/dashboard", bearer(credentials.token(TENANT)))
        assert status == 200  # admin
        status, _, _ = await asyncio.to_thread(get, port, f"/dashboard?tenant=someone-else&token={viewer}")
        assert status == 403  # a tenant hint the token does not prove

        status, headers, _ = await asyncio.to_thread(get, port, f"/dashboard?token={viewer}&x=1")
        assert status == 303 and headers["Location"] == "/dashboard?x=1"
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/dashboard" in cookie
        kept = cookie.split(";", 1)[0]
        status, _, page = await asyncio.to_thread(get, port, "/dashboard?x=1", {"Cookie": kept})
        assert status == 200 and "tenant dashboard-ops" in page
        status, _, _ = await asyncio.to_thread(get, port, "/dashboard/bill-runs", {"Cookie": kept})
        assert status == 200

        status, headers, _ = await asyncio.to_thread(get, port, "/dashboard?token=forged")
        assert status == 401 and "Set-Cookie" not in headers
        status, headers, _ = await asyncio.to_thread(get, port, f"/dashboard?token={reader}")
        assert status == 403 and "Set-Cookie" not in headers
        status, _, _ = await asyncio.to_thread(
            get, port, "/dashboard", {"Cookie": "q2c_dashboard_token=forged"}
        )
        assert status == 401
        status, _, _ = await asyncio.to_thread(get, port, "/elsewhere", bearer(viewer))
        assert status == 404
    assert service.dashboard is not None
    try:
        await asyncio.to_thread(get, port, "/dashboard", bearer(viewer))
    except OSError:
        pass
    else:
        raise AssertionError("the dashboard still answers after the service stopped")


async def test_dashboard_speaks_tls_with_the_gateways_certificate_and_a_secure_cookie(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    tls = ["--tls-cert-file", str(pki.server_cert), "--tls-key-file", str(pki.server_key)]
    async with running(dashboard_settings(tmp_path, *tls)) as service:
        assert service.dashboard is not None and service.dashboard.scheme == "https"
        port = service.dashboard.port
        trusted = ssl.create_default_context(cafile=str(pki.ca_cert))
        viewer = credentials.token(TENANT, "ops", ("dashboard:read",))

        status, _, page = await asyncio.to_thread(get, port, "/dashboard", bearer(viewer), trusted)
        assert status == 200 and "tenant dashboard-ops" in page
        status, headers, _ = await asyncio.to_thread(get, port, f"/dashboard?token={viewer}", None, trusted)
        assert status == 303 and "; Secure" in headers["Set-Cookie"]
        try:
            await asyncio.to_thread(get, port, "/dashboard", bearer(viewer))
        except (OSError, http.client.HTTPException):
            pass  # plain HTTP is not answered
        else:
            raise AssertionError("the TLS dashboard answered plain HTTP")


def test_a_listing_longer_than_the_cap_is_read_up_to_it_and_said_to_be_capped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listing = {"": Page([1], "a"), "a": Page([2], "b"), "b": Page([3], "")}
    monkeypatch.setattr(dashboard_view, "MAX_PAGES", 2)
    capped: list[bool] = []
    assert list(dashboard_view.first_pages(listing.__getitem__, capped)) == [[1], [2]] and capped
    monkeypatch.setattr(dashboard_view, "MAX_PAGES", 3)
    whole: list[bool] = []
    assert list(dashboard_view.first_pages(listing.__getitem__, whole)) == [[1], [2], [3]] and not whole
