"""Every event has exactly one evolve rule, in explicit tables (no registration by import)."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from q2c_core.domain import events as ev
from q2c_core.domain import evolve_billing, evolve_lifecycle
from q2c_core.domain.engagement import rule_table
from q2c_core.domain.evolve import RULES, apply_event

DOMAIN = Path(__file__).resolve().parents[2] / "q2c_core" / "domain"
EVENT_TYPES: tuple[type, ...] = typing.get_args(typing.get_args(ev.Event)[0])


def test_every_event_type_has_an_evolve_rule() -> None:
    assert len(EVENT_TYPES) > 20
    assert [t.__name__ for t in EVENT_TYPES if t not in RULES] == []


def test_the_rule_tables_do_not_overlap() -> None:
    assert set(evolve_lifecycle.RULES).isdisjoint(evolve_billing.RULES)
    assert len(RULES) == len(evolve_lifecycle.RULES) + len(evolve_billing.RULES)


def test_a_second_rule_for_one_event_type_is_refused() -> None:
    _, rule = rule_table()

    def first(event: ev.EngagementQualified, state: typing.Any, at: typing.Any) -> dict[str, typing.Any]:
        return {}

    rule(first)
    with pytest.raises(ValueError, match="two evolve rules"):
        rule(first)


def test_an_event_without_a_rule_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="no evolve rule"):
        apply_event(object(), None, None)  # type: ignore[arg-type]


def test_the_domain_has_no_import_cycle_between_engagement_and_its_rules() -> None:
    source = (DOMAIN / "engagement.py").read_text()
    imported = [
        node.module
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module
    ]
    assert not [m for m in imported if m.startswith("q2c_core.domain.evolve")]
