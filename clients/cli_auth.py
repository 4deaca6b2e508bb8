"""`q2c auth`: a development key for a local server, and tokens minted from it.

    q2c auth dev-key [--dir DIR] [--replace]
    q2c auth token --tenant T --principal P [--scope S ...] [--ttl SECONDS] [--dev-key-dir DIR]

`auth token` prints the token and nothing else, so `export Q2C_TOKEN=$(q2c auth token ...)`
works. Development keys are for development, tests and demos; production servers trust a real
identity provider (`q2c serve --jwt-issuer ... --jwt-jwks ...`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from clients.cli_errors import ExitCode
from q2c_core.edge.auth.devkey import DEFAULT_TTL_SECONDS, MANIFEST, create_dev_key, load_dev_key

DEFAULT_DEV_KEY_DIR = Path(".q2c/dev-key")
"""Where `q2c serve --local` looks for its development key (relative to the working directory)."""


def build_parser() -> argparse.ArgumentParser:
    """`q2c auth` and its two commands."""
    parser = argparse.ArgumentParser(prog="q2c auth", description="development keys and tokens")
    commands = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    key_dir = os.environ.get("Q2C_DEV_KEY_DIR") or str(DEFAULT_DEV_KEY_DIR)

    dev_key = commands.add_parser("dev-key", help="create a development key (kept if one exists)")
    dev_key.add_argument("--dir", default=key_dir, help=f"where (env Q2C_DEV_KEY_DIR, default {key_dir})")
    dev_key.add_argument("--replace", action="store_true", help="replace an existing key (old tokens die)")
    dev_key.set_defaults(handler=_dev_key)

    token = commands.add_parser("token", help="mint a bearer token from the development key")
    token.add_argument("--tenant", default=os.environ.get("Q2C_TENANT"), help="tenant (env Q2C_TENANT)")
    token.add_argument(
        "--principal", default=os.environ.get("Q2C_PRINCIPAL"), help="principal (env Q2C_PRINCIPAL)"
    )
    token.add_argument(
        "--scope",
        action="append",
        metavar="S",
        help="a scope (repeat, or space-separated), e.g. engagements:read; default admin (every scope)",
    )
    token.add_argument(
        "--ttl", type=float, default=DEFAULT_TTL_SECONDS, metavar="SECONDS", help="lifetime (default 3600)"
    )
    token.add_argument(
        "--dev-key-dir", default=key_dir, help=f"the key (env Q2C_DEV_KEY_DIR, default {key_dir})"
    )
    token.set_defaults(handler=_token)
    return parser


def main(argv: Sequence[str]) -> int:
    """Run `q2c auth ...`; usage errors exit 2, a missing key exits 1 with one line."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
        code: int = args.handler(parser, args)
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2), already printed
        return stop.code if isinstance(stop.code, int) else int(ExitCode.USAGE)
    return code


def _dev_key(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    existed = (directory / MANIFEST).exists()
    key = create_dev_key(directory, replace=args.replace)
    where = key.directory.resolve()
    verb = "kept the existing" if existed and not args.replace else "created a"
    print(f"{verb} development key in {where}")
    print(f"serve with:  q2c serve --dev-key-dir {where}")
    print(f"mint tokens: q2c auth token --dev-key-dir {where} --tenant TENANT --principal PRINCIPAL")
    return int(ExitCode.OK)


def _token(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    missing = [
        flag for flag, value in (("--tenant", args.tenant), ("--principal", args.principal)) if not value
    ]
    if missing:
        parser.error(f"auth token needs {' and '.join(missing)}")
    if args.ttl <= 0:
        parser.error("--ttl must be > 0 seconds")
    directory = Path(args.dev_key_dir)
    try:
        key = load_dev_key(directory)
    except FileNotFoundError:
        print(
            f"error: no development key in {directory} (create one: q2c auth dev-key --dir {directory})",
            file=sys.stderr,
        )
        return int(ExitCode.LOCAL_ERROR)
    scopes = [scope for given in args.scope or ["admin"] for scope in given.split()]
    print(key.mint(args.tenant, args.principal, scopes, ttl_seconds=args.ttl))
    return int(ExitCode.OK)
