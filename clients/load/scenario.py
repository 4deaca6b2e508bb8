"""The month-end plan: from a profile and a seed, every customer, rate card, engagement and
command `q2c load` sends, in order, each with its own request id.

The plan is plain frozen data (picklable, shipped to worker processes) and depends only on the
profile, the seed and the run tag (the request ids' prefix, so a second run against the same
server never replays the first's results). Ids the server assigns (customer, rate card and
engagement ids) are not in the plan; the driver maps plan keys to them as it goes.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal

from clients.load.expect import expected_invoice
from clients.load.plan import (
    ChangeOrder,
    CustomerPlan,
    EngagementPlan,
    ExpensePlan,
    MilestonePlan,
    Plan,
    RateCardPlan,
    TimeEntryPlan,
    quantize,
)
from clients.load.profile import CURRENCY_PLACES, Profile
from clients.load.scripts import with_scripts

ROLES = ("architect", "engineer", "analyst")
BASE_RATES = {"architect": Decimal("225"), "engineer": Decimal("165.5"), "analyst": Decimal("133.333")}
"""USD hourly rates; other currencies scale them (analyst's third decimal tests line rounding)."""
CURRENCY_SCALE = {
    "USD": Decimal(1),
    "EUR": Decimal("0.9"),
    "GBP": Decimal("0.8"),
    "CHF": Decimal("0.85"),
    "CAD": Decimal("1.35"),
    "AUD": Decimal("1.5"),
    "JPY": Decimal(150),
    "KWD": Decimal("0.31"),
}
PREMIUM = Decimal("1.1")
"""A rate change order moves a T&M line to the currency's premium card: rates x 1.1."""
MARKUPS = (Decimal(0), Decimal(5), Decimal(10), Decimal("12.5"))
TAX_RATES = (Decimal("0.08875"), Decimal("0.19"), Decimal("0.2"), Decimal("0.1"), Decimal("0.0725"))
SUBSCRIPTION_UNITS = ("MONTH", "QUARTER", "YEAR")
MODELS = ("time_and_materials", "nte_capped", "fixed_fee", "retainer", "subscription", "pass_through")
TIME_MODELS = ("time_and_materials", "nte_capped")


def _amount(rng: random.Random, low: int, high: int, currency: str) -> Decimal:
    """A random amount between low and high USD-equivalents, with minor units."""
    places = CURRENCY_PLACES[currency]
    scaled = Decimal(rng.randint(low * 100, high * 100)) / 100 * CURRENCY_SCALE[currency]
    return scaled.quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")


def rate_cards(currencies: list[str]) -> tuple[RateCardPlan, ...]:
    """A standard and a premium card per currency."""
    cards = []
    for currency in currencies:
        base = {role: rate * CURRENCY_SCALE[currency] for role, rate in BASE_RATES.items()}
        if CURRENCY_PLACES[currency] == 0:
            base = {role: rate.quantize(Decimal(1)) for role, rate in base.items()}
        cards.append(RateCardPlan(f"{currency}-standard", currency, base))
        premium = {role: (rate * PREMIUM).normalize() for role, rate in base.items()}
        cards.append(RateCardPlan(f"{currency}-premium", currency, premium))
    return tuple(cards)


def customers(profile: Profile, rng: random.Random) -> tuple[CustomerPlan, ...]:
    """The customers, each with a currency drawn from the profile's weights and a tax profile."""
    names, weights = zip(*profile.currencies.items(), strict=True)
    made = []
    for i in range(profile.customers):
        currency = rng.choices(names, weights)[0]
        exempt = rng.random() < profile.tax_exempt_ratio
        rate = Decimal(0) if exempt else rng.choice(TAX_RATES)
        made.append(CustomerPlan(f"C{i + 1:04d}", currency, rate, exempt, f"LOAD-{i % 7}"))
    return tuple(made)


def build(profile: Profile, seed: int, run_tag: str) -> Plan:
    """The whole plan; the same profile, seed and tag always give the same plan."""
    rng = random.Random(seed)
    start, end = profile.period_bounds()
    made_customers = customers(profile, rng)
    cards = rate_cards(sorted({c.currency for c in made_customers}))
    by_key = {card.key: card for card in cards}
    models, weights = zip(*profile.billing_mix.weights().items(), strict=True)
    engagements = []
    for i in range(profile.engagements):
        customer = made_customers[i % len(made_customers)]
        model = rng.choices(models, weights)[0]
        plan = engagement(profile, rng, f"E{i + 1:05d}", customer, model, (start, end))
        invoiced = expected_invoice(plan, customer, by_key, (start, end)).exists
        engagements.append(with_scripts(plan, run_tag, profile.time_batch, profile.expense_batch, invoiced))
    return Plan(run_tag, profile.period, start, end, made_customers, cards, tuple(engagements))


def engagement(
    profile: Profile,
    rng: random.Random,
    key: str,
    customer: CustomerPlan,
    model: str,
    period: tuple[date, date],
) -> EngagementPlan:
    """One engagement's terms and work, drawn from the profile."""
    start, end = period
    currency = customer.currency
    late_start = rng.random() < profile.mid_month_start_ratio
    start_date = start + timedelta(days=rng.randint(1, 7)) if late_start else start
    entries = _time_entries(profile, rng, start_date, end) if model in TIME_MODELS else ()
    card = f"{currency}-standard"
    cap = None
    if model == "nte_capped":
        cap = _cap(rng, entries, BASE_RATES, currency)
    change = None
    if model in TIME_MODELS and rng.random() < profile.change_order_ratio:
        effective = start + timedelta(days=rng.randint(10, 19))
        raise_cap = cap is not None and rng.random() < 0.5
        new_cap = quantize(cap * Decimal("1.25"), currency) if raise_cap and cap is not None else cap
        new_card = card if raise_cap else f"{currency}-premium"
        change = ChangeOrder(effective, new_card, new_cap)
    milestones: tuple[MilestonePlan, ...] = ()
    if model == "fixed_fee":
        milestones = tuple(
            MilestonePlan(
                f"m{j + 1}", _amount(rng, 2000, 30000, currency), rng.random() < profile.approval_ratio
            )
            for j in range(profile.milestones)
        )
    return EngagementPlan(
        key=key,
        customer=customer.key,
        model=model,
        currency=currency,
        contract_start=start,
        contract_end=start.replace(year=start.year + 1) - timedelta(days=1),
        start_date=start_date,
        rate_card=card,
        cap=cap,
        markup=rng.choice(MARKUPS) if profile.expenses or model == "pass_through" else None,
        retainer=_amount(rng, 2000, 12000, currency) if model == "retainer" else None,
        subscription=_amount(rng, 300, 5000, currency) if model == "subscription" else None,
        subscription_unit=rng.choice(SUBSCRIPTION_UNITS),
        milestones=milestones,
        time_entries=entries,
        expenses=_expenses(profile, rng, start_date, end, currency, model),
        change_order=change,
        payment=rng.choices(
            ("full", "partial", "none"),
            (
                profile.payments.full,
                profile.payments.partial,
                1 - profile.payments.full - profile.payments.partial,
            ),
        )[0],
    )


def _time_entries(profile: Profile, rng: random.Random, first: date, last: date) -> tuple[TimeEntryPlan, ...]:
    days = (last - first).days + 1
    people = max(3, math.ceil(profile.time_entries / days) + 1)
    slots = rng.sample(range(people * days), profile.time_entries)
    entries = []
    for n, slot in enumerate(slots):
        person, day = divmod(slot, days)
        entries.append(
            TimeEntryPlan(
                entry_id=f"t{n + 1:04d}",
                person=f"p{person + 1:02d}",
                role=ROLES[person % len(ROLES)],
                work_date=first + timedelta(days=day),
                hours=Decimal(rng.randint(4, 40)) / 4,
                approved=rng.random() < profile.approval_ratio,
                late=rng.random() < profile.late_ratio,
            )
        )
    return tuple(entries)


def _cap(
    rng: random.Random, entries: tuple[TimeEntryPlan, ...], rates: dict[str, Decimal], currency: str
) -> Decimal:
    """A cap between half and 1.3x the period's approved hours at standard rates (often reached)."""
    worth = sum((e.hours * rates[e.role] for e in entries if e.approved and not e.late), Decimal(0))
    factor = Decimal(rng.randint(50, 130)) / 100
    return max(quantize(worth * CURRENCY_SCALE[currency] * factor, currency), Decimal(1))


def _expenses(
    profile: Profile, rng: random.Random, first: date, last: date, currency: str, model: str
) -> tuple[ExpensePlan, ...]:
    count = max(profile.expenses, 1) * 3 if model == "pass_through" else profile.expenses
    days = (last - first).days
    return tuple(
        ExpensePlan(
            expense_id=f"x{n + 1:04d}",
            category=rng.choice(("travel", "lodging", "meals", "software")),
            incurred_date=first + timedelta(days=rng.randint(0, days)),
            amount=_amount(rng, 5, 2500, currency),
            approved=rng.random() < profile.approval_ratio,
        )
        for n in range(count)
    )
