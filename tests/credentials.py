"""Credentials the way a user gets them: one development key per test process, minted tokens.

Authentication is on in every test server; tests never switch it off. They trust a development
key (`q2c auth dev-key`) and send bearer tokens minted from it (`q2c auth token`).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from q2c_core.edge.auth.devkey import DevKey, create_dev_key
from q2c_core.edge.security import GatewaySecurity, security_from_dev_key

Metadata = tuple[tuple[str, str], ...]
ADMIN = ("admin",)


@functools.cache
def dev_key() -> DevKey:
    """The test process's development key (created once, removed at exit)."""
    directory = Path(tempfile.mkdtemp(prefix="q2c-test-key-"))
    atexit.register(shutil.rmtree, directory, True)
    return create_dev_key(directory / "key")


@functools.cache
def token(tenant_id: str, principal: str = "alice", scopes: tuple[str, ...] = ADMIN) -> str:
    """A bearer token for `principal` in `tenant_id` with `scopes` (cached: minting costs ~1 ms)."""
    return dev_key().mint(tenant_id, principal, scopes)


def bearer(tenant_id: str, principal: str = "alice", scopes: Iterable[str] = ADMIN) -> Metadata:
    """Call metadata carrying a token for `principal` in `tenant_id`."""
    return (("authorization", f"Bearer {token(tenant_id, principal, tuple(scopes))}"),)


def security(store: object | None = None) -> GatewaySecurity:
    """What a test gateway trusts: the development key; refusals logged to `store` when given."""
    return security_from_dev_key(dev_key(), store)
