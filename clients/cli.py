"""The `q2c` command: run the service, drive the demo, and operate a running server.

    q2c serve [server options]          run the service (same as server.py)
    q2c demo [--target HOST:PORT]       drive the demo scenario and print what happened
    q2c load [--profile FILE] [--clients N | --rate R] ...   simulate a month-end against a
                                        running server, check every invoice, write a report
    q2c auth dev-key [--dir DIR] [--replace]          create a development key
    q2c auth token --tenant T --principal P [--scope S ...] [--ttl SECONDS] [--dev-key-dir DIR]
    q2c [--target HOST:PORT] [--token T | --token-file F] [--tls-ca-file PEM
        [--tls-cert-file PEM --tls-key-file PEM]] [--tenant T] [--principal P] [--json]
        [--timeout S] COMMAND ...
        customers list|get ID           rate-cards list|get ID
        engagements list [--state S] [--customer C]|get ID [--view basic|full]
        invoices list [--engagement E] [--state S] [--bill-run R]|get ID
        exceptions list [--state S] [--severity S] [--engagement E]|get ID
                   resolve ID --note TEXT [--resolution release|write-off]
        bill-runs start --month YYYY-MM [--watch]|list|get ID|watch ID|cancel ID --reason TEXT
        audit list STREAM_ID|verify [--stream ID]
        dead-letters list [--destination D] [--operation O] [--engagement E]|show ID
                     retry ID|retry --all [--destination D] [--operation O] [--engagement E]
        deliveries list [--status S] [--destination D] ...|stats
        reconcile [--grace-seconds N]   (reconcile with the ERP now; exit 9 on mismatches)
        reports kpis --from WHEN --to WHEN   (business KPIs of [from, to); WHEN: ISO date or time, UTC)

Tables by default, `--json` for one JSON document (proto field names). Every call carries the
bearer token of `--token` / $Q2C_TOKEN or `--token-file` / $Q2C_TOKEN_FILE (re-read when it
changes); the token decides tenant and principal. `--tenant` / $Q2C_TENANT and `--principal` /
$Q2C_PRINCIPAL are optional hints the server checks against it. `--tls-ca-file` turns TLS on
(with `--tls-cert-file` and `--tls-key-file`, mutual TLS; env Q2C_TLS_*). `--target` defaults
to $Q2C_TARGET (127.0.0.1:50051). A gRPC error is one line on stderr (code, ErrorInfo reason,
message, offending fields), never a traceback.

Exit codes: 0 ok; 1 unexpected local error; 2 usage error; 3 INVALID_ARGUMENT; 4 NOT_FOUND;
5 FAILED_PRECONDITION / ABORTED / ALREADY_EXISTS (conflicts with the state); 6 UNAVAILABLE /
DEADLINE_EXCEEDED (retry later); 7 any other server error; 8 feature not available on this
server; 9 the checked outcome failed (audit log does not verify, watched bill run FAILED or
CANCELLED, reconcile found mismatches); 10 UNAUTHENTICATED (no token, or it was refused);
11 PERMISSION_DENIED (a scope is missing, or a hint disagrees with the token); 130
interrupted. See `clients.cli_errors.ExitCode`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import grpc

from clients import (
    cli_audit,
    cli_auth,
    cli_billruns,
    cli_deadletters,
    cli_reconcile,
    cli_records,
    cli_reports,
)
from clients.cli_api import CliApi
from clients.cli_context import Context, add_global_options, connection_options
from clients.cli_errors import EXIT_CODES_HELP, CliError, ErrorReport, ExitCode, report_rpc_error
from clients.cli_render import Output

PASSTHROUGH = ("serve", "demo", "auth", "load")
"""Commands handed their arguments untouched (they have their own parsers)."""


def build_parser() -> argparse.ArgumentParser:
    """The full `q2c` parser: global options, then one subcommand group per resource."""
    parser = argparse.ArgumentParser(
        prog="q2c",
        description="q2c: engagements from won opportunity to paid invoice. Operate a q2c server.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,  # else `reports kpis --to` is refused as an ambiguous `--token` prefix
    )
    add_global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="run the q2c service (q2c serve --help for its settings)")
    commands.add_parser("demo", help="drive the demo scenario (q2c demo --help)")
    commands.add_parser(
        "load", help="month-end load test with a correctness check and a report (q2c load --help)"
    )
    commands.add_parser("auth", help="development key and tokens: auth dev-key, auth token (q2c auth --help)")
    for module in (cli_records, cli_billruns, cli_audit, cli_deadletters, cli_reconcile, cli_reports):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `q2c` command and return its exit code (see the module docstring)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args and args[0] in PASSTHROUGH:
            return _passthrough(args[0], args[1:])
        return _operate(args)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)


def _passthrough(command: str, rest: list[str]) -> int:
    """`q2c serve ...` is server.py; `q2c demo ...` is clients.demo; `q2c auth ...` clients.cli_auth;
    `q2c load ...` clients.load."""
    if command == "auth":
        return cli_auth.main(rest)
    if command == "load":
        from clients.load.command import main as load

        return load(rest)
    if command == "serve":
        import server

        return server.main(rest)
    from clients import demo

    return demo.main(rest)


def _operate(argv: list[str]) -> int:
    """Parse, connect, run the handler, and turn failures into one line and an exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2), already printed
        return stop.code if isinstance(stop.code, int) else int(ExitCode.USAGE)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    out = Output(args.json)
    try:
        api = CliApi(args.target, args.timeout, **connection_options(args))
    except (ValueError, OSError) as error:  # conflicting token options, unreadable TLS files
        return _fail(out, ErrorReport("USAGE", str(error), ExitCode.USAGE))
    try:
        return int(args.handler(Context(api, out), args))
    except grpc.RpcError as error:
        return _fail(out, report_rpc_error(error, args.target))
    except CliError as error:
        return _fail(out, error.report)
    except Exception as error:
        if os.environ.get("Q2C_DEBUG"):
            raise
        message = f"{type(error).__name__}: {error} (set Q2C_DEBUG=1 for a traceback)"
        return _fail(out, ErrorReport("LOCAL_ERROR", message, ExitCode.LOCAL_ERROR))
    finally:
        api.close()


def _fail(out: Output, report: ErrorReport) -> int:
    out.error(report)
    return int(report.exit_code)


if __name__ == "__main__":
    sys.exit(main())
