"""rate_on (pricing and time submission): the newest revision effective on a day, as max() over the
effective ones picked it (the first listed of equal revisions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from q2c_core.domain.money import Money
from q2c_core.domain.pricing import rate_on
from q2c_core.domain.reference import RateCard

DAY0 = date(2026, 1, 1)


def _card(n: int, revision: int, start: int, length: int | None) -> RateCard:
    return RateCard(
        rate_card_id=f"rc-{n}",  # tells equal revisions apart
        revision=revision,
        currency="USD",
        effective_from=DAY0 + timedelta(days=start),
        effective_to=None if length is None else DAY0 + timedelta(days=start + length),
        rates={"engineer": Money.of("100", "USD")},
        create_time=datetime(2025, 12, 1, tzinfo=UTC),
    )


specs = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 20), st.none() | st.integers(0, 20)), max_size=6)


@given(specs, st.integers(-2, 45))
def test_rate_on_is_the_newest_effective_revision(
    cards: list[tuple[int, int, int | None]], offset: int
) -> None:
    revisions = [_card(n, *spec) for n, spec in enumerate(cards)]
    day = DAY0 + timedelta(days=offset)
    effective = [card for card in revisions if card.effective_on(day)]
    expected = max(effective, key=lambda card: card.revision) if effective else None
    assert rate_on(revisions, day) is expected
