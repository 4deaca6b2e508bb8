"""Where `q2c` output goes: rich tables on stdout, or one JSON document; errors on stderr.

Also the small formatters every table uses (money with its currency, dates, timestamps, enum
names without their prefix), so a value reads the same in every view.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2
from rich.console import Console, RenderableType
from rich.table import Table

from clients.cli_errors import ErrorReport
from q2c.v1 import common_pb2

PIPE_WIDTH = 200
"""Table width when stdout is not a terminal, so ids are never wrapped or cut in pipes and logs."""

Column = tuple[str, Callable[[Any], str]]
"""A table column: its header and how to render one item in it."""


def message_dict(message: Message) -> dict[str, Any]:
    """A message as JSON-ready data: proto field names, defaults included, int64 as numbers."""
    data: dict[str, Any] = json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )
    return data


class Output:
    """Renders results and errors for one invocation, as tables or as JSON."""

    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode

    def console(self) -> Console:
        """A console on the current stdout (looked up per call, so redirection is honoured)."""
        console = Console(file=sys.stdout, highlight=False)
        if not console.is_terminal:
            console.width = PIPE_WIDTH
        return console

    def stderr_console(self) -> Console:
        """A console on stderr, for progress bars."""
        console = Console(file=sys.stderr, highlight=False)
        if not console.is_terminal:
            console.width = PIPE_WIDTH
        return console

    def emit(self, message: Message, view: Callable[[Any], Sequence[RenderableType]]) -> None:
        """Print `message` as JSON, or as the renderables `view` makes of it."""
        if self.json_mode:
            sys.stdout.write(json.dumps(message_dict(message), indent=2) + "\n")
            return
        console = self.console()
        for renderable in view(message):
            console.print(renderable)

    def error(self, report: ErrorReport) -> None:
        """One line on stderr (or one JSON object in --json mode); never a traceback."""
        text = json.dumps(report.as_dict()) if self.json_mode else report.line()
        print(text, file=sys.stderr)


def table(title: str, columns: Sequence[Column], items: Iterable[Any], caption: str = "") -> Table:
    """A list view: one row per item."""
    view = Table(*(header for header, _ in columns), title=title, caption=caption or None)
    for item in items:
        view.add_row(*(render(item) for _, render in columns))
    return view


def details(title: str, rows: Sequence[tuple[str, str]]) -> Table:
    """A detail view: one row per field (empty values left out)."""
    view = Table("field", "value", title=title, show_header=False)
    for name, value in rows:
        if value:
            view.add_row(name, value)
    return view


def money(value: common_pb2.Money) -> str:
    """`1234.50 USD`, exact as the server sent it; empty when unset."""
    return f"{value.amount} {value.currency_code}" if value.amount else ""


def moneys(values: Iterable[common_pb2.Money]) -> str:
    """Several amounts, one per currency."""
    return ", ".join(money(v) for v in values)


def day(value: date_pb2.Date) -> str:
    """`2026-01-31`; empty when unset."""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}" if value.year else ""


def moment(value: Timestamp) -> str:
    """UTC timestamp to the second, `2026-01-31 17:05:09Z`; empty when unset."""
    if not value.seconds and not value.nanos:
        return ""
    return str(value.ToDatetime().strftime("%Y-%m-%d %H:%M:%SZ"))


def period(value: common_pb2.BillingPeriod) -> str:
    """`2026-01`, or `2026-01-01..2026-01-15` for a range."""
    return value.month or f"{day(value.start_date)}..{day(value.end_date)}"


def enum_label(enum: Any, value: int, prefix: str) -> str:
    """ENGAGEMENT_STATE_ACTIVE -> ACTIVE; an unknown number stays a number."""
    try:
        name: str = enum.Name(value)
    except ValueError:
        return str(value)
    return "" if name.endswith("_UNSPECIFIED") else name.removeprefix(prefix)


def more_caption(token: str) -> str:
    """A table caption telling how to fetch the rest, when there is more."""
    return f"more results: --limit 0 for all, or --page-token {token}" if token else ""
