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


def test_server_limits_come_from_flags_and_default_to_generous_values() -> None:
    defaults = parse_settings([]).server_limits()
    assert defaults.max_concurrent_rpcs == 1000 and defaults.max_streams_per_tenant == 32
    assert (
        defaults.rates.tenant_mutations.per_second == 2000 and defaults.rates.tenant_mutations.burst == 4000
    )
    assert defaults.transport.max_receive_message_bytes == 4 << 20
    limits = parse_settings(
        [
            "--tenant-mutations-per-second",
            "5",
            "--tenant-mutation-burst",
            "10",
            "--principal-reads-per-second",
            "0",
        ]
    ).server_limits()
    assert (limits.rates.tenant_mutations.per_second, limits.rates.tenant_mutations.burst) == (5, 10)
    assert limits.rates.principal_reads.unlimited


def test_server_options_carry_message_sizes_and_keepalive_enforcement() -> None:
    from q2c_core.edge.server_options import server_options

    settings = parse_settings(["--max-receive-message-bytes", "65536", "--max-connection-age-seconds", "600"])
    options = dict(server_options(settings.server_limits().transport))
    assert options["grpc.max_receive_message_length"] == 65536
    assert options["grpc.max_send_message_length"] == 16 << 20
    assert options["grpc.keepalive_time_ms"] == 60_000 and options["grpc.keepalive_timeout_ms"] == 20_000
    assert options["grpc.http2.min_ping_interval_without_data_ms"] == 10_000
    assert options["grpc.http2.max_ping_strikes"] == 2
    assert options["grpc.max_connection_idle_ms"] == 900_000
    assert options["grpc.max_connection_age_ms"] == 600_000
    assert "grpc.max_connection_age_ms" not in dict(
        server_options(parse_settings([]).server_limits().transport)
    )


def test_every_setting_has_a_row_in_the_operations_guide() -> None:
    from pathlib import Path

    from q2c_core.settings import Settings

    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    missing = [name for name in Settings.model_fields if f"`Q2C_{name.upper()}`" not in guide]
    assert missing == []


def test_sqlite_is_fully_synchronous_unless_told_otherwise() -> None:
    from q2c_core.bootstrap import store_url

    assert store_url(parse_settings(["--database-url", "sqlite:////tmp/q.db"])).endswith("?synchronous=full")
    normal = parse_settings(["--database-url", "sqlite:////tmp/q.db", "--sqlite-synchronous", "normal"])
    assert store_url(normal).endswith("?synchronous=normal")
    assert store_url(parse_settings(["--database-url", "postgresql://h/db"])) == "postgresql://h/db"
    with pytest.raises(SystemExit):
        parse_settings(["--sqlite-synchronous", "off"])
