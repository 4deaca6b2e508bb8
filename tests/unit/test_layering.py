"""The pure core stays pure: no transport, store, cluster or generated code, and no hidden clock or dice."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "q2c_core"
DOMAIN = CORE / "domain"

FORBIDDEN_IN_DOMAIN = ("grpc", "ray", "sqlalchemy", "google.protobuf", "q2c")
# Calls that read the clock or make up ids/randomness; the core takes `now` and ids as arguments.
FORBIDDEN_CALLS = (
    "datetime.now",
    "datetime.utcnow",
    "datetime.today",
    "date.today",
    "datetime.datetime.now",
    "datetime.datetime.utcnow",
    "datetime.date.today",
    "uuid.uuid1",
    "uuid.uuid4",
    "uuid4",
    "uuid1",
    "time.time",
)
FORBIDDEN_CALL_PREFIXES = ("random.", "secrets.")


def imported_modules(tree: ast.AST) -> list[str]:
    """Every module an import statement names (absolute imports; relative ones are local)."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def called_names(tree: ast.AST) -> list[str]:
    """Dotted names of everything called (`datetime.now()` -> "datetime.now")."""
    return [name for node in ast.walk(tree) if isinstance(node, ast.Call) and (name := dotted(node.func))]


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def impurities(source: str) -> list[str]:
    """What in this source breaks the pure-core rules."""
    tree = ast.parse(source)
    found = [
        f"imports {module}"
        for module in imported_modules(tree)
        if any(is_under(module, banned) for banned in (*FORBIDDEN_IN_DOMAIN, "random", "secrets"))
    ]
    found += [
        f"calls {name}"
        for name in called_names(tree)
        if name in FORBIDDEN_CALLS or name.startswith(FORBIDDEN_CALL_PREFIXES)
    ]
    return found


DOMAIN_FILES = sorted(DOMAIN.glob("*.py"))
CORE_FILES = sorted(CORE.rglob("*.py"))


def test_there_are_domain_and_core_modules_to_check() -> None:
    names = {path.name for path in DOMAIN_FILES}
    assert {"money.py", "lifecycle.py", "decide.py", "engagement.py"} <= names
    assert len(CORE_FILES) >= len(DOMAIN_FILES)


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_domain_module_is_pure(path: Path) -> None:
    assert impurities(path.read_text()) == []


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_never_imports_ray(path: Path) -> None:
    modules = imported_modules(ast.parse(path.read_text()))
    assert [m for m in modules if is_under(m, "ray")] == []


@pytest.mark.parametrize(
    ("source", "finding"),
    [
        ("import grpc", "imports grpc"),
        ("from ray import remote", "imports ray"),
        ("import sqlalchemy.orm", "imports sqlalchemy.orm"),
        ("from google.protobuf import timestamp_pb2", "imports google.protobuf"),
        ("from q2c.v1 import engagement_pb2", "imports q2c.v1"),
        ("import random", "imports random"),
        ("from datetime import datetime\nx = datetime.now()", "calls datetime.now"),
        ("import datetime\nx = datetime.datetime.utcnow()", "calls datetime.datetime.utcnow"),
        ("import uuid\nx = uuid.uuid4()", "calls uuid.uuid4"),
        ("from uuid import uuid4\nx = uuid4()", "calls uuid4"),
        ("x = random.choice([1, 2])", "calls random.choice"),
    ],
)
def test_the_purity_check_catches_each_forbidden_thing(source: str, finding: str) -> None:
    assert finding in impurities(source)


def test_the_purity_check_allows_the_core_s_own_imports() -> None:
    source = "from q2c_core.domain.money import Money\nfrom datetime import date\nx = date(2025, 1, 1)"
    assert impurities(source) == []
