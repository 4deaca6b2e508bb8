"""Service settings: environment variables, overridden by flags, refused when malformed."""

from __future__ import annotations

import pytest

from q2c_core.settings import parse_settings


def test_flags_override_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("Q2C_SHARDS", "8")
    monkeypatch.setenv("Q2C_DATABASE_URL", "postgresql://q2c@db/q2c")
    settings = parse_settings(["--shards", "3", "--local"])
    assert settings.shards == 3
    assert settings.database_url == "postgresql://q2c@db/q2c"
    assert settings.local is True
    assert settings.ray_address is None


def test_malformed_flags_exit_with_a_usage_error_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_settings(["--port", "seventy", "--shards", "0"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--port" in err and "--shards" in err


def test_authentication_is_required_unless_turned_off_by_name() -> None:
    assert parse_settings([]).auth == "required"
    assert parse_settings(["--auth", "none"]).auth == "none"
    with pytest.raises(SystemExit):
        parse_settings(["--auth", "off"])


def test_self_approval_tenants_list_the_exempt_tenants_only() -> None:
    policy = parse_settings(["--self-approval-tenants", "small-firm, , solo"]).self_approval_policy()
    assert policy.allows("small-firm") and policy.allows("solo")
    assert not policy.allows("acme") and not policy.allows("")
    assert not parse_settings([]).self_approval_policy().allows("small-firm")
