"""Generate docs/api.md, the q2c.v1 API reference, from the .proto files and their comments.

Usage (from anywhere; paths are relative to the repository root):
    python scripts/gen_api_docs.py            # regenerate docs/api.md
    python scripts/gen_api_docs.py --check    # exit 1 if docs/api.md is stale or a comment is missing

The reference is rendered from a FileDescriptorSet with source info (protoc, the same include
directories as scripts/gen_protos.py): file header comments, then every service with each RPC
(request -> response, streaming marked, its comment and the error reasons parsed from the
"Errors:" part of the comment), every message with a fields table, every enum with its values.

Both modes also check the comments (exit 1, listing each problem):
- every service, RPC, message, field, enum and enum value of the API package has a comment;
- every RPC comment has an "Errors:" part naming canonical gRPC codes, each with its reasons in
  parentheses, and every reason is one of those listed in the error model of common.proto.

Output is deterministic: the same .proto files give a byte-identical docs/api.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_protos  # scripts/ is not a package
import grpc
from google.api import field_behavior_pb2  # registers the field_behavior extension
from google.protobuf import descriptor_pb2

ROOT = gen_protos.ROOT
PROTO_ROOT = gen_protos.PROTO_ROOT
DEFAULT_OUT = ROOT / "docs" / "api.md"
PACKAGE = "q2c.v1"
ERROR_MODEL_FILE = "q2c/v1/common.proto"

# Paths into SourceCodeInfo (field numbers of descriptor.proto).
FILE_SYNTAX, FILE_MESSAGE, FILE_ENUM, FILE_SERVICE = 12, 4, 5, 6
MSG_FIELD, MSG_NESTED, MSG_ENUM, MSG_ONEOF = 2, 3, 4, 8
ENUM_VALUE = 2
SERVICE_METHOD = 2

GRPC_CODES = frozenset(code.name for code in grpc.StatusCode)
REASON_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$")
ERRORS_RE = re.compile(r"(?:^|\n)Errors:\s*")

SCALARS = {
    descriptor_pb2.FieldDescriptorProto.TYPE_DOUBLE: "double",
    descriptor_pb2.FieldDescriptorProto.TYPE_FLOAT: "float",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT64: "int64",
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT64: "uint64",
    descriptor_pb2.FieldDescriptorProto.TYPE_INT32: "int32",
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED64: "fixed64",
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED32: "fixed32",
    descriptor_pb2.FieldDescriptorProto.TYPE_BOOL: "bool",
    descriptor_pb2.FieldDescriptorProto.TYPE_STRING: "string",
    descriptor_pb2.FieldDescriptorProto.TYPE_BYTES: "bytes",
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT32: "uint32",
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED32: "sfixed32",
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED64: "sfixed64",
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT32: "sint32",
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT64: "sint64",
}
LABEL_REPEATED = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
TYPE_MESSAGE = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
TYPE_ENUM = descriptor_pb2.FieldDescriptorProto.TYPE_ENUM


# --------------------------------------------------------------------------- descriptors


def build_descriptor_set(proto_root: Path, files: list[str]) -> descriptor_pb2.FileDescriptorSet:
    """protoc --include_source_info --include_imports over files (relative to proto_root)."""
    with tempfile.TemporaryDirectory(prefix="q2c-api-docs-") as tmp:
        out = Path(tmp) / "descriptors.binpb"
        cmd = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{proto_root}",
            f"-I{gen_protos.grpc_tools_include()}",
            f"-I{gen_protos.googleapis_include()}",
            "--include_source_info",
            "--include_imports",
            f"--descriptor_set_out={out}",
            *files,
        ]
        result = subprocess.run(cmd, cwd=proto_root, capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            sys.exit(f"protoc failed with exit code {result.returncode}")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


class Comments:
    """Leading (else trailing) comments of one file, by SourceCodeInfo path."""

    def __init__(self, fd: descriptor_pb2.FileDescriptorProto) -> None:
        self.by_path: dict[tuple[int, ...], descriptor_pb2.SourceCodeInfo.Location] = {
            tuple(loc.path): loc for loc in fd.source_code_info.location
        }

    def get(self, path: tuple[int, ...]) -> str:
        loc = self.by_path.get(path)
        if loc is None:
            return ""
        return clean(loc.leading_comments) or clean(loc.trailing_comments)

    def header(self) -> str:
        """The file's header comment: the comments above `syntax = ...`."""
        loc = self.by_path.get((FILE_SYNTAX,))
        if loc is None:
            return ""
        parts = [clean(c) for c in loc.leading_detached_comments] + [clean(loc.leading_comments)]
        return "\n\n".join(p for p in parts if p)


def clean(comment: str) -> str:
    """Drop the one space protoc leaves after `//` and surrounding blank lines."""
    lines = [line[1:] if line.startswith(" ") else line for line in comment.splitlines()]
    return "\n".join(line.rstrip() for line in lines).strip("\n")


@dataclass
class Field:
    name: str
    number: int
    type: str  # markdown
    label: str
    comment: str
    behavior: list[str]


@dataclass
class Message:
    full_name: str
    file: str
    comment: str
    fields: list[Field] = field(default_factory=list)
    nested: list[str] = field(default_factory=list)


@dataclass
class EnumValue:
    name: str
    number: int
    comment: str


@dataclass
class Enum:
    full_name: str
    file: str
    comment: str
    values: list[EnumValue] = field(default_factory=list)


@dataclass
class ErrorReason:
    code: str
    reason: str
    detail: str


@dataclass
class Method:
    name: str
    request: str
    response: str
    client_streaming: bool
    server_streaming: bool
    description: str
    errors: list[ErrorReason]
    errors_note: str


@dataclass
class Service:
    full_name: str
    file: str
    comment: str
    methods: list[Method] = field(default_factory=list)


@dataclass
class Api:
    headers: list[tuple[str, str]] = field(default_factory=list)  # (file, header comment)
    services: list[Service] = field(default_factory=list)
    messages: dict[str, Message] = field(default_factory=dict)  # full name -> message
    enums: dict[str, Enum] = field(default_factory=dict)
    map_entries: dict[str, descriptor_pb2.DescriptorProto] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- errors parsing


def split_depth0(text: str, sep: str) -> list[str]:
    """Split on sep where it is outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_errors(text: str) -> tuple[list[ErrorReason], str, list[str]]:
    """Parse `CODE (REASON[, REASON][: detail][; REASON: detail]...), CODE (...)...`.

    Returns the reasons, any trailing note after the last group, and problems found.
    """
    text = " ".join(text.split())
    reasons: list[ErrorReason] = []
    problems: list[str] = []
    pos = 0
    note = ""
    code_re = re.compile(r"\s*,?\s*([A-Z_]+)\s*")
    while pos < len(text):
        m = code_re.match(text, pos)
        if not m or not m.group(1):
            note = text[pos:].strip(" .,")
            break
        code = m.group(1)
        pos = m.end()
        if code not in GRPC_CODES:
            problems.append(f"{code!r} is not a canonical gRPC status code")
        if pos >= len(text) or text[pos] != "(":
            problems.append(f"{code} has no (REASON) after it")
            continue
        depth, end = 0, pos
        for end in range(pos, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                break
        if depth != 0:
            problems.append(f"unbalanced parentheses after {code}")
            break
        group = text[pos + 1 : end]
        pos = end + 1
        found = False
        for segment in split_depth0(group, ";"):
            head, colon, detail = segment.partition(":")
            names = [n.strip() for n in head.split(",")]
            if all(REASON_RE.match(n) for n in names):
                for n in names:
                    reasons.append(ErrorReason(code, n, detail.strip() if colon else ""))
                found = True
            elif reasons and found:
                last = reasons[-1]
                last.detail = f"{last.detail}; {segment.strip()}" if last.detail else segment.strip()
            else:
                problems.append(f"{code} ({group}): no UPPER_SNAKE reason before {segment.strip()!r}")
        if pos < len(text) and text[pos] == ".":
            note = text[pos + 1 :].strip()
            break
    return reasons, note, problems


def split_method_comment(comment: str) -> tuple[str, str | None]:
    """(description, errors text or None when the comment has no `Errors:` part)."""
    m = ERRORS_RE.search(comment)
    if not m:
        return comment, None
    return comment[: m.start()].rstrip(), comment[m.end() :]


def known_reasons(header: str) -> set[str]:
    """Every UPPER_SNAKE word of the error-model header (the reasons the API declares)."""
    return set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[A-Z]{4,}\b", header))


# --------------------------------------------------------------------------- model


def load_api(fds: descriptor_pb2.FileDescriptorSet, package: str = PACKAGE) -> Api:
    """The API model of `package`, with the comment problems found in api.problems."""
    return _Loader(fds, package).api


class _Loader:
    def __init__(self, fds: descriptor_pb2.FileDescriptorSet, package: str) -> None:
        self.api = Api()
        self.missing: list[str] = []
        for fd in fds.file:  # map entries first, so field types can render as map<K, V>
            self._collect_maps(f".{fd.package}" if fd.package else "", list(fd.message_type))
        for fd in sorted((fd for fd in fds.file if fd.package == package), key=lambda fd: fd.name):
            self._file(fd, Comments(fd))
        self.api.problems = [f"missing comment: {m}" for m in self.missing] + self.api.problems
        self._check_reasons()

    def _need(self, what: str, comment: str) -> None:
        if not comment.strip():
            self.missing.append(what)

    def _collect_maps(self, prefix: str, msgs: list[descriptor_pb2.DescriptorProto]) -> None:
        for msg in msgs:
            full = f"{prefix}.{msg.name}"
            if msg.options.map_entry:
                self.api.map_entries[full] = msg
            self._collect_maps(full, list(msg.nested_type))

    def _file(self, fd: descriptor_pb2.FileDescriptorProto, comments: Comments) -> None:
        header = comments.header()
        if header:
            self.api.headers.append((fd.name, header))
        for si, svc in enumerate(fd.service):
            self._service(fd, comments, svc, (FILE_SERVICE, si))
        for i, msg in enumerate(fd.message_type):
            self._message(fd, comments, msg, f"{fd.package}.{msg.name}", (FILE_MESSAGE, i))
        for i, en in enumerate(fd.enum_type):
            self._enum(fd, comments, en, f"{fd.package}.{en.name}", (FILE_ENUM, i))

    def _service(
        self,
        fd: descriptor_pb2.FileDescriptorProto,
        comments: Comments,
        svc: descriptor_pb2.ServiceDescriptorProto,
        path: tuple[int, ...],
    ) -> None:
        full = f"{fd.package}.{svc.name}"
        comment = comments.get(path)
        self._need(f"service {full}", comment)
        service = Service(full, fd.name, comment)
        for mi, rpc in enumerate(svc.method):
            what = f"rpc {full}.{rpc.name}"
            rc = comments.get((*path, SERVICE_METHOD, mi))
            self._need(what, rc)
            description, errors_text = split_method_comment(rc)
            errors: list[ErrorReason] = []
            note = ""
            if rc and errors_text is None:
                self.api.problems.append(f"{what}: comment has no 'Errors:' part")
            elif errors_text is not None:
                errors, note, problems = parse_errors(errors_text)
                self.api.problems += [f"{what}: {p}" for p in problems]
                if not errors:
                    self.api.problems.append(f"{what}: 'Errors:' names no reason")
            service.methods.append(
                Method(
                    rpc.name,
                    rpc.input_type.lstrip("."),
                    rpc.output_type.lstrip("."),
                    rpc.client_streaming,
                    rpc.server_streaming,
                    description,
                    errors,
                    note,
                )
            )
        self.api.services.append(service)

    def _enum(
        self,
        fd: descriptor_pb2.FileDescriptorProto,
        comments: Comments,
        en: descriptor_pb2.EnumDescriptorProto,
        full: str,
        path: tuple[int, ...],
    ) -> None:
        comment = comments.get(path)
        self._need(f"enum {full}", comment)
        enum = Enum(full, fd.name, comment)
        for vi, val in enumerate(en.value):
            vc = comments.get((*path, ENUM_VALUE, vi))
            self._need(f"enum value {full}.{val.name}", vc)
            enum.values.append(EnumValue(val.name, val.number, vc))
        self.api.enums[full] = enum

    def _message(
        self,
        fd: descriptor_pb2.FileDescriptorProto,
        comments: Comments,
        msg: descriptor_pb2.DescriptorProto,
        full: str,
        path: tuple[int, ...],
    ) -> None:
        if msg.options.map_entry:
            return
        comment = comments.get(path)
        self._need(f"message {full}", comment)
        message = Message(full, fd.name, comment)
        for fi, f in enumerate(msg.field):
            fc = comments.get((*path, MSG_FIELD, fi))
            self._need(f"field {full}.{f.name}", fc)
            label = ""
            if f.proto3_optional:
                label = "optional"
            elif f.HasField("oneof_index"):
                label = f"oneof `{msg.oneof_decl[f.oneof_index].name}`"
            elif f.label == LABEL_REPEATED and f.type_name not in self.api.map_entries:
                label = "repeated"
            behavior = [
                field_behavior_pb2.FieldBehavior.Name(b)
                for b in f.options.Extensions[field_behavior_pb2.field_behavior]
            ]
            message.fields.append(Field(f.name, f.number, render_type(self.api, f), label, fc, behavior))
        for oi, oneof in enumerate(msg.oneof_decl):
            members = [f for f in msg.field if f.HasField("oneof_index") and f.oneof_index == oi]
            if not all(f.proto3_optional for f in members):  # synthetic oneofs need no comment
                self._need(f"oneof {full}.{oneof.name}", comments.get((*path, MSG_ONEOF, oi)))
        message.nested = [f"{full}.{n.name}" for n in msg.nested_type if not n.options.map_entry]
        message.nested += [f"{full}.{e.name}" for e in msg.enum_type]
        self.api.messages[full] = message
        for ni, nested in enumerate(msg.nested_type):
            self._message(fd, comments, nested, f"{full}.{nested.name}", (*path, MSG_NESTED, ni))
        for ei, en in enumerate(msg.enum_type):
            self._enum(fd, comments, en, f"{full}.{en.name}", (*path, MSG_ENUM, ei))

    def _check_reasons(self) -> None:
        """Every reason an RPC names must be declared in the error model (common.proto's header)."""
        model = dict(self.api.headers).get(ERROR_MODEL_FILE)
        if model is None:
            return
        declared = known_reasons(model)
        for svc in self.api.services:
            for m in svc.methods:
                for e in m.errors:
                    if e.reason not in declared:
                        self.api.problems.append(
                            f"rpc {svc.full_name}.{m.name}: reason {e.reason} is not in the error "
                            f"model of {ERROR_MODEL_FILE}"
                        )


def render_type(api: Api, f: descriptor_pb2.FieldDescriptorProto) -> str:
    if f.type in (TYPE_MESSAGE, TYPE_ENUM):
        entry = api.map_entries.get(f.type_name)
        if entry is not None:
            key, value = entry.field[0], entry.field[1]
            return f"map&lt;{render_type(api, key)}, {render_type(api, value)}&gt;"
        return type_link(f.type_name.lstrip("."))
    return f"`{SCALARS[f.type]}`"


def type_link(full: str) -> str:
    if full.startswith(PACKAGE + "."):
        return f"[`{full[len(PACKAGE) + 1 :]}`](#{anchor(full)})"
    return f"`{full}`"


def anchor(full: str) -> str:
    return full.lower().replace(".", "-")


# --------------------------------------------------------------------------- markdown


def escape(text: str) -> str:
    """Escape `<` outside `code` spans (comments are prose, not HTML), and a leading `>`."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;")
    text = "`".join(parts)
    return "\\" + text if text.startswith((">", "#", "+ ", "* ")) else text


def blocks(comment: str) -> list[tuple[str, str]]:
    """Split a comment into ("p", text), ("li", text) and ("pre", text) blocks.

    Paragraph and list-item lines are joined into one line (so a wrapped line starting with
    `>` or `-` cannot turn into markdown syntax); an indented run of lines that does not
    continue a list item is preformatted (lifecycle diagrams).
    """
    out: list[tuple[str, str]] = []
    for line in comment.splitlines():
        stripped = line.strip()
        indented = line.startswith("  ")
        kind = out[-1][0] if out else ""
        if not stripped:
            out.append(("", ""))
        elif stripped.startswith("- ") and not indented:
            out.append(("li", stripped[2:]))
        elif indented and kind == "li":
            out[-1] = ("li", f"{out[-1][1]} {stripped}")
        elif indented and kind == "pre":
            out[-1] = ("pre", f"{out[-1][1]}\n{line[2:]}")
        elif indented:
            out.append(("pre", line[2:]))
        elif kind == "p" or (kind == "li" and not (stripped[:1].isupper() and out[-1][1].endswith("."))):
            out[-1] = (kind, f"{out[-1][1]} {stripped}")
        else:
            out.append(("p", stripped))
    return [b for b in out if b[0]]


def markdown(comment: str) -> str:
    lines: list[str] = []
    prev = ""
    for kind, text in blocks(comment):
        if lines and not (kind == "li" and prev == "li"):
            lines.append("")
        if kind == "pre":
            lines += ["```text", text, "```"]
        elif kind == "li":
            lines.append(f"- {escape(text)}")
        else:
            lines.append(escape(text))
        prev = kind
    return "\n".join(lines)


def cell(comment: str) -> str:
    """A comment inside a table cell: one line, `|` escaped, list items on their own lines."""
    out = []
    for kind, text in blocks(comment):
        text = escape(text).replace("|", "\\|")
        if kind == "li":
            out.append(f"• {text}")
        elif kind == "pre":
            out.append("<code>" + text.replace("\n", "<br>") + "</code>")
        else:
            out.append(text)
    return "<br>".join(out)


def render(api: Api) -> str:
    out: list[str] = []
    w = out.append
    w("# q2c API reference (`q2c.v1`)")
    w("")
    w("<!-- Generated by scripts/gen_api_docs.py from protos/q2c/v1/*.proto; do not edit. -->")
    w("<!-- Regenerate: python scripts/gen_api_docs.py (CI runs it with --check). -->")
    w("")
    w(
        "The wire contract of q2c, rendered from the comments of the `.proto` files in "
        "[`protos/`](../protos/README.md). Errors are `google.rpc.Status` with one "
        "`google.rpc.ErrorInfo` (domain `q2c.v1`); each RPC lists the status codes and "
        "`ErrorInfo.reason` values it can return. A retrying client service config is in "
        "[`protos/q2c/v1/service_config.json`](../protos/q2c/v1/service_config.json)."
    )
    w("")
    w("## Contents")
    w("")
    if api.headers:
        w("- [Overview](#overview)")
    w("- [Services](#services)")
    for svc in api.services:
        w(f"  - [{svc.full_name}](#{anchor(svc.full_name)})")
        for m in svc.methods:
            w(f"    - [{m.name}](#{anchor(svc.full_name + '.' + m.name)})")
    w("- [Messages](#messages)")
    for name in sorted(api.messages):
        w(f"  - [{name[len(PACKAGE) + 1 :]}](#{anchor(name)})")
    w("- [Enums](#enums)")
    for name in sorted(api.enums):
        w(f"  - [{name[len(PACKAGE) + 1 :]}](#{anchor(name)})")
    w("")

    if api.headers:
        w("## Overview")
        w("")
        for fname, header in sorted(api.headers, key=lambda h: (h[0] != ERROR_MODEL_FILE, h[0])):
            w(f"### `{fname}`")
            w("")
            w(markdown(header))
            w("")

    w("## Services")
    w("")
    w(
        "Each method lists the status codes and `ErrorInfo.reason` values its comment names. "
        "Failures not tied to one method (`UNAVAILABLE` while a store or shard is down, `ABORTED` / "
        "`CONCURRENT_MODIFICATION`, `INTERNAL`, and the client-side `DEADLINE_EXCEEDED` and "
        "`CANCELLED`) are described in the error model of [`q2c/v1/common.proto`](#overview)."
    )
    w("")
    for svc in api.services:
        w(f'<a id="{anchor(svc.full_name)}"></a>')
        w("")
        w(f"### {svc.full_name}")
        w("")
        w(f"Defined in `{svc.file}`.")
        w("")
        w(markdown(svc.comment))
        w("")
        w("| Method | Request | Response |")
        w("|---|---|---|")
        for m in svc.methods:
            w(
                f"| [{m.name}](#{anchor(svc.full_name + '.' + m.name)}) | "
                f"{'stream ' if m.client_streaming else ''}{type_link(m.request)} | "
                f"{'stream ' if m.server_streaming else ''}{type_link(m.response)} |"
            )
        w("")
        for m in svc.methods:
            w(f'<a id="{anchor(svc.full_name + "." + m.name)}"></a>')
            w("")
            w(f"#### {svc.full_name[len(PACKAGE) + 1 :]}.{m.name}")
            w("")
            req = ("stream " if m.client_streaming else "") + type_link(m.request)
            resp = ("stream " if m.server_streaming else "") + type_link(m.response)
            kind = ""
            if m.client_streaming or m.server_streaming:
                kind = " — " + (
                    "bidirectional streaming"
                    if m.client_streaming and m.server_streaming
                    else "server streaming"
                    if m.server_streaming
                    else "client streaming"
                )
            w(f"`rpc {m.name}` ({req}) → ({resp}){kind}")
            w("")
            if m.description:
                w(markdown(m.description))
                w("")
            if m.errors:
                w("Errors:")
                w("")
                w("| Code | Reason | When |")
                w("|---|---|---|")
                for e in m.errors:
                    w(f"| `{e.code}` | `{e.reason}` | {cell(e.detail)} |")
                w("")
                if m.errors_note:
                    w(escape(m.errors_note))
                    w("")

    w("## Messages")
    w("")
    for name in sorted(api.messages):
        msg = api.messages[name]
        w(f'<a id="{anchor(name)}"></a>')
        w("")
        w(f"### {name[len(PACKAGE) + 1 :]}")
        w("")
        w(f"Defined in `{msg.file}`.")
        w("")
        w(markdown(msg.comment))
        w("")
        if msg.fields:
            w("| Field | # | Type | Label | Behavior | Description |")
            w("|---|---|---|---|---|---|")
            for f in msg.fields:
                behavior = ", ".join(f"`{b}`" for b in f.behavior)
                w(f"| `{f.name}` | {f.number} | {f.type} | {f.label} | {behavior} | {cell(f.comment)} |")
        else:
            w("No fields.")
        w("")
        if msg.nested:
            w("Nested: " + ", ".join(type_link(n) for n in msg.nested) + ".")
            w("")

    w("## Enums")
    w("")
    for name in sorted(api.enums):
        en = api.enums[name]
        w(f'<a id="{anchor(name)}"></a>')
        w("")
        w(f"### {name[len(PACKAGE) + 1 :]}")
        w("")
        w(f"Defined in `{en.file}`.")
        w("")
        w(markdown(en.comment))
        w("")
        w("| Value | # | Description |")
        w("|---|---|---|")
        for v in en.values:
            w(f"| `{v.name}` | {v.number} | {cell(v.comment)} |")
        w("")
    return "\n".join(out).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify docs/api.md is fresh; change nothing")
    parser.add_argument("--proto-root", type=Path, default=PROTO_ROOT, help="directory of the .proto files")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output (docs/api.md)")
    args = parser.parse_args(argv)
    proto_root = args.proto_root.resolve()
    files = sorted(p.relative_to(proto_root).as_posix() for p in proto_root.rglob("*.proto"))
    if not files:
        print(f"no .proto files under {proto_root}", file=sys.stderr)
        return 1
    api = load_api(build_descriptor_set(proto_root, files))
    status = 0
    if api.problems:
        print(f"{len(api.problems)} API comment problem(s):", file=sys.stderr)
        for p in api.problems:
            print(f"  {p}", file=sys.stderr)
        status = 1
    text = render(api)
    out: Path = args.out
    if args.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"{out} is stale; run: python scripts/gen_api_docs.py", file=sys.stderr)
            return 1
        if status == 0:
            print(f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} is up to date")
        return status
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.is_file() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    else:
        print(f"{out} unchanged")
    return status


if __name__ == "__main__":
    sys.exit(main())
