"""`q2c load` options: a file option naming a missing file is a usage error naming the option
(exit 2, before any connection), and every option is in `--help` and in docs/load-testing.md."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from clients.load.cli_options import build_parser
from clients.load.command import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--token-file", "/nonexistent/submitter.jwt", "--approver-token", "t2"], "--token-file"),
        (["--token", "t1", "--approver-token-file", "/nonexistent/a.jwt"], "--approver-token-file"),
        (
            ["--token", "t1", "--approver-token", "t2", "--tls-ca-file", "/nonexistent/ca.pem"],
            "--tls-ca-file",
        ),
    ],
)
def test_a_missing_file_is_a_usage_error_naming_the_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flags: list[str], named: str
) -> None:
    code = main(["--target", "127.0.0.1:1", "--no-live", "--report-dir", str(tmp_path / "r"), *flags])
    err = capsys.readouterr().err
    assert code == 2
    assert named in err and "/nonexistent/" in err
    assert not (tmp_path / "r").exists()


def _named(option: str, text: str) -> bool:
    """`option` appears in `text` as itself (not as the start of a longer option)."""
    return re.search(re.escape(option) + r"(?![-\w])", text) is not None


def _options() -> list[str]:
    return sorted(
        option
        for action in build_parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    )


def test_help_and_the_docs_name_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    help_text = capsys.readouterr().out
    docs = (ROOT / "docs" / "load-testing.md").read_text()
    assert len(_options()) > 30
    assert [o for o in _options() if not _named(o, help_text)] == []
    assert [o for o in _options() if not _named(o, docs)] == []


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--timeout", "nan"),
        ("--rate", "inf"),
        ("--duration", "nan"),
        ("--ramp-up", "nan"),
        ("--ramp-up", "inf"),
    ],
)
def test_a_number_that_is_not_finite_is_a_usage_error_naming_the_flag(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, flag: str, value: str
) -> None:
    args = ["--target", "127.0.0.1:1", "--token", "t1", "--approver-token", "t2", "--no-live"]
    code = main([*args, "--report-dir", str(tmp_path / "r"), flag, value])
    assert code == 2
    assert flag in capsys.readouterr().err


def test_an_unreachable_server_exits_6_naming_the_call(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["--target", f"127.0.0.1:{port}", "--token", "t1", "--approver-token", "t2", "--no-live"]
    code = main([*args, "--engagements", "2", "--customers", "1", "--report-dir", str(tmp_path / "r")])
    assert code == 6
    assert "seeding failed: CreateCustomer: UNAVAILABLE" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
