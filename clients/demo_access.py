"""Who the q2c demo acts as: two principals of one tenant, each with a bearer token.

A delivery consultant submits time and expenses; a delivery lead approves them (a principal may
not approve work it submitted itself). Locally the demo creates a development key (what `q2c
auth dev-key` does), starts the server trusting it and mints both tokens; against `--target` it
mints them from `--dev-key-dir` or takes them from `--token` / `--approver-token`.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from clients.connection import Q2c
from q2c_core.edge.auth.devkey import DevKey, create_dev_key, load_dev_key

TENANT = "acme-consulting"
SUBMITTER = "ana@delivery"
APPROVER = "pat@delivery-lead"


@dataclass(frozen=True)
class DemoTokens:
    """The submitter's and the approver's bearer tokens."""

    submitter: str
    approver: str


@dataclass
class Crew:
    """The demo's two connections to one server: `q` does the work, `approver` approves it."""

    q: Q2c
    approver: Q2c


def add_options(parser: argparse.ArgumentParser) -> None:
    """Credential options of `q2c demo --target ...`."""
    parser.add_argument(
        "--token",
        default=os.environ.get("Q2C_TOKEN"),
        help="with --target: bearer token of the submitting principal (env Q2C_TOKEN)",
    )
    parser.add_argument(
        "--approver-token",
        help="with --target: token of another principal of the same tenant, for approvals (default --token)",
    )
    parser.add_argument(
        "--dev-key-dir",
        default=os.environ.get("Q2C_DEV_KEY_DIR"),
        help="with --target: mint both tokens from this development key (the server's --dev-key-dir)",
    )
    parser.add_argument("--tenant", default=TENANT, help=f"tenant of minted tokens (default {TENANT})")


def minted(key: DevKey, tenant: str = TENANT) -> DemoTokens:
    """Tokens for the two demo principals, from a development key."""
    return DemoTokens(key.mint(tenant, SUBMITTER), key.mint(tenant, APPROVER))


def local_dev_key(workdir: str) -> DevKey:
    """A fresh development key in `<workdir>/dev-key` for the server the demo starts."""
    return create_dev_key(Path(workdir) / "dev-key")


def target_tokens(args: argparse.Namespace) -> DemoTokens:
    """The tokens `--target` mode uses: minted from --dev-key-dir, else --token(s)."""
    if args.dev_key_dir:
        return minted(load_dev_key(Path(args.dev_key_dir)), args.tenant)
    if args.token:
        return DemoTokens(args.token, args.approver_token or args.token)
    raise SystemExit("q2c demo --target needs --dev-key-dir DIR, or --token (and --approver-token)")


@contextmanager
def crew(target: str, tokens: DemoTokens) -> Iterator[Crew]:
    """Both connections, closed afterwards."""
    q = Q2c(target, token=tokens.submitter)
    approver = Q2c(target, token=tokens.approver, correlation_id=q.correlation_id)
    try:
        yield Crew(q, approver)
    finally:
        q.close()
        approver.close()
