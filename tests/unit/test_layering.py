"""The pure core stays pure: no transport, store, cluster or generated code, and no hidden clock or dice."""

from __future__ import annotations

import ast
import sys
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


DOMAIN_MAY_IMPORT = ("q2c_core.domain", "pydantic", "pydantic_core")
"""Besides the standard library: the domain's own package and pydantic (its models are pydantic)."""


def outside_imports(source: str) -> list[str]:
    """Modules a domain source imports that are neither stdlib nor in DOMAIN_MAY_IMPORT."""
    return [
        module
        for module in imported_modules(ast.parse(source))
        if module.split(".")[0] not in sys.stdlib_module_names
        and not any(is_under(module, allowed) for allowed in DOMAIN_MAY_IMPORT)
    ]


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_domain_module_imports_only_stdlib_pydantic_and_the_domain(path: Path) -> None:
    assert outside_imports(path.read_text()) == []


def test_the_domain_allow_list_catches_a_planted_import() -> None:
    assert outside_imports("import yaml\nfrom q2c_core.app.clock import utc_now") == [
        "yaml",
        "q2c_core.app.clock",
    ]
    assert (
        outside_imports("import decimal\nfrom pydantic import BaseModel\nfrom q2c_core.domain import money")
        == []
    )


def test_the_purity_check_allows_the_core_s_own_imports() -> None:
    source = "from q2c_core.domain.money import Money\nfrom datetime import date\nx = date(2025, 1, 1)"
    assert impurities(source) == []


# -- rooms ------------------------------------------------------------------------------------
ROOMS = ("domain", "app", "adapters", "edge")
TOP_LEVEL_MODULES = {"__init__.py", "settings.py", "bootstrap.py", "logs.py"}
"""q2c_core's top level holds the rooms, the settings and the composition root: nothing else."""
RULES: dict[str, tuple[str, ...]] = {
    "domain": ("q2c_core.app", "q2c_core.adapters", "q2c_core.edge", "q2c_core.bootstrap", "actors"),
    "app": (
        "q2c_core.edge",
        "q2c_core.adapters",
        "simulator",
        "q2c_core.bootstrap",
        "actors",
        "sqlalchemy",
        "grpc",
        "google.protobuf",
        "ray",
    ),
    "adapters": ("q2c_core.edge", "q2c_core.bootstrap", "actors"),
    "edge": ("q2c_core.adapters", "q2c_core.bootstrap", "actors"),
}
"""What each room may not import. Only q2c_core.bootstrap and actors/ import every side; which
ERP/PSA the app talks to is handed in (app.connectors.ConnectorFactory), never chosen in it, and
the app reaches the store through app.ports (Store, DeliveryStore), never an adapter."""


def room_of(path: Path) -> str | None:
    parts = path.relative_to(CORE).parts
    return parts[0] if len(parts) > 1 and parts[0] in ROOMS else None


def trespasses(room: str, source: str) -> list[str]:
    """The imports in `source` that the room's rule forbids."""
    modules = imported_modules(ast.parse(source))
    return [m for m in modules if any(is_under(m, banned) for banned in RULES[room])]


def test_the_top_level_of_q2c_core_holds_only_rooms_settings_and_bootstrap() -> None:
    loose = {p.name for p in CORE.glob("*.py")} - TOP_LEVEL_MODULES
    packages = {p.name for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert loose == set()
    assert packages == set(ROOMS)


@pytest.mark.parametrize(
    "path", [p for p in CORE_FILES if room_of(p)], ids=lambda p: str(p.relative_to(CORE))
)
def test_each_room_imports_only_what_its_rule_allows(path: Path) -> None:
    room = room_of(path)
    assert room is not None
    assert trespasses(room, path.read_text()) == []


@pytest.mark.parametrize(
    ("room", "source"),
    [
        ("edge", "from q2c_core.adapters.store import Store"),
        ("edge", "import q2c_core.adapters.store.schema"),
        ("app", "from q2c_core.edge.context import current_caller"),
        ("adapters", "from q2c_core.edge.errors import status_for"),
        ("domain", "from q2c_core.app.messages import Caller"),
        ("app", "from actors.runtime import RayRuntime"),
        ("app", "from q2c_core.adapters.erp.simulator_connectors import SimulatorErp"),
        ("app", "from simulator.client import SimulatorClient"),
        ("app", "from q2c_core.adapters.store import Store"),
        ("app", "from q2c_core.adapters.store.deliveries import DeliveryStore"),
        ("app", "import q2c_core.adapters.store.notify"),
        ("app", "from sqlalchemy import Engine"),
        ("app", "import grpc"),
        ("app", "from google.protobuf import timestamp_pb2"),
        ("edge", "from q2c_core.bootstrap import running"),
    ],
)
def test_the_room_rules_catch_a_planted_violation(room: str, source: str) -> None:
    assert trespasses(room, source) != []


def test_the_room_rules_allow_what_each_room_needs() -> None:
    assert trespasses("edge", "from q2c_core.app.ports import SecurityEventSink") == []
    assert trespasses("adapters", "from q2c_core.app.records import WriteBatch") == []
    assert trespasses("app", "from q2c_core.domain.money import Money") == []
    assert trespasses("app", "from q2c_core.app.ports import DeliveryStore, Store") == []
    assert trespasses("app", "from pydantic import Field") == []


MIGRATION_FILES = sorted((CORE / "adapters" / "store" / "migrations" / "versions").glob("*.py"))


@pytest.mark.parametrize("path", MIGRATION_FILES, ids=lambda p: p.name)
def test_a_migration_carries_frozen_copies_instead_of_importing_live_code(path: Path) -> None:
    modules = imported_modules(ast.parse(path.read_text()))
    assert [m for m in modules if is_under(m, "q2c_core")] == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, known: set[str]) -> set[str]:
    """q2c_core modules imported at module level (TYPE_CHECKING blocks and lazy imports aside)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found & known


def import_cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(group)

    for module in graph:
        if module not in index:
            visit(module)
    return cycles


def test_q2c_core_has_no_module_level_import_cycle() -> None:
    known = {_module_name(p) for p in CORE_FILES}
    graph = {_module_name(p): _top_level_imports(p, known) for p in CORE_FILES}
    assert import_cycles(graph) == []


def test_the_cycle_check_finds_a_planted_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [{"a", "b", "c"}]
