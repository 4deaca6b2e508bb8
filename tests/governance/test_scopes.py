"""The scope table (q2c_core/edge/auth/scopes.py) covers exactly the RPCs of q2c.v1 and only names known
scopes; docs/security.md is generated from it by scripts/gen_security_docs.py and kept fresh."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor  # type: ignore[import-untyped]

from q2c_core.edge.app import SERVICE_NAMES
from q2c_core.edge.auth.scopes import METHOD_SCOPES, SCOPES
from tests.governance.helpers import ROOT, output, run

SECURITY_MD = ROOT / "docs" / "security.md"
SCRIPT = ROOT / "scripts" / "gen_security_docs.py"
BEGIN, END = "<!-- BEGIN GENERATED SCOPES -->", "<!-- END GENERATED SCOPES -->"


def methods() -> dict[str, MethodDescriptor]:
    """Every RPC of every q2c.v1 service, by the full name gRPC reports, from the generated code."""
    found = {}
    for path in sorted((ROOT / "q2c" / "v1").glob("*_pb2.py")):
        module = importlib.import_module(f"q2c.v1.{path.stem}")
        for svc in module.DESCRIPTOR.services_by_name.values():
            found.update({f"/{svc.full_name}/{m.name}": m for m in svc.methods})
    return found


def sample_requests(method: MethodDescriptor) -> Iterator[object]:
    """The empty request of method, then one per value of each of its top-level enum fields."""
    cls = message_factory.GetMessageClass(method.input_type)
    yield cls()
    for field in method.input_type.fields:
        if field.type == FieldDescriptor.TYPE_ENUM and not field.is_repeated:
            for value in field.enum_type.values:
                yield cls(**{field.name: value.number})


def generate(*args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, str(SCRIPT), *args], cwd=ROOT)


def test_every_served_service_is_walked() -> None:
    walked = {name.split("/")[1] for name in methods()}
    assert set(SERVICE_NAMES) <= walked


def test_every_rpc_of_every_q2c_v1_service_is_in_the_scope_table() -> None:
    missing = sorted(set(methods()) - set(METHOD_SCOPES))
    assert missing == [], f"RPCs without a scope (the server refuses them): {missing}"


def test_every_scope_table_entry_is_a_real_rpc() -> None:
    unknown = sorted(set(METHOD_SCOPES) - set(methods()))
    assert unknown == [], f"scope table entries naming no q2c.v1 RPC: {unknown}"


def test_every_scope_an_rpc_needs_is_a_known_scope() -> None:
    rpcs = methods()
    for name, rule in METHOD_SCOPES.items():
        if isinstance(rule, str):
            assert rule in SCOPES, f"{name} needs unknown scope {rule!r}"
            continue
        assert name in rpcs, f"{name} has a rule but is no RPC, so its requests cannot be built"
        for request in sample_requests(rpcs[name]):
            needed = rule(request)
            assert needed, f"{name} needs no scope for {request}"
            assert set(needed) <= set(SCOPES), f"{name} needs unknown scope(s) {needed}"


def test_the_committed_security_docs_are_fresh() -> None:
    result = generate("--check")
    assert result.returncode == 0, output(result)


def test_the_security_docs_list_every_rpc_under_its_service() -> None:
    text = SECURITY_MD.read_text(encoding="utf-8")
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0]
    for scope in SCOPES:
        assert f"| `{scope}` | {SCOPES[scope]} |" in generated
    for name in methods():
        service, rpc = name.strip("/").split("/")
        section = generated.split(f"#### {service}\n", 1)[1].split("\n#### ", 1)[0]
        assert f"| `{rpc}` | " in section, name


def test_check_fails_on_a_stale_copy_and_a_rewrite_keeps_the_hand_written_text(tmp_path: Path) -> None:
    copy = tmp_path / "security.md"
    hand_written = "\n## Audit log\n\nWritten by hand.\n"
    fresh = SECURITY_MD.read_text(encoding="utf-8")
    stale = fresh.replace("| `customers:read` | read customers |", "| `customers:read` | read all |")
    assert stale != fresh
    copy.write_text(stale + hand_written, encoding="utf-8")

    result = generate("--check", "--out", str(copy))
    assert result.returncode == 1 and "stale" in result.stderr, output(result)
    assert generate("--out", str(copy)).returncode == 0
    assert copy.read_text(encoding="utf-8") == fresh + hand_written
    assert generate("--check", "--out", str(copy)).returncode == 0


def test_a_missing_file_is_stale_and_then_created_with_the_scopes_section(tmp_path: Path) -> None:
    copy = tmp_path / "docs" / "security.md"
    assert generate("--check", "--out", str(copy)).returncode == 1
    assert generate("--out", str(copy)).returncode == 0
    assert copy.read_text(encoding="utf-8").startswith(f"# Security\n\n## Scopes\n\n{BEGIN}\n")


def test_a_file_without_the_markers_gets_the_scopes_section_appended(tmp_path: Path) -> None:
    copy = tmp_path / "security.md"
    copy.write_text("# Security\n\n## Audit log\n\nWritten by hand.\n", encoding="utf-8")
    assert generate("--check", "--out", str(copy)).returncode == 1
    assert generate("--out", str(copy)).returncode == 0
    text = copy.read_text(encoding="utf-8")
    assert text.startswith("# Security\n\n## Audit log\n\nWritten by hand.\n\n## Scopes\n\n" + BEGIN)
    assert text.endswith(END + "\n")
