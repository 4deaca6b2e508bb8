"""What a failed `q2c` command exits with, and the one readable line it prints.

Every gRPC error becomes an `ErrorReport`: the canonical code, the `google.rpc.ErrorInfo`
reason, the message and the offending fields (`BadRequest`) or preconditions
(`PreconditionFailure`), rendered as one line (or one JSON object) and mapped to an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any

import grpc

from q2c_sdk.details import error_from_rpc


class ExitCode(IntEnum):
    """Exit codes of the `q2c` command; scripts may rely on them."""

    OK = 0
    LOCAL_ERROR = 1
    USAGE = 2
    INVALID_ARGUMENT = 3
    NOT_FOUND = 4
    CONFLICT = 5
    RETRY_LATER = 6
    SERVER_ERROR = 7
    NOT_AVAILABLE = 8
    CHECK_FAILED = 9
    UNAUTHENTICATED = 10
    PERMISSION_DENIED = 11
    INTERRUPTED = 130


EXIT_CODES_HELP = """\
exit codes:
  0    ok
  1    unexpected local error (a bug in the CLI, a broken install)
  2    usage error (bad command line)
  3    INVALID_ARGUMENT: the request is invalid; the offending field is named
  4    NOT_FOUND: no such customer, engagement, invoice, exception, bill run ...
  5    FAILED_PRECONDITION / ABORTED / ALREADY_EXISTS: the request conflicts with the state
  6    UNAVAILABLE / DEADLINE_EXCEEDED: server down, unreachable or slow; retry later
  7    any other server error (INTERNAL, UNKNOWN ...)
  8    the feature is not available on this server (e.g. dead letters before DeliveryService)
  9    the command ran, but what it checked failed: the audit log does not verify, a
       watched bill run ended FAILED or CANCELLED, or reconcile found mismatches
  10   UNAUTHENTICATED: no token, or the token was refused (expired, wrong signer ...);
       pass --token / --token-file or set Q2C_TOKEN (q2c auth token mints one)
  11   PERMISSION_DENIED: the token lacks a scope (named), or --tenant / --principal
       disagree with it
  130  interrupted (Ctrl-C)"""

_EXIT_BY_CODE: dict[grpc.StatusCode, ExitCode] = {
    grpc.StatusCode.INVALID_ARGUMENT: ExitCode.INVALID_ARGUMENT,
    grpc.StatusCode.OUT_OF_RANGE: ExitCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND: ExitCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION: ExitCode.CONFLICT,
    grpc.StatusCode.ABORTED: ExitCode.CONFLICT,
    grpc.StatusCode.ALREADY_EXISTS: ExitCode.CONFLICT,
    grpc.StatusCode.UNAVAILABLE: ExitCode.RETRY_LATER,
    grpc.StatusCode.DEADLINE_EXCEEDED: ExitCode.RETRY_LATER,
    grpc.StatusCode.UNIMPLEMENTED: ExitCode.NOT_AVAILABLE,
    grpc.StatusCode.UNAUTHENTICATED: ExitCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED: ExitCode.PERMISSION_DENIED,
}

_HINTS = {
    "CREDENTIALS_MISSING": "pass --token or --token-file, or set Q2C_TOKEN; q2c auth token mints one",
    "TOKEN_EXPIRED": "get a fresh token; q2c auth token mints one from a development key",
    "TENANT_MISMATCH": "drop --tenant / Q2C_TENANT or use a token for that tenant",
    "PRINCIPAL_MISMATCH": "drop --principal / Q2C_PRINCIPAL or use a token for that principal",
}
"""What to do next, appended to the one-line message of a credential refusal."""


def exit_code_for(code: grpc.StatusCode) -> ExitCode:
    """The exit code for a gRPC status code (anything unlisted is a server error)."""
    return _EXIT_BY_CODE.get(code, ExitCode.SERVER_ERROR)


@dataclass(frozen=True)
class ErrorReport:
    """One failure, ready to print: code, reason, message, offending fields, exit code."""

    code: str
    message: str
    exit_code: ExitCode
    reason: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    preconditions: tuple[tuple[str, str], ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)

    def line(self) -> str:
        """`error: CODE REASON: message (field f: why; ...)`, on one line."""
        head = " ".join(part for part in (self.code, self.reason) if part)
        extras = [f"field {name}: {why}" for name, why in self.fields if f"{name}: {why}" not in self.message]
        extras += [f"{subject}: {why}" for subject, why in self.preconditions if why not in self.message]
        tail = f" ({'; '.join(extras)})" if extras else ""
        return _one_line(f"error: {head}: {self.message}{tail}")

    def as_dict(self) -> dict[str, Any]:
        """The JSON error object printed in `--json` mode."""
        return {
            "error": {
                "code": self.code,
                "reason": self.reason,
                "message": self.message,
                "field_violations": [{"field": f, "description": d} for f, d in self.fields],
                "precondition_violations": [{"subject": s, "description": d} for s, d in self.preconditions],
                "metadata": self.metadata,
                "exit_code": int(self.exit_code),
            }
        }


class CliError(Exception):
    """A failure the CLI itself detected (feature missing, check failed); carries its report."""

    def __init__(self, report: ErrorReport) -> None:
        super().__init__(report.message)
        self.report = report


def not_available(feature: str, service: str, target: str) -> CliError:
    """The server at `target` does not host `service`, which `feature` needs."""
    message = f"{feature} are not available on this server ({target} has no {service})"
    return CliError(
        ErrorReport("NOT_AVAILABLE", message, ExitCode.NOT_AVAILABLE, reason="SERVICE_NOT_HOSTED")
    )


def report_rpc_error(error: grpc.RpcError, target: str) -> ErrorReport:
    """Turn a gRPC error (unary or stream, sync client) into an ErrorReport.

    The rich status is read by the SDK's one parser (`q2c_sdk.details.error_from_rpc`).
    """
    failure = error_from_rpc(error)
    code = failure.code if isinstance(failure.code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN
    report = ErrorReport(
        code.name,
        failure.message or code.name.lower(),
        exit_code_for(code),
        failure.reason,
        tuple((v.field, v.description) for v in failure.field_violations),
        tuple((v.subject or v.type, v.description) for v in failure.precondition_violations),
        dict(failure.metadata),
    )
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) and not report.reason:
        report = ErrorReport(report.code, f"{report.message} [target {target}]", report.exit_code)
    hint = _HINTS.get(report.reason)
    if hint and code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        report = replace(report, message=f"{report.message} ({hint})")
    return report


def _one_line(text: str) -> str:
    """Collapse newlines so an error is always exactly one line."""
    return " ".join(text.split())
