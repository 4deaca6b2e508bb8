"""What every `q2c` command handler receives, and argparse helpers the command modules share."""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clients.cli_api import CliApi
from clients.cli_render import Output

DEFAULT_LIMIT = 100
DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 30.0


@dataclass
class Context:
    """One invocation: the server connection and where output goes."""

    api: CliApi
    out: Output


Handler = Callable[[Context, argparse.Namespace], int]
"""A command: does its calls, prints, returns the exit code (gRPC errors propagate)."""

Subparsers = Any
"""argparse's private _SubParsersAction, as returned by add_subparsers()."""


def default_principal() -> str:
    """Q2C_PRINCIPAL, else the login name, else "cli" (who `q2c auth token` mints for)."""
    try:
        return os.environ.get("Q2C_PRINCIPAL") or getpass.getuser()
    except (OSError, KeyError):
        return "cli"


ENV_OPTIONS = {
    "tenant": "Q2C_TENANT",
    "principal": "Q2C_PRINCIPAL",
    "token": "Q2C_TOKEN",
    "token_file": "Q2C_TOKEN_FILE",
    "tls_ca_file": "Q2C_TLS_CA_FILE",
    "tls_cert_file": "Q2C_TLS_CERT_FILE",
    "tls_key_file": "Q2C_TLS_KEY_FILE",
}
"""Connection options read from the environment when the command line leaves them out."""


def connection_options(args: argparse.Namespace) -> dict[str, Any]:
    """Credentials, TLS files and identity hints for `CliApi`: flags first, then the environment.

    A token flag (`--token` / `--token-file`) overrides both token variables, so a stale
    Q2C_TOKEN never fights an explicit --token-file.
    """
    token_flag = bool(args.token or args.token_file)

    def pick(name: str) -> str | None:
        given: str | None = getattr(args, name)
        if given or (token_flag and name.startswith("token")):
            return given or None
        return os.environ.get(ENV_OPTIONS[name]) or None

    chosen = {name: pick(name) for name in ENV_OPTIONS}
    if chosen["token"] and chosen["token_file"]:
        raise ValueError("give --token or --token-file (Q2C_TOKEN or Q2C_TOKEN_FILE), not both")
    chosen["tenant_id"] = chosen.pop("tenant")
    return chosen


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Connection and output options; on subcommands `suppress` keeps the top-level values.

    They are accepted before and after the command (`q2c --json customers list` and
    `q2c customers list --json`).
    """

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    env = os.environ.get
    parser.add_argument(
        "--target",
        default=default(env("Q2C_TARGET") or DEFAULT_TARGET),
        help=f"server HOST:PORT (env Q2C_TARGET, default {DEFAULT_TARGET})",
    )
    parser.add_argument(
        "--token",
        default=default(None),
        help="bearer token, e.g. $(q2c auth token ...) (env Q2C_TOKEN); it decides tenant and principal",
    )
    parser.add_argument(
        "--token-file",
        default=default(None),
        metavar="FILE",
        help="file holding the bearer token, re-read when it changes (env Q2C_TOKEN_FILE)",
    )
    parser.add_argument(
        "--tls-ca-file",
        default=default(None),
        metavar="PEM",
        help="speak TLS; the CA that verifies the server (env Q2C_TLS_CA_FILE)",
    )
    parser.add_argument(
        "--tls-cert-file",
        default=default(None),
        metavar="PEM",
        help="client certificate for mutual TLS (env Q2C_TLS_CERT_FILE)",
    )
    parser.add_argument(
        "--tls-key-file",
        default=default(None),
        metavar="PEM",
        help="the client certificate's private key (env Q2C_TLS_KEY_FILE)",
    )
    parser.add_argument(
        "--tenant",
        default=default(None),
        help="tenant hint, checked against the token's tenant (env Q2C_TENANT; default: not sent)",
    )
    parser.add_argument(
        "--principal",
        default=default(None),
        help="principal hint, checked against the token's subject (env Q2C_PRINCIPAL; default: not sent)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=default(DEFAULT_TIMEOUT),
        metavar="S",
        help=f"deadline per call in seconds (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print one JSON document instead of tables",
    )


def enum_labels(enum: Any, prefix: str) -> list[str]:
    """The lower-case labels of an enum's set values: ENGAGEMENT_STATE_ACTIVE -> active."""
    names = [value.name for value in enum.DESCRIPTOR.values]
    return [name.removeprefix(prefix).lower() for name in names if not name.endswith("_UNSPECIFIED")]


def add_enum_option(parser: argparse.ArgumentParser, flag: str, enum: Any, prefix: str, what: str) -> None:
    """`--state {active,...}`: one of the enum's labels, case-insensitive."""
    parser.add_argument(flag, type=str.lower, choices=enum_labels(enum, prefix), help=f"only this {what}")


def enum_value(enum: Any, prefix: str, label: str | None) -> Any:
    """The enum number of a label from add_enum_option (0, UNSPECIFIED, when not given)."""
    return enum.Value(prefix + label.upper()) if label else 0


def add_list_options(parser: argparse.ArgumentParser) -> None:
    """--limit and --page-token, shared by every list command."""
    parser.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"at most N items (default {DEFAULT_LIMIT}; 0 = all)"
    )
    parser.add_argument("--page-token", default="", help="continue from a previous listing's next_page_token")


def group(subparsers: Subparsers, name: str, help_text: str) -> Subparsers:
    """A command group (`q2c customers ...`) whose own subcommands are required."""
    parser = subparsers.add_parser(name, help=help_text, description=help_text)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    return actions


def command(actions: Subparsers, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
    """One subcommand bound to its handler."""
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text, description=help_text)
    add_global_options(parser, suppress=True)
    parser.set_defaults(handler=handler)
    return parser
