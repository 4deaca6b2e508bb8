"""`q2c audit checkpoint export` and `q2c audit verify --checkpoint --public-key` against a real
server; the checkpoint is signed with the test development key's audit signing key."""

from __future__ import annotations

import json
from pathlib import Path

from q2c_core.adapters.store import Store
from q2c_core.app.audit.anchor import CheckpointSigner, verify_checkpoint_file
from q2c_core.app.audit.ledger import AuditLedger
from tests import credentials
from tests.cli.conftest import Cli, Server


def _sign_latest(database_url: str, tenant_id: str) -> int:
    """Write a checkpoint of the tenant as the server would (its sequence)."""
    store = Store.open(database_url, migrate=False)
    try:
        signer = CheckpointSigner.from_files(credentials.dev_key().audit_signing_key_file)
        return AuditLedger(store, signer).create_checkpoint(tenant_id).sequence
    finally:
        store.close()


def test_exported_checkpoint_verifies_offline_with_the_public_key(
    cli: Cli, server: Server, database_url: str, tmp_path: Path
) -> None:
    sequence = _sign_latest(database_url, server.data.tenant_id)
    exported = tmp_path / "checkpoint.json"

    run = cli("audit", "checkpoint", "export", "--out", str(exported))

    assert run.code == 0, run.err
    checkpoint = verify_checkpoint_file(exported, credentials.dev_key().audit_public_key_file)
    assert checkpoint.sequence == sequence and checkpoint.tenant_id == server.data.tenant_id
    assert server.data.engagement_id in {h.stream_id for h in checkpoint.heads}


def test_verify_refuses_an_altered_checkpoint_file_offline(
    cli: Cli, server: Server, database_url: str, tmp_path: Path
) -> None:
    _sign_latest(database_url, server.data.tenant_id)
    exported = tmp_path / "checkpoint.json"
    assert cli("audit", "checkpoint", "export", "--out", str(exported)).code == 0
    data = json.loads(exported.read_text())
    data["heads"][0]["hash"] = "0" * 64  # to pass off a rewritten chain
    exported.write_text(json.dumps(data))
    public_key = str(credentials.dev_key().audit_public_key_file)

    run = cli("audit", "verify", "--checkpoint", str(exported), "--public-key", public_key)

    assert run.code == 9 and "CHECKPOINT_SIGNATURE_INVALID" in run.err, run.err


def test_verify_needs_both_checkpoint_and_public_key(cli: Cli, tmp_path: Path) -> None:
    run = cli("audit", "verify", "--checkpoint", str(tmp_path / "x.json"))
    assert run.code == 2 and "go together" in run.err


def test_verify_follows_the_servers_pages_to_the_end(cli: Cli, server: Server) -> None:
    whole = cli("--json", "audit", "verify").json()
    paged = cli("--json", "audit", "verify", "--page-records", "1").json()

    assert whole["ok"] and paged["ok"] and int(paged["records_checked"]) == int(whole["records_checked"]) > 1
    assert paged.get("next_page_token", "") == ""
