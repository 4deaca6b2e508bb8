"""The bound check's parse of a decimal is reused by the converter: same value, same refusals."""

from __future__ import annotations

import pytest

from q2c_core.domain import limits as lim
from q2c_core.edge.converters import wire_decimals
from q2c_core.edge.converters.wire_decimals import wire_decimal


def test_a_parsed_string_is_parsed_once_and_gives_the_parsers_value() -> None:
    first = wire_decimal("7.50", lim.HOURS)
    assert first == lim.parse_wire_decimal("7.50", lim.HOURS)
    assert str(first) == "7.50"  # the exponent is the string's, not a normalized one
    assert wire_decimal("7.50", lim.HOURS) is first


@pytest.mark.parametrize("text", ["24.01", "1e1", " 7", "-1", "7.555", "", "٣"])
def test_a_refused_string_is_refused_with_the_parsers_words_every_time(text: str) -> None:
    with pytest.raises(ValueError) as expected:
        lim.parse_wire_decimal(text, lim.HOURS)
    for _ in range(2):
        with pytest.raises(ValueError) as refused:
            wire_decimal(text, lim.HOURS)
        assert str(refused.value) == str(expected.value)


def test_the_same_string_is_judged_by_each_kind_on_its_own() -> None:
    assert wire_decimal("30", lim.MONEY) == 30
    with pytest.raises(ValueError, match="at most 24"):
        wire_decimal("30", lim.HOURS)


def test_the_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire_decimals, "PARSED_DECIMALS", 8)
    monkeypatch.setattr(wire_decimals, "_PARSED", {})
    for n in range(50):
        assert wire_decimal(str(n), lim.MONEY) == n
        assert len(wire_decimals._PARSED) <= 8
