"""The `q2c` command against a server speaking TLS, and one requiring client certificates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clients.cli import main
from q2c_core.edge.security import TlsFiles
from tests import credentials
from tests.cli.conftest import Run, ThreadedServer
from tests.conftest_db import new_tenant_id
from tests.tls_certs import PkiFiles, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PkiFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_target(database_url: str, pki: PkiFiles) -> Iterator[str]:
    """A server speaking TLS with the test CA's certificate."""
    running = ThreadedServer(database_url, TlsFiles(pki.server_cert, pki.server_key)).start()
    try:
        yield f"127.0.0.1:{running.port}"
    finally:
        running.stop()


@pytest.fixture(scope="module")
def mtls_target(database_url: str, pki: PkiFiles) -> Iterator[str]:
    """A server that also requires a client certificate signed by the test CA."""
    running = ThreadedServer(database_url, TlsFiles(pki.server_cert, pki.server_key, pki.ca_cert)).start()
    try:
        yield f"127.0.0.1:{running.port}"
    finally:
        running.stop()


def q2c(capsys: pytest.CaptureFixture[str], target: str, *args: str) -> Run:
    """`q2c --target T --token <fresh tenant> --timeout 5 ARGS...`."""
    token = credentials.token(new_tenant_id())
    code = main(["--target", target, "--token", token, "--timeout", "5", *args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def test_the_cli_lists_over_tls_with_the_ca_file(
    tls_target: str, pki: PkiFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    run = q2c(capsys, tls_target, "--tls-ca-file", str(pki.ca_cert), "--json", "customers", "list")
    assert run.code == 0, run.err


def test_the_ca_file_may_come_from_the_environment(
    tls_target: str, pki: PkiFiles, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("Q2C_TLS_CA_FILE", str(pki.ca_cert))
    assert q2c(capsys, tls_target, "customers", "list").code == 0


def test_plaintext_to_a_tls_server_is_unavailable_in_one_line(
    tls_target: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("Q2C_TLS_CA_FILE", raising=False)
    run = q2c(capsys, tls_target, "customers", "list")
    assert run.code == 6
    assert run.err.count("\n") == 1


def test_mutual_tls_with_the_client_certificate(
    mtls_target: str, pki: PkiFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    tls = ["--tls-ca-file", str(pki.ca_cert)]
    client = ["--tls-cert-file", str(pki.client_cert), "--tls-key-file", str(pki.client_key)]
    assert q2c(capsys, mtls_target, *tls, *client, "customers", "list").code == 0
    assert q2c(capsys, mtls_target, *tls, "customers", "list").code == 6


def test_a_certificate_without_its_key_is_a_usage_error(
    pki: PkiFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    run = q2c(capsys, "127.0.0.1:1", "--tls-cert-file", str(pki.client_cert), "customers", "list")
    assert run.code == 2 and "together" in run.err
