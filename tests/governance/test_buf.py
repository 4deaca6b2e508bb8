"""buf lint and buf breaking, as CI runs them (scripts/buf_lint.sh, scripts/check_breaking.sh).

The breaking-change check is tested on itself: a scratch git repo holds the current protos as
its first commit; a second commit changes them and check_breaking.sh (which compares the
working tree with HEAD~1, as CI does on main) must fail naming the change, or pass when the
change is compatible.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.governance.helpers import ROOT, commit, edit_message, git, output, run

ENGAGEMENT = Path("protos/q2c/v1/engagement.proto")


def check_breaking(
    repo: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run(["bash", "scripts/check_breaking.sh", *args], cwd=repo, env=env)


def retype(repo: Path, declaration: str, old: str, new: str) -> None:
    """Change the type of one field of message Engagement."""
    edit_message(repo / ENGAGEMENT, "Engagement", f"  {old} {declaration}\n", f"  {new} {declaration}\n")


def test_buf_lint_passes_on_the_repo_protos() -> None:
    result = run(["bash", "scripts/buf_lint.sh"], cwd=ROOT)
    assert result.returncode == 0, output(result)
    assert "buf lint: OK" in result.stdout


def test_buf_lint_fails_on_a_badly_named_enum(scratch_repo: Path) -> None:
    with (scratch_repo / ENGAGEMENT).open("a", encoding="utf-8") as f:
        f.write("\n// Scratch.\nenum badEnum {\n  // Zero.\n  FOO = 0;\n}\n")
    result = run(["bash", "scripts/buf_lint.sh"], cwd=scratch_repo)
    assert result.returncode != 0, output(result)
    assert "badEnum" in output(result)
    assert "ENUM_PASCAL_CASE" in output(result) or "PascalCase" in output(result)


BREAKING_CHANGES = {
    "field type changed": (
        "  string opportunity_ref = 4;\n",
        "  int64 opportunity_ref = 4;\n",
        ['"opportunity_ref"', 'changed type from "string" to "int64"'],
    ),
    "field renumbered": (
        "  string display_name = 3;\n",
        "  string display_name = 30;\n",
        ['"display_name"', '"3"'],
    ),
    "field deleted": (
        '  // Service line, e.g. "CONSULTING"; defaults to the customer\'s service_line.\n'
        "  string service_line = 5;\n",
        "",
        ['"service_line"', "deleted"],
    ),
}


@pytest.mark.parametrize("change", sorted(BREAKING_CHANGES))
def test_a_breaking_change_is_caught(scratch_repo: Path, change: str) -> None:
    old, new, expected = BREAKING_CHANGES[change]
    edit_message(scratch_repo / ENGAGEMENT, "Engagement", old, new)
    commit(scratch_repo, f"breaking: {change}")

    result = check_breaking(scratch_repo)

    assert result.returncode != 0, output(result)
    assert "engagement.proto" in output(result)
    assert 'message "Engagement"' in output(result)
    for text in expected:
        assert text in output(result), output(result)
    assert "FAILED" in result.stderr


def test_a_compatible_change_passes(scratch_repo: Path) -> None:
    edit_message(
        scratch_repo / ENGAGEMENT,
        "Engagement",
        "  string engagement_id = 1;\n",
        "  string engagement_id = 1;\n"
        "  // A field added by the governance test.\n"
        "  string scratch_note = 999;\n",
    )
    commit(scratch_repo, "compatible: a new field with a new number")

    result = check_breaking(scratch_repo)

    assert result.returncode == 0, output(result)
    assert "buf breaking against" in result.stdout and ": OK" in result.stdout
    lint = run(["bash", "scripts/buf_lint.sh"], cwd=scratch_repo)
    assert lint.returncode == 0, output(lint)


def test_uncommitted_breaking_change_is_caught_against_an_explicit_ref(scratch_repo: Path) -> None:
    retype(scratch_repo, "opportunity_ref = 4;", "string", "bytes")
    result = check_breaking(scratch_repo, "--against", "HEAD")
    assert result.returncode != 0, output(result)
    assert '"opportunity_ref"' in output(result)


def test_first_commit_skips_with_a_message(scratch_repo: Path) -> None:
    result = check_breaking(scratch_repo)
    assert result.returncode == 0, output(result)
    assert "SKIPPED" in result.stdout and "first commit" in result.stdout

    strict = check_breaking(scratch_repo, env={"Q2C_REQUIRE_BREAKING_CHECK": "1"})
    assert strict.returncode != 0, output(strict)


def test_no_release_tag_skips_and_a_tag_is_used_when_present(scratch_repo: Path) -> None:
    result = check_breaking(scratch_repo, "--last-tag")
    assert result.returncode == 0 and "no release tag" in result.stdout, output(result)

    git(scratch_repo, "tag", "v1.0.0")
    retype(scratch_repo, "opportunity_ref = 4;", "string", "int32")
    commit(scratch_repo, "breaking after the release")
    tagged = check_breaking(scratch_repo, "--last-tag")
    assert tagged.returncode != 0, output(tagged)
    assert "last release tag v1.0.0" in tagged.stdout
