"""Fixtures of the API governance tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.governance.helpers import PROTOS, ROOT, commit, git


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    """A throwaway git repo laid out like this one (buf.yaml, protos/, the governance scripts)
    whose first commit holds the current protos. The scripts find their root from their own
    location, so running the copies checks the scratch repo, never the real one."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for script in ("buf_lint.sh", "check_breaking.sh"):
        shutil.copy2(ROOT / "scripts" / script, repo / "scripts" / script)
    shutil.copy2(ROOT / "buf.yaml", repo / "buf.yaml")
    shutil.copytree(PROTOS, repo / "protos")
    git(repo, "init", "--quiet")
    git(repo, "config", "user.email", "governance-test@example.invalid")
    git(repo, "config", "user.name", "governance test")
    git(repo, "config", "commit.gpgsign", "false")
    commit(repo, "protos as on main")
    return repo
