"""The `q2c` command: `q2c serve` runs the service, `q2c demo` drives the demo scenario.

The operator commands (list, get, resolve, bill runs, audit verification) arrive with the
clients issue; this entry point already owns the name so scripts can rely on it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch `q2c serve ...` and `q2c demo ...`."""
    args = list(sys.argv[1:] if argv is None else argv)
    command, rest = (args[0], args[1:]) if args else ("", [])
    if command == "serve":
        import server

        return server.main(rest)
    if command == "demo":
        from clients import demo

        return demo.main(rest)
    print("usage: q2c {serve,demo} [options]   (q2c serve --help for the service's settings)")
    return 0 if command in ("-h", "--help") else 2


if __name__ == "__main__":
    sys.exit(main())
