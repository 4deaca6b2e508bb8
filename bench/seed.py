"""Seed a database with N engagements ready for month-end billing, fast (in-process host).

Each engagement: customer (one of a few), contract with T&M (rate card), fixed fee (one
milestone) and pass-through expenses; activated; 20 approved time entries, 2 approved expenses
and one accepted milestone in January 2026. Commands go through the real EngagementHost (decide,
audit, idempotency, group commit), one command kind at a time for a wave of engagements.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from q2c_core.adapters.store import Store
from q2c_core.app.catalog import CustomerSpec, RateCardSpec
from q2c_core.app.host import EngagementHost
from q2c_core.app.messages import Caller, CommandEnvelope, new_resource_id
from q2c_core.app.runtime import LocalRuntime
from q2c_core.domain import commands as c
from q2c_core.domain.money import Money
from q2c_core.domain.reference import TaxProfile

TENANT = "bench"
CALLER = Caller(tenant_id=TENANT, principal="seed", correlation_id="seed")
APPROVER = Caller(tenant_id=TENANT, principal="seed-approver", correlation_id="seed")
"""Approvals come from another principal: whoever books work may not approve it."""
APPROVALS = (c.ApproveTimeEntries, c.ApproveExpenses, c.AcceptMilestone)
START = date(2026, 1, 5)
WAVE = 1000


def _contract(rate_card_id: str, n: int) -> c.ApproveContract:
    return c.ApproveContract.model_validate(
        {
            "currency": "USD",
            "start_date": "2026-01-01",
            "end_date": "2026-12-31",
            "po_reference": f"PO-{n}",
            "billing_lines": [
                {
                    "line_id": "tm",
                    "terms": {
                        "model": "TIME_AND_MATERIALS",
                        "rate_card_id": rate_card_id,
                        "not_to_exceed": {"currency": "USD", "amount": "500000"},
                    },
                },
                {
                    "line_id": "ff",
                    "terms": {
                        "model": "FIXED_FEE",
                        "milestones": [
                            {
                                "milestone_id": "m1",
                                "display_name": "Design",
                                "amount": {"currency": "USD", "amount": "12500"},
                            }
                        ],
                    },
                },
                {"line_id": "ex", "terms": {"model": "PASS_THROUGH_EXPENSES", "markup_percent": "5"}},
            ],
        }
    )


def _time(n: int) -> c.SubmitTimeEntries:
    return c.SubmitTimeEntries.model_validate(
        {
            "entries": [
                {
                    "entry_id": f"t{i}",
                    "billing_line_id": "tm",
                    "person": f"p{i % 4}",
                    "role": ("engineer", "architect")[i % 2],
                    "work_date": (START + timedelta(days=i)).isoformat(),
                    "hours": ("7.5", "8", "6.25")[i % 3],
                }
                for i in range(20)
            ]
        }
    )


def _expenses() -> c.SubmitExpenses:
    return c.SubmitExpenses.model_validate(
        {
            "expenses": [
                {
                    "expense_id": f"x{i}",
                    "billing_line_id": "ex",
                    "category": "travel",
                    "incurred_date": "2026-01-10",
                    "amount": {"currency": "USD", "amount": ("412.35", "87.90")[i]},
                }
                for i in range(2)
            ]
        }
    )


def steps(rate_card_id: str) -> list[Callable[[int, str], Any]]:
    """The commands that take one engagement from nothing to ready-to-bill."""
    return [
        lambda n, cust: c.CreateEngagement(customer_id=cust, display_name=f"Engagement {n}"),
        lambda n, cust: c.QualifyEngagement(),
        lambda n, cust: c.CloseWonEngagement(),
        lambda n, cust: _contract(rate_card_id, n),
        lambda n, cust: c.ActivateEngagement(project_template_id="tpl", start_date=START),
        lambda n, cust: _time(n),
        lambda n, cust: c.ApproveTimeEntries(entry_ids=[f"t{i}" for i in range(20)]),
        lambda n, cust: _expenses(),
        lambda n, cust: c.ApproveExpenses(expense_ids=["x0", "x1"]),
        lambda n, cust: c.CompleteMilestone(milestone_id="m1"),
        lambda n, cust: c.AcceptMilestone(milestone_id="m1"),
    ]


def reference_data(runtime: LocalRuntime) -> tuple[list[str], str]:
    """A few customers and one rate card."""
    customers = [
        runtime.catalog.create_customer(
            CALLER,
            f"cust-{i}",
            CustomerSpec(
                display_name=f"Customer {i}",
                legal_entity=f"Customer {i} Ltd",
                billing_currency="USD",
                tax_profile=TaxProfile(jurisdiction="US-NY", rate="0.08875"),
                service_line="Consulting",
            ),
        ).customer_id
        for i in range(10)
    ]
    card = runtime.catalog.create_rate_card(
        CALLER,
        "rates",
        None,
        RateCardSpec(
            currency="USD",
            effective_from=date(2026, 1, 1),
            rates={"engineer": Money.of("165", "USD"), "architect": Money.of("233.333", "USD")},
        ),
    )
    return customers, card.rate_card_id


async def seed(url: str, engagements: int, log: Callable[[str], None] = print) -> list[str]:
    """Seed `engagements` billable engagements; returns their ids."""
    store = Store.open(url)
    host = EngagementHost(store, max_batch=WAVE, max_resident=WAVE)
    runtime = LocalRuntime(store, host)
    customers, card = reference_data(runtime)
    ids = [new_resource_id(TENANT, f"eng-{n}", "engagement") for n in range(engagements)]
    started = time.perf_counter()
    for first in range(0, engagements, WAVE):
        wave = list(range(first, min(first + WAVE, engagements)))
        for make in steps(card):
            commands = [make(n, customers[n % len(customers)]) for n in wave]
            envelopes = [
                CommandEnvelope(
                    caller=APPROVER if isinstance(command, APPROVALS) else CALLER,
                    engagement_id=ids[n],
                    slim_reply=True,
                    command=command,
                )
                for n, command in zip(wave, commands, strict=True)
            ]
            results = await host.submit_many(envelopes)
            failed = [r.error for r in results if r.error]
            if failed:
                raise RuntimeError(f"seeding failed: {failed[:3]}")
        log(f"seeded {wave[-1] + 1}/{engagements} in {time.perf_counter() - started:.1f}s")
    await runtime.close()
    store.close()
    return ids


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        asyncio.run(seed(f"sqlite:///{d}/seed.db", int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
