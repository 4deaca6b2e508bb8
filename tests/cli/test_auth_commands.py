"""`q2c auth dev-key` / `q2c auth token`, and how the CLI carries (or lacks) a token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from clients.cli import main
from clients.cli_errors import ExitCode
from q2c_core.adapters.store import Store
from q2c_core.edge.auth.devkey import load_dev_key
from q2c_core.edge.security import GatewaySecurity, security_from_dev_key
from tests import credentials
from tests.cli.conftest import Run, Server, ThreadedServer

TOKEN_VARIABLES = ("Q2C_TOKEN", "Q2C_TOKEN_FILE", "Q2C_TENANT", "Q2C_PRINCIPAL", "Q2C_DEV_KEY_DIR")


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests say which credentials the CLI gets; none leak in from the environment."""
    for variable in TOKEN_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


def q2c(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """Run `q2c ARGS...` in-process."""
    code = main(list(args))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def _claims(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_dev_key_creates_a_key_prints_where_and_keeps_it_unless_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "dev-key"
    created = q2c(capsys, "auth", "dev-key", "--dir", str(directory))
    assert created.code == 0, created.err
    assert str(directory.resolve()) in created.out
    assert f"q2c serve --dev-key-dir {directory.resolve()}" in created.out
    public_key = load_dev_key(directory).jwt_public_key_file.read_bytes()

    kept = q2c(capsys, "auth", "dev-key", "--dir", str(directory))
    assert "kept the existing" in kept.out
    assert load_dev_key(directory).jwt_public_key_file.read_bytes() == public_key

    assert q2c(capsys, "auth", "dev-key", "--dir", str(directory), "--replace").code == 0
    assert load_dev_key(directory).jwt_public_key_file.read_bytes() != public_key


def test_auth_token_prints_only_the_token_with_the_claims_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "dev-key"
    q2c(capsys, "auth", "dev-key", "--dir", str(directory))
    args = ["--dev-key-dir", str(directory), "--tenant", "acme", "--principal", "ana"]
    minted = q2c(
        capsys, "auth", "token", *args, "--scope", "customers:read", "--scope", "audit:read billing:read"
    )
    assert minted.code == 0, minted.err
    assert minted.out.count("\n") == 1 and minted.err == ""
    claims = _claims(minted.out.strip())
    assert (claims["sub"], claims["q2c_tenant"]) == ("ana", "acme")
    assert claims["scope"] == "customers:read audit:read billing:read"
    assert (claims["iss"], claims["aud"]) == ("q2c-dev", "q2c")

    short = _claims(q2c(capsys, "auth", "token", *args, "--ttl", "60").out.strip())
    assert short["scope"] == "admin"
    assert int(str(short["exp"])) - int(str(short["iat"])) == 60


def test_auth_token_without_a_key_or_a_tenant_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = q2c(
        capsys, "auth", "token", "--dev-key-dir", str(tmp_path), "--tenant", "t", "--principal", "p"
    )
    assert missing.code == ExitCode.LOCAL_ERROR
    assert missing.err.count("\n") == 1 and "q2c auth dev-key" in missing.err and missing.out == ""
    assert q2c(capsys, "auth", "token", "--dev-key-dir", str(tmp_path), "--principal", "p").code == 2


class FreshKeyServer(ThreadedServer):
    """A CLI test server trusting the development key in `key_dir` (made by `q2c auth dev-key`)."""

    def __init__(self, database_url: str, key_dir: Path) -> None:
        super().__init__(database_url)
        self.key_dir = key_dir

    def security(self, store: Store) -> GatewaySecurity:
        return security_from_dev_key(load_dev_key(self.key_dir), store)


@pytest.fixture(scope="module")
def fresh_key_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A server whose key the CLI created, and that key's directory."""
    key_dir = tmp_path_factory.mktemp("cli-key") / "dev-key"
    assert main(["auth", "dev-key", "--dir", str(key_dir)]) == 0
    running = FreshKeyServer(database_url, key_dir).start()
    try:
        yield f"127.0.0.1:{running.port}", key_dir
    finally:
        running.stop()


def test_a_token_from_auth_token_is_accepted_by_a_server_trusting_the_key(
    fresh_key_server: tuple[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target, key_dir = fresh_key_server
    minted = q2c(
        capsys, "auth", "token", "--dev-key-dir", str(key_dir), "--tenant", "t-cli", "--principal", "ops"
    )
    monkeypatch.setenv("Q2C_TOKEN", minted.out.strip())

    listed = q2c(capsys, "--target", target, "--json", "customers", "list")

    assert listed.code == 0, listed.err
    assert listed.json().get("customers", []) == []


def test_without_a_token_the_cli_exits_10_with_one_line(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    run = q2c(capsys, "--target", server.target, "customers", "list")
    assert run.code == ExitCode.UNAUTHENTICATED == 10
    assert run.out == "" and run.err.count("\n") == 1
    assert run.err.startswith("error: UNAUTHENTICATED CREDENTIALS_MISSING: ")
    assert "--token" in run.err and "Traceback" not in run.err


def test_a_token_from_another_key_exits_10(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    q2c(capsys, "auth", "dev-key", "--dir", str(tmp_path / "other"))
    forged = load_dev_key(tmp_path / "other").mint(server.data.tenant_id, "mallory")
    run = q2c(capsys, "--target", server.target, "--json", "--token", forged, "customers", "list")
    assert run.code == 10
    assert run.error()["error"]["reason"] == "TOKEN_SIGNATURE_INVALID"


def test_a_missing_scope_exits_11_naming_the_scope(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = credentials.token(server.data.tenant_id, "reader", ("billing:read",))
    assert q2c(capsys, "--target", server.target, "--token", reader, "bill-runs", "list").code == 0
    run = q2c(
        capsys, "--target", server.target, "--token", reader, "bill-runs", "start", "--month", "2027-01"
    )
    assert run.code == ExitCode.PERMISSION_DENIED == 11
    assert run.err.startswith("error: PERMISSION_DENIED SCOPE_MISSING: ") and "billing:run" in run.err


def test_a_tenant_hint_that_disagrees_with_the_token_exits_11(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    token = credentials.token(server.data.tenant_id)
    run = q2c(
        capsys, "--target", server.target, "--token", token, "--tenant", "elsewhere", "customers", "list"
    )
    assert run.code == 11 and "TENANT_MISMATCH" in run.err
    agreeing = ["--token", token, "--tenant", server.data.tenant_id]
    assert q2c(capsys, "--target", server.target, *agreeing, "customers", "list").code == 0


def test_a_token_file_from_the_environment_is_read_and_rotation_picked_up(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("not-a-token\n")
    monkeypatch.setenv("Q2C_TOKEN_FILE", str(token_file))
    assert q2c(capsys, "--target", server.target, "customers", "list").code == 10

    token_file.write_text(credentials.token(server.data.tenant_id) + "\n")
    listed = q2c(capsys, "--target", server.target, "--json", "customers", "list")
    assert listed.code == 0, listed.err
    assert {c["display_name"] for c in listed.json()["customers"]} == {"Acme", "Globex"}


def test_a_token_flag_overrides_the_environment_and_both_flags_are_a_usage_error(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("Q2C_TOKEN", "stale")
    token_file = tmp_path / "token"
    token_file.write_text(credentials.token(server.data.tenant_id))
    args = ["--target", server.target]
    assert q2c(capsys, *args, "--token-file", str(token_file), "customers", "list").code == 0
    both = q2c(capsys, *args, "--token", "a", "--token-file", str(token_file), "customers", "list")
    assert both.code == 2 and "not both" in both.err
