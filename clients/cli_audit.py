"""`q2c audit list|verify`: read a stream's hash-chained audit records, verify the chain."""

from __future__ import annotations

import argparse

from clients.cli_context import Context, Subparsers, add_list_options, command, group
from clients.cli_errors import ExitCode
from clients.cli_render import Column, details, enum_label, moment, more_caption, table
from clients.cli_tables import Views
from q2c.v1 import audit_pb2

HASH_SHOWN = 12
"""Leading hex digits of a hash shown in tables (--json has them in full)."""

RECORD_COLUMNS: list[Column] = [
    ("seq", lambda r: str(r.sequence)),
    ("time", lambda r: moment(r.record_time)),
    ("principal", lambda r: r.principal),
    ("command", lambda r: r.command_type),
    ("outcome", lambda r: enum_label(audit_pb2.AuditOutcome, r.outcome, "AUDIT_OUTCOME_")),
    ("reason", lambda r: r.rejection_reason),
    ("comment", lambda r: r.comment),
    ("hash", lambda r: r.hash[:HASH_SHOWN]),
]


def records_view(response: audit_pb2.ListAuditRecordsResponse) -> Views:
    """ListAuditRecordsResponse."""
    stream = response.audit_records[0].stream_id if response.audit_records else ""
    caption = more_caption(response.next_page_token)
    return [table(f"audit records {stream}".strip(), RECORD_COLUMNS, response.audit_records, caption)]


def verification_view(response: audit_pb2.VerifyAuditLogResponse) -> Views:
    """VerifyAuditLogResponse: ok, or the first record that does not verify and why."""
    bad = response.first_invalid_record
    rows = [
        ("result", "OK: the chain verifies" if response.ok else "FAILED: the chain does not verify"),
        ("records checked", str(response.records_checked)),
        ("problem", response.problem),
        (
            "first invalid",
            f"stream {bad.stream_id} seq {bad.sequence} ({bad.command_type})" if bad.stream_id else "",
        ),
    ]
    return [details("audit log verification", rows)]


def list_records(ctx: Context, args: argparse.Namespace) -> int:
    """One stream's audit records, in chain order."""
    ctx.out.emit(ctx.api.list_audit_records(args.stream_id, args.limit, args.page_token), records_view)
    return 0


def verify(ctx: Context, args: argparse.Namespace) -> int:
    """Recompute the hash chain; exit 9 when it does not verify."""
    response = ctx.api.verify_audit_log(args.stream)
    ctx.out.emit(response, verification_view)
    return 0 if response.ok else int(ExitCode.CHECK_FAILED)


def register(subparsers: Subparsers) -> None:
    """Add `audit` to the top-level parser."""
    actions = group(subparsers, "audit", "the tamper-evident audit log")
    parser = command(actions, "list", list_records, "list one stream's audit records")
    parser.add_argument("stream_id", help="an engagement, customer or rate card id")
    add_list_options(parser)
    parser = command(actions, "verify", verify, "verify the hash chain (exit 9 if it does not verify)")
    parser.add_argument("--stream", default="", help="only this stream (default: every stream of the tenant)")
