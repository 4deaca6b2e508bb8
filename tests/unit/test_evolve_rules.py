"""Every event has an evolve rule, whichever domain module a process imports first."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import pytest

from q2c_core.domain import events as ev
from q2c_core.domain.engagement import apply_event

ROOT = Path(__file__).resolve().parents[2]
EVENT_TYPES: tuple[type, ...] = typing.get_args(typing.get_args(ev.Event)[0])

MISSING_RULES = """
import typing
from q2c_core.domain import events as ev
from q2c_core.domain.engagement import apply_event
types = typing.get_args(typing.get_args(ev.Event)[0])
print(",".join(t.__name__ for t in types if t not in apply_event.registry))
"""


def test_every_event_type_has_an_evolve_rule() -> None:
    assert len(EVENT_TYPES) > 20
    assert [t.__name__ for t in EVENT_TYPES if t not in apply_event.registry] == []


@pytest.mark.parametrize("module", ["engagement", "evolve_lifecycle", "evolve_billing", "billing", "decide"])
def test_rules_are_registered_whichever_domain_module_is_imported_first(module: str) -> None:
    script = f"import q2c_core.domain.{module}\n{MISSING_RULES}"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
