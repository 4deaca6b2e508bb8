"""Delivery tests: a fresh database per test (the outbox cursor is per deployment) and a real
simulator process per test (its store is the witness of what reached the ERP)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from q2c_core.adapters.erp.simulator_connectors import simulator_connectors
from q2c_core.adapters.store import Store
from q2c_core.app.delivery.config import DeliveryConfig
from q2c_core.app.messages import CommandResult
from q2c_core.app.runtime import LocalRuntime, Runtime
from q2c_core.domain import commands as cmd
from q2c_core.domain.periods import BillingPeriod
from tests.conftest_db import _pg_database
from tests.host.helpers import (
    activate,
    approve_contract,
    close_won,
    create,
    envelope,
    new_id,
    qualify,
    seed_customer,
    submit_expense,
)
from tests.simulator.conftest import RunningSimulator, launch, sim  # noqa: F401  (fixtures)

MARCH = BillingPeriod.month(2025, 3)


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'q2c.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def store(fresh_url: str) -> Iterator[Store]:
    """A migrated store on the test's database."""
    st = Store.open(fresh_url)
    yield st
    st.close()


def fast_config(url: str, **overrides: object) -> DeliveryConfig:
    """Delivery to the simulator with quick retries (tests wait for seconds, not minutes)."""
    fields: dict[str, object] = {
        "erp_url": url,
        "psa_url": url,
        "max_attempts": 5,
        "base_seconds": 0.05,
        "cap_seconds": 0.5,
        "timeout_seconds": 2.0,
        "poll_seconds": 0.05,
    }
    return DeliveryConfig(**{**fields, **overrides})  # type: ignore[arg-type]


@pytest.fixture
async def runtime(store: Store, sim: RunningSimulator) -> AsyncIterator[LocalRuntime]:  # noqa: F811
    """A LocalRuntime delivering to the simulator (the worker is started by each test)."""
    rt = LocalRuntime(store, delivery=fast_config(sim.url), connectors=simulator_connectors)
    yield rt
    await rt.close()


@dataclass
class Billed:
    """A tenant's engagements and their invoices, in order."""

    tenant_id: str
    engagement_ids: list[str]
    invoice_ids: list[str]


async def run_ok(rt: Runtime, tenant: str, ids: list[str], command: object) -> list[CommandResult]:
    """Run one command on each engagement (concurrently); every one must be accepted."""
    results = await asyncio.gather(*(rt.execute(envelope(tenant, eid, command)) for eid in ids))
    bad = [r.error for r in results if not r.ok]
    assert not bad, bad
    return list(results)


async def active_engagements(rt: Runtime, store: Store, count: int) -> tuple[str, list[str]]:
    """A new tenant with `count` ACTIVE engagements, each with an approved March expense."""
    tenant = new_id("tenant")
    customer = seed_customer(store, tenant)
    ids = [new_id("eng") for _ in range(count)]
    for command in (create(customer), qualify(), close_won(), approve_contract(), activate()):
        await run_ok(rt, tenant, ids, command)
    await run_ok(rt, tenant, ids, submit_expense("x1"))
    await run_ok(rt, tenant, ids, cmd.ApproveExpenses(expense_ids=["x1"]))
    return tenant, ids


async def issue_all(rt: Runtime, tenant: str, invoices: dict[str, str]) -> None:
    """Issue each engagement's invoice (engagement id -> invoice id)."""
    for eid, invoice_id in invoices.items():
        await run_ok(rt, tenant, [eid], cmd.IssueInvoice(invoice_id=invoice_id))


async def billed(rt: Runtime, store: Store, count: int) -> Billed:
    """`count` engagements, each with one issued March invoice."""
    tenant, ids = await active_engagements(rt, store, count)
    results = await run_ok(rt, tenant, ids, cmd.GenerateInvoice(period=MARCH))
    invoices = {eid: r.invoice.invoice_id for eid, r in zip(ids, results, strict=True) if r.invoice}
    await issue_all(rt, tenant, invoices)
    return Billed(tenant, ids, list(invoices.values()))


async def eventually(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Re-check a condition (in a thread: it reads the store) until it holds, or fail."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.05)
