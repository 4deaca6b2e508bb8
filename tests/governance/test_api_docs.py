"""docs/api.md: generated from the .proto comments by scripts/gen_api_docs.py, kept fresh,
covering every service and RPC; and the comment check (every RPC, field, ... has a comment)."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from google.protobuf.descriptor import ServiceDescriptor  # type: ignore[import-untyped]

from tests.governance.helpers import PROTOS, ROOT, output, run

API_MD = ROOT / "docs" / "api.md"
SCRIPT = ROOT / "scripts" / "gen_api_docs.py"


@functools.cache
def gen_api_docs() -> ModuleType:
    """scripts/gen_api_docs.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("gen_api_docs", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_api_docs"] = module
    spec.loader.exec_module(module)
    return module


def services() -> list[ServiceDescriptor]:
    """Every q2c.v1 service, from the generated code (not from the docs generator)."""
    found = []
    for proto in sorted((PROTOS / "q2c" / "v1").glob("*.proto")):
        module = importlib.import_module(f"q2c.v1.{proto.stem}_pb2")
        found += list(module.DESCRIPTOR.services_by_name.values())
    return found


def test_api_md_is_fresh() -> None:
    result = run([sys.executable, str(SCRIPT), "--check"], cwd=ROOT)
    assert result.returncode == 0, output(result)


def test_api_md_names_every_service_and_rpc_with_its_errors() -> None:
    text = API_MD.read_text(encoding="utf-8")
    assert len(services()) >= 6
    for svc in services():
        assert f"### {svc.full_name}\n" in text
        for method in svc.methods:
            heading = f"#### {svc.name}.{method.name}\n"
            assert heading in text, heading
            section = text.split(heading, 1)[1].split("\n#### ", 1)[0]
            assert "| Code | Reason | When |" in section, f"{svc.name}.{method.name} lists no errors"


def test_api_md_marks_streaming_and_field_behavior() -> None:
    text = API_MD.read_text(encoding="utf-8")
    assert "stream [`BillRun`](#q2c-v1-billrun)) — server streaming" in text
    assert "`OUTPUT_ONLY`" in text
    assert "### `q2c/v1/common.proto`" in text and "REQUEST_ID_REUSED" in text  # the error model


def test_errors_part_of_a_comment_is_parsed_into_reasons() -> None:
    gen = gen_api_docs()
    reasons, note, problems = gen.parse_errors(
        "NOT_FOUND (ENGAGEMENT_NOT_FOUND, CUSTOMER_NOT_FOUND), FAILED_PRECONDITION\n"
        "(INVALID_STATE; NOT_READY: a blocker (MISSING_PO_REFERENCE, X), metadata `blockers`;\n"
        "NOTHING_TO_BILL: no billable item), INVALID_ARGUMENT (VALIDATION_FAILED: bad period;\n"
        "end before start). Checked in that order."
    )
    assert problems == []
    assert [(r.code, r.reason) for r in reasons] == [
        ("NOT_FOUND", "ENGAGEMENT_NOT_FOUND"),
        ("NOT_FOUND", "CUSTOMER_NOT_FOUND"),
        ("FAILED_PRECONDITION", "INVALID_STATE"),
        ("FAILED_PRECONDITION", "NOT_READY"),
        ("FAILED_PRECONDITION", "NOTHING_TO_BILL"),
        ("INVALID_ARGUMENT", "VALIDATION_FAILED"),
    ]
    assert reasons[3].detail == "a blocker (MISSING_PO_REFERENCE, X), metadata `blockers`"
    assert reasons[5].detail == "bad period; end before start"
    assert note == "Checked in that order."

    _, _, bad = gen.parse_errors("NOT_A_CODE (SOMETHING), NOT_FOUND")
    assert any("NOT_A_CODE" in p for p in bad) and any("no (REASON)" in p for p in bad)


SCRATCH = """\
// A scratch file for the comment check.
syntax = "proto3";

package q2c.v1;

// A scratch service.
service ScratchService {
  // Returns one thing.
  // Errors: NOT_FOUND (THING_NOT_FOUND).
  rpc GetThing(GetThingRequest) returns (Thing);
}

// Request of GetThing.
message GetThingRequest {
  // The thing's id.
  string thing_id = 1;
}

// A thing.
message Thing {
  // The thing's id.
  string thing_id = 1;
  // Its name.
  string name = 2;
  // Its colour.
  Colour colour = 3;
}

// A colour.
enum Colour {
  // Not set.
  COLOUR_UNSPECIFIED = 0;
  // Red.
  COLOUR_RED = 1;
}
"""

BROKEN = {
    "uncommented field": ("  // Its name.\n", "", "missing comment: field q2c.v1.Thing.name"),
    "uncommented rpc": (
        "  // Returns one thing.\n  // Errors: NOT_FOUND (THING_NOT_FOUND).\n",
        "",
        "missing comment: rpc q2c.v1.ScratchService.GetThing",
    ),
    "uncommented message": ("// A thing.\n", "", "missing comment: message q2c.v1.Thing"),
    "uncommented service": ("// A scratch service.\n", "", "missing comment: service q2c.v1.ScratchService"),
    "uncommented enum value": ("  // Red.\n", "", "missing comment: enum value q2c.v1.Colour.COLOUR_RED"),
    "rpc without errors": (
        "  // Errors: NOT_FOUND (THING_NOT_FOUND).\n",
        "",
        "rpc q2c.v1.ScratchService.GetThing: comment has no 'Errors:' part",
    ),
    "unknown status code": ("Errors: NOT_FOUND (", "Errors: MISSING (", "'MISSING' is not a canonical gRPC"),
}


def write_scratch(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "protos"
    (root / "q2c" / "v1").mkdir(parents=True)
    (root / "q2c" / "v1" / "scratch.proto").write_text(text, encoding="utf-8")
    return root


def docs(root: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, str(SCRIPT), "--proto-root", str(root), "--out", str(out), *args], cwd=ROOT)


def test_a_fully_commented_scratch_proto_passes(tmp_path: Path) -> None:
    root = write_scratch(tmp_path, SCRATCH)
    out = tmp_path / "api.md"
    result = docs(root, out)
    assert result.returncode == 0, output(result)
    assert "#### ScratchService.GetThing" in out.read_text(encoding="utf-8")
    assert docs(root, out, "--check").returncode == 0


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_comment_check_fails_on_a_missing_comment(tmp_path: Path, case: str) -> None:
    old, new, message = BROKEN[case]
    assert SCRATCH.count(old) == 1
    root = write_scratch(tmp_path, SCRATCH.replace(old, new))
    result = docs(root, tmp_path / "api.md", "--check")
    assert result.returncode == 1, output(result)
    assert message in result.stderr, result.stderr


def test_check_fails_when_the_docs_are_stale(tmp_path: Path) -> None:
    root = write_scratch(tmp_path, SCRATCH)
    out = tmp_path / "api.md"
    assert docs(root, out).returncode == 0
    proto = root / "q2c" / "v1" / "scratch.proto"
    proto.write_text(SCRATCH.replace("// Its name.", "// Its display name."), encoding="utf-8")
    result = docs(root, out, "--check")
    assert result.returncode == 1
    assert "stale" in result.stderr


def test_a_reason_missing_from_the_error_model_is_reported() -> None:
    gen = gen_api_docs()
    fds = gen.build_descriptor_set(PROTOS, gen.gen_protos.proto_files())
    assert gen.load_api(fds).problems == []
    for loc in next(f for f in fds.file if f.name == "q2c/v1/customer.proto").source_code_info.location:
        if "Errors: NOT_FOUND (CUSTOMER_NOT_FOUND)." in loc.leading_comments:
            loc.leading_comments = loc.leading_comments.replace("CUSTOMER_NOT_FOUND", "CUSTOMER_GONE")
            break
    else:
        pytest.fail("GetCustomer's comment changed; update this test")
    problems = gen.load_api(fds).problems
    assert any("reason CUSTOMER_GONE is not in the error model" in p for p in problems), problems
