"""Workload profiles: YAML files and flags, validated with errors that name the field (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clients.cli import main as q2c
from clients.load import profile as profiles
from clients.load.cli_options import PROFILE_FLAGS
from clients.load.command import main

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ["--token", "t1", "--approver-token", "t2", "--target", "127.0.0.1:1"]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*TOKENS, "--no-live", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("billing_mix: {retainer: -1}\n", "billing_mix.retainer"),
        ("engagements: 0\n", "engagements"),
        ("period: March\n", "period"),
        ("currencies: {XXX: 1}\n", "currencies"),
        ("payments: {full: 0.8, partial: 0.5}\n", "payments"),
        ("approval_ratio: 1.5\n", "approval_ratio"),
        ("engagments: 10\n", "engagments"),
        ("- a list\n", "profile"),
        ("customers: [\n", "profile"),
    ],
)
def test_a_bad_profile_file_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, field: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, err = _run(capsys, "--profile", str(path))
    assert code == 2
    assert err.startswith(f"q2c load: {field}")


def test_a_flag_overrides_the_file_and_is_validated_like_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("engagements: 40\ncustomers: 4\n")
    assert profiles.load(path, {"engagements": 8}).engagements == 8
    code, err = _run(capsys, "--profile", str(path), "--late-ratio", "2")
    assert code == 2
    assert "late_ratio" in err


def test_a_mix_flag_sets_one_weight_and_refuses_an_unknown_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert profiles.load(None, {"billing_mix.retainer": "5"}).billing_mix.retainer == 5
    code, err = _run(capsys, "--mix", "barter=2")
    assert code == 2
    assert "billing_mix.barter" in err


def test_a_missing_profile_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(capsys, "--profile", str(tmp_path / "absent.yaml"))
    assert code == 2
    assert "cannot read" in err


def test_without_an_approver_token_the_load_refuses_to_start(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--token", "t1", "--no-live"])
    assert code == 2
    assert "--approver-token" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags",
    [
        ["--clients", "0"],
        ["--rate", "-1"],
        ["--clients", "2", "--rate", "5"],
        ["--window", "0"],
        ["--run-tag", "x" * 101],
    ],
)
def test_bad_pacing_is_a_usage_error(capsys: pytest.CaptureFixture[str], flags: list[str]) -> None:
    code, _ = _run(capsys, *flags)
    assert code == 2


def test_the_example_profile_is_valid() -> None:
    example = profiles.load(ROOT / "deploy" / "load" / "month-end.yaml", {})
    assert example.engagements >= example.customers


def test_q2c_load_help_documents_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert q2c(["load", "--help"]) == 0
    text = capsys.readouterr().out
    flags = [f"--{name.replace('_', '-')}" for name in PROFILE_FLAGS]
    flags += [
        "--target",
        "--token",
        "--token-file",
        "--approver-token",
        "--approver-token-file",
        "--tls-ca-file",
    ]
    flags += ["--tls-cert-file", "--tls-key-file", "--timeout", "--profile", "--mix", "--seed", "--run-tag"]
    flags += [
        "--clients",
        "--rate",
        "--ramp-up",
        "--duration",
        "--processes",
        "--report-dir",
        "--no-live",
        "--json",
    ]
    assert [f for f in flags if f not in text] == []
