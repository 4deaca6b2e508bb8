"""Regenerate the Python protobuf / gRPC code of q2c from protos/ into the `q2c/` package.

Usage (from anywhere; paths are relative to the repository root):
    python scripts/gen_protos.py            # regenerate q2c/ in place
    python scripts/gen_protos.py --check    # exit 1 and list stale files if q2c/ is not fresh

This is the only way the generated code is produced. Output is deterministic: the same
.proto files and the same grpcio-tools version give byte-identical files.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "protos"
PACKAGE = "q2c"
INIT_FILES = {
    Path(PACKAGE, "__init__.py"): '"""Generated protobuf / gRPC code for q2c; do not edit."""\n',
    Path(PACKAGE, "v1", "__init__.py"): '"""Generated from protos/q2c/v1; do not edit."""\n',
}


def grpc_tools_include() -> Path:
    """The well-known-type protos (google/protobuf/*.proto) bundled with grpcio-tools."""
    return Path(str(resources.files("grpc_tools") / "_proto"))


def googleapis_include() -> Path:
    """The directory holding google/{rpc,api,type}/*.proto from googleapis-common-protos."""
    import google.rpc.status_pb2 as status_pb2

    include = Path(status_pb2.__file__).resolve().parent.parent.parent
    if not (include / "google" / "rpc" / "status.proto").is_file():
        sys.exit(f"googleapis-common-protos .proto files not found under {include}")
    return include


def proto_files() -> list[str]:
    """Every .proto under protos/, relative to it, sorted (stable input order)."""
    return sorted(p.relative_to(PROTO_ROOT).as_posix() for p in PROTO_ROOT.rglob("*.proto"))


def generate(out_dir: Path) -> None:
    """Run protoc over every .proto into out_dir and add the package __init__ files."""
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{grpc_tools_include()}",
        f"-I{googleapis_include()}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *proto_files(),
    ]
    result = subprocess.run(cmd, cwd=PROTO_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"protoc failed with exit code {result.returncode}")
    for rel, text in INIT_FILES.items():
        (out_dir / rel).write_text(text, encoding="utf-8")


def tree(base: Path) -> set[Path]:
    """Files of the generated package under base (relative paths), ignoring caches."""
    pkg = base / PACKAGE
    if not pkg.is_dir():
        return set()
    return {
        p.relative_to(base)
        for p in pkg.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def stale_files(fresh: Path) -> list[str]:
    """Paths whose committed copy is missing, different or no longer generated."""
    want, have = tree(fresh), tree(ROOT)
    stale = [p for p in want if p not in have or not filecmp.cmp(fresh / p, ROOT / p, False)]
    stale += [p for p in have - want]
    return sorted(p.as_posix() for p in stale)


def sync(fresh: Path) -> list[str]:
    """Make ROOT/q2c equal to the fresh tree; return the changed paths."""
    changed = stale_files(fresh)
    for rel in map(Path, changed):
        target = ROOT / rel
        if (fresh / rel).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh / rel, target)
        else:
            target.unlink()
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify q2c/ is up to date; change nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="q2c-protos-") as tmp:
        fresh = Path(tmp)
        generate(fresh)
        if args.check:
            stale = stale_files(fresh)
            if stale:
                print("generated code is stale; run: python scripts/gen_protos.py", file=sys.stderr)
                for path in stale:
                    print(f"  {path}", file=sys.stderr)
                return 1
            print("generated code is up to date")
            return 0
        changed = sync(fresh)
    print(f"regenerated {PACKAGE}/: {len(changed)} file(s) changed")
    for path in changed:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
