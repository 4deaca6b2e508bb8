"""`q2c audit list|verify|checkpoint|security-events`: read a stream's hash-chained audit
records, verify the chain against a signed checkpoint, write and export checkpoints, and list
refused calls."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from clients.cli_context import Context, Subparsers, add_list_options, command, group
from clients.cli_errors import ExitCode
from clients.cli_render import Column, details, enum_label, moment, more_caption, table
from clients.cli_tables import Views
from q2c.v1 import audit_pb2
from q2c_core.app.audit.anchor import (
    CheckpointInvalid,
    checkpoint_to_dict,
    verify_checkpoint_file,
)
from q2c_core.edge.converters.convert_audit import checkpoint_in, checkpoint_out

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
    anchor = response.checkpoint
    rows = [
        ("result", "OK: the chain verifies" if response.ok else "FAILED: the chain does not verify"),
        ("records checked", str(response.records_checked)),
        (
            "reason",
            enum_label(audit_pb2.AuditProblem, response.reason, "AUDIT_PROBLEM_") if response.reason else "",
        ),
        ("problem", response.problem),
        ("stream", response.problem_stream_id),
        (
            "first invalid",
            f"stream {bad.stream_id} seq {bad.sequence} ({bad.command_type})" if bad.stream_id else "",
        ),
        (
            "checkpoint",
            f"#{anchor.sequence} of {moment(anchor.create_time)}, key {anchor.key_id}"
            if anchor.sequence
            else "none",
        ),
    ]
    return [details("audit log verification", rows)]


def checkpoint_view(checkpoint: audit_pb2.AuditCheckpoint) -> Views:
    """AuditCheckpoint: its sequence, time, key, root and stream heads."""
    rows = [
        ("sequence", str(checkpoint.sequence)),
        ("time", moment(checkpoint.create_time)),
        ("key id", checkpoint.key_id),
        ("root", checkpoint.root_hash),
        ("streams", str(len(checkpoint.stream_heads))),
    ]
    heads: list[Column] = [
        ("stream", lambda h: h.stream_id),
        ("seq", lambda h: str(h.sequence)),
        ("hash", lambda h: h.hash[:HASH_SHOWN]),
    ]
    return [details("audit checkpoint", rows), table("stream heads", heads, checkpoint.stream_heads)]


SECURITY_EVENT_COLUMNS: list[Column] = [
    ("time", lambda e: moment(e.event_time)),
    ("principal", lambda e: e.principal or "-"),
    ("rpc", lambda e: e.method.rsplit("/", 1)[-1]),
    ("code", lambda e: e.code),
    ("reason", lambda e: e.reason),
    ("peer", lambda e: e.peer),
    ("correlation", lambda e: e.correlation_id),
    ("dropped before", lambda e: str(e.suppressed_before) if e.suppressed_before else ""),
]


def security_events_view(response: audit_pb2.ListSecurityEventsResponse) -> Views:
    """ListSecurityEventsResponse, newest first."""
    caption = more_caption(response.next_page_token)
    return [table("refused calls", SECURITY_EVENT_COLUMNS, response.security_events, caption)]


def list_security_events(ctx: Context, args: argparse.Namespace) -> int:
    """Refused calls of the tenant (with --all, also those without a verified tenant: admin)."""
    request = audit_pb2.ListSecurityEventsRequest(
        include_unauthenticated=args.all, page_token=args.page_token
    )
    page = ctx.api.page_through(ctx.api.q.audit.ListSecurityEvents, request, "security_events", args.limit)
    ctx.out.emit(page, security_events_view)
    return 0


def list_records(ctx: Context, args: argparse.Namespace) -> int:
    """One stream's audit records, in chain order."""
    ctx.out.emit(ctx.api.list_audit_records(args.stream_id, args.limit, args.page_token), records_view)
    return 0


def verify(ctx: Context, args: argparse.Namespace) -> int:
    """Recompute the hash chain and compare it with a checkpoint; exit 9 when it does not verify.

    With --checkpoint and --public-key the exported checkpoint's signature is verified here,
    offline, before the server is asked to check the database against it. The server checks
    a bounded page per call; this follows its tokens to the end and shows the last reply.
    """
    request = audit_pb2.VerifyAuditLogRequest(stream_id=args.stream)
    if args.checkpoint or args.public_key:
        if not (args.checkpoint and args.public_key):
            print("q2c: --checkpoint and --public-key go together", file=sys.stderr)
            return int(ExitCode.USAGE)
        try:
            anchor = verify_checkpoint_file(Path(args.checkpoint), Path(args.public_key))
        except CheckpointInvalid as refused:
            print(f"q2c: checkpoint refused ({refused.code}): {refused.message}", file=sys.stderr)
            return int(ExitCode.CHECK_FAILED)
        request.checkpoint.CopyFrom(checkpoint_out(anchor))
    request.max_records = args.page_records
    response = ctx.api.q.call(ctx.api.q.audit.VerifyAuditLog, request)
    while response.next_page_token:  # the server verifies a bounded page per call
        request.page_token = response.next_page_token
        response = ctx.api.q.call(ctx.api.q.audit.VerifyAuditLog, request)
    ctx.out.emit(response, verification_view)
    return 0 if response.ok else int(ExitCode.CHECK_FAILED)


def create_checkpoint(ctx: Context, args: argparse.Namespace) -> int:
    """Sign the tenant's current stream heads as its next checkpoint."""
    request = audit_pb2.CreateAuditCheckpointRequest(request_id=args.request_id)
    ctx.out.emit(ctx.api.q.call(ctx.api.q.audit.CreateAuditCheckpoint, request), checkpoint_view)
    return 0


def export_checkpoint(ctx: Context, args: argparse.Namespace) -> int:
    """Write a signed checkpoint (default: the latest) as JSON, to keep outside the database."""
    request = audit_pb2.GetAuditCheckpointRequest(sequence=args.sequence)
    message = ctx.api.q.call(ctx.api.q.audit.GetAuditCheckpoint, request)
    text = json.dumps(checkpoint_to_dict(checkpoint_in(message)), indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text)
        print(f"checkpoint {message.sequence} written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _register_checkpoint(actions: Subparsers) -> None:
    checkpoints = group(actions, "checkpoint", "signed checkpoints of every stream head")
    parser = command(
        checkpoints, "create", create_checkpoint, "sign the current stream heads as a checkpoint"
    )
    parser.add_argument("--request-id", default="", help="idempotency key (default: a fresh one)")
    parser = command(checkpoints, "export", export_checkpoint, "write a signed checkpoint as JSON")
    parser.add_argument("--sequence", type=int, default=0, help="which checkpoint (default: the latest)")
    parser.add_argument("--out", default="", metavar="FILE", help="write here (default: stdout)")


def register(subparsers: Subparsers) -> None:
    """Add `audit` to the top-level parser."""
    actions = group(subparsers, "audit", "the tamper-evident audit log")
    parser = command(actions, "list", list_records, "list one stream's audit records")
    parser.add_argument("stream_id", help="an engagement, customer or rate card id")
    add_list_options(parser)
    parser = command(actions, "verify", verify, "verify the hash chain (exit 9 if it does not verify)")
    parser.add_argument("--stream", default="", help="only this stream (default: every stream of the tenant)")
    parser.add_argument(
        "--checkpoint", default="", metavar="FILE", help="an exported checkpoint (default: the latest stored)"
    )
    parser.add_argument(
        "--public-key", default="", metavar="FILE", help="PEM Ed25519 public key that signed --checkpoint"
    )
    parser.add_argument(
        "--page-records", type=int, default=0, metavar="N", help="records per call (default: the server's)"
    )
    _register_checkpoint(actions)
    parser = command(
        actions, "security-events", list_security_events, "list refused calls (unauthenticated, no scope)"
    )
    parser.add_argument(
        "--all", action="store_true", help="also refusals without a verified tenant (needs scope admin)"
    )
    add_list_options(parser)
