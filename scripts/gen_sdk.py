"""Generate the Python SDK's per-RPC methods (clients/python/q2c_sdk/_gen_*.py) from q2c.v1.

Usage (from anywhere; paths are relative to the repository root):
    python scripts/gen_sdk.py            # regenerate clients/python/q2c_sdk/_gen_*.py
    python scripts/gen_sdk.py --check    # exit 1 and list stale files if they are not fresh

One module per service, holding one class (`<Service>Methods`) with one typed method per RPC:
the services, their RPCs and message types come from the generated `q2c/v1/*_pb2` modules, the
docstrings from the .proto comments (read as scripts/gen_api_docs.py reads them). A request
with a `request_id` field makes a mutation (`Transport.mutate`, `MutationOptions`), any other
unary RPC a read (`Transport.read`), a server-streaming RPC a stream (`Transport.stream`).
The hand-written modules (customers.py, billing.py, ...) subclass these classes and add the
friendly helpers; RPCs in HAND_WRITTEN are left out here and written by hand there.

Output is deterministic and formatted with `ruff format` (the repository's settings).
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_api_docs  # scripts/ is not a package
import gen_protos

ROOT = gen_protos.ROOT
PROTO_ROOT = gen_protos.PROTO_ROOT
PACKAGE = "q2c.v1"
DEFAULT_OUT = ROOT / "clients" / "python" / "q2c_sdk"
PREFIX = "_gen_"

STUBS = {
    "CustomerService": "customers",
    "RateCardService": "rate_cards",
    "EngagementService": "engagements",
    "ExceptionService": "exceptions",
    "AuditService": "audit",
    "BillingService": "billing",
    "EventService": "events",
    "DeliveryService": "deliveries",
    "ReconciliationService": "reconciliation",
    "ReportingService": "reporting",
}
"""Service -> its field of `q2c_sdk.stubs.Stubs` (where the client keeps the service's stub)."""

HAND_WRITTEN = {
    "q2c.v1.EventService.SubscribeEvents": "q2c_sdk/events.py: re-opens after the last event received",
}
"""RPCs whose client method is written by hand (it does more than the one call)."""

MUTATION = "Mutation: idempotent by request_id (set automatically; retried on UNAVAILABLE)."
READ = "Read: retried on UNAVAILABLE."
STREAM = "Server stream (a read): re-opened on UNAVAILABLE; iterate to follow it."
SENTENCE_END = re.compile(r"(?<!e\.g)(?<!i\.e)\.(?=\s|$)|:(?=\s+- )")
DOC_WIDTH = 110 - 8  # line length minus the method body's indent


@dataclass(frozen=True)
class Rpc:
    name: str
    snake: str
    request: str  # "module_pb2.Message"
    response: str
    kind: str  # "mutate", "read" or "stream"
    doc: str


@dataclass(frozen=True)
class Service:
    name: str
    proto: str  # "q2c/v1/customer.proto"
    stub: str
    rpcs: tuple[Rpc, ...]

    @property
    def module(self) -> str:
        """The generated module's file name, after the .proto file (`_gen_customer.py`)."""
        return f"{PREFIX}{Path(self.proto).stem}.py"


def snake(name: str) -> str:
    """`CloseWonEngagement` -> `close_won_engagement`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def first_sentence(comment: str) -> str:
    """The RPC comment's first sentence (up to a `.`, or a `:` that opens a list)."""
    text = " ".join(comment.split())
    m = SENTENCE_END.search(text)
    if m is None:
        return text
    return text[: m.start()] + "."


def py_type(message: Any) -> str:
    """`customer_pb2.Customer` for a message descriptor of q2c/v1/customer.proto."""
    file_name = message.file.name
    return f"{Path(file_name).stem}_pb2.{message.name}"


def comments() -> dict[str, str]:
    """RPC full name -> its comment (without the `Errors:` part), from the .proto files."""
    files = sorted(p.relative_to(PROTO_ROOT).as_posix() for p in PROTO_ROOT.rglob("*.proto"))
    api = gen_api_docs.load_api(gen_api_docs.build_descriptor_set(PROTO_ROOT, files))
    return {f"{svc.full_name}.{m.name}": m.description for svc in api.services for m in svc.methods}


def load_services() -> list[Service]:
    """Every q2c.v1 service of the generated code, in .proto file then declaration order."""
    docs = comments()
    services = []
    for proto in sorted((PROTO_ROOT / "q2c" / "v1").glob("*.proto")):
        module = importlib.import_module(f"{PACKAGE}.{proto.stem}_pb2")
        for svc in module.DESCRIPTOR.services_by_name.values():
            if svc.name not in STUBS:
                sys.exit(f"{svc.full_name}: add its Stubs field to STUBS in scripts/gen_sdk.py")
            rpcs = tuple(_rpc(svc, m, docs) for m in svc.methods if m.full_name not in HAND_WRITTEN)
            if rpcs:
                services.append(Service(svc.name, module.DESCRIPTOR.name, STUBS[svc.name], rpcs))
    return services


def _rpc(svc: Any, m: Any, docs: dict[str, str]) -> Rpc:
    if m.client_streaming:
        sys.exit(f"{m.full_name}: client streaming has no SDK pattern; add it to HAND_WRITTEN")
    if m.server_streaming:
        kind, note = "stream", STREAM
    elif "request_id" in m.input_type.fields_by_name:
        kind, note = "mutate", MUTATION
    else:
        kind, note = "read", READ
    sentence = first_sentence(docs.get(m.full_name, ""))
    doc = f"{sentence}\n\n`{svc.name}.{m.name}`. {note}"
    return Rpc(
        m.name,
        snake(m.name),
        py_type(m.input_type),
        py_type(m.output_type),
        kind,
        doc,
    )


def docstring(text: str) -> list[str]:
    """The docstring's lines (indented 8), each paragraph wrapped to the line length."""
    paragraphs = [
        textwrap.wrap(p, DOC_WIDTH, break_long_words=False, break_on_hyphens=False)
        for p in f'"""{text}'.split("\n\n")
    ]
    lines = "\n\n".join("\n".join(p) for p in paragraphs).split("\n")
    if len(lines) == 1 and len(lines[0]) + 3 <= DOC_WIDTH:
        return [f'        {lines[0]}"""']
    return [f"        {line}" if line else "" for line in [*lines, '"""']]


def render(service: Service) -> str:
    """The generated module of one service, before formatting."""
    modules = sorted({t.split(".")[0] for r in service.rpcs for t in (r.request, r.response)})
    options = sorted({"MutationOptions" if r.kind == "mutate" else "CallOptions" for r in service.rpcs})
    streams = any(r.kind == "stream" for r in service.rpcs)
    out = [
        f'"""{service.name} RPCs as typed methods of the q2c client (see `{service.proto}`).',
        "",
        "Generated by scripts/gen_sdk.py; do not edit.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        *(["from collections.abc import Iterator"] if streams else []),
        "from typing import Unpack",
        "",
        f"from q2c.v1 import {', '.join(modules)}",
        "from q2c_sdk.stubs import Bound",
        f"from q2c_sdk.transport import {', '.join(options)}",
        "",
        "",
        f"class {service.name}Methods(Bound):",
        f'    """{service.name}: one typed method per RPC, taking the request and per-call options."""',
    ]
    for rpc in service.rpcs:
        opts = "MutationOptions" if rpc.kind == "mutate" else "CallOptions"
        returns = f"Iterator[{rpc.response}]" if rpc.kind == "stream" else rpc.response
        out += [
            "",
            f"    def {rpc.snake}(self, request: {rpc.request}, **options: Unpack[{opts}]) -> {returns}:",
            *docstring(rpc.doc),
            f"        return self._transport.{rpc.kind}(",
            f"            self._stubs.{service.stub}.{rpc.name}, request, {rpc.response}, options",
            "        )",
        ]
    return "\n".join(out) + "\n"


def ruff_format(text: str, name: str) -> str:
    """`ruff format` of one module, with the repository's settings."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(DEFAULT_OUT / name), "-"],
        input=text,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        sys.exit(f"ruff format failed on {name}")
    return result.stdout


def generate() -> dict[str, str]:
    """File name -> formatted text of every generated module."""
    return {svc.module: ruff_format(render(svc), svc.module) for svc in load_services()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the generated modules are fresh")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where the modules go (q2c_sdk/)")
    args = parser.parse_args(argv)
    out: Path = args.out_dir
    expected = generate()
    present = {p.name for p in out.glob(f"{PREFIX}*.py")} if out.is_dir() else set()
    stale = sorted(
        name
        for name in expected.keys() | present
        if name not in expected
        or name not in present
        or (out / name).read_text(encoding="utf-8") != expected[name]
    )
    if args.check:
        if stale:
            print(f"stale in {out}: {', '.join(stale)}; run: python scripts/gen_sdk.py", file=sys.stderr)
            return 1
        print(f"{len(expected)} generated SDK modules are up to date")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for name in stale:
        if name in expected:
            (out / name).write_text(expected[name], encoding="utf-8")
            print(f"wrote {out / name}")
        else:
            (out / name).unlink()
            print(f"removed {out / name}")
    if not stale:
        print(f"{len(expected)} generated SDK modules unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
