"""Log lines as text or JSON, each carrying the context of the work it belongs to.

Every line written while a request is handled (or a batch, or a delivery) carries that work's
fields: tenant, principal, rpc, correlation_id, engagement_id. They live in context variables
(so they follow a call across awaits and into `asyncio.to_thread`), and one `ContextFilter` on
the root handler copies them onto each record: the formatter prints them in JSON, the text
format stays as it was. Code that knows more context binds it with `log_context(...)`;
contexts kept elsewhere (the gateway's caller) are read through `add_context_source`.

Imports nothing of q2c, so every room may use it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
"""The text line (unchanged from the plain `logging.basicConfig` q2c used before)."""
JSON_FIELDS = ("levelname", "name", "message")
JSON_RENAMES = {"levelname": "level", "name": "logger"}
CONTEXT_FIELDS = ("tenant", "principal", "rpc", "correlation_id", "engagement_id")
"""The context fields a line may carry (more may be bound, e.g. outcome, duration_ms)."""

LogFormat = Literal["text", "json"]
Fields = Mapping[str, object]
ContextSource = Callable[[], Fields]

_FIELDS: ContextVar[Fields] = ContextVar("q2c_log_fields", default={})  # noqa: B039 (never mutated)
_SOURCES: list[ContextSource] = []


def add_context_source(source: ContextSource) -> None:
    """Read `source()` for the fields of every line (fields bound by `log_context` win)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def context_fields() -> dict[str, object]:
    """The fields a line written now would carry (empty values left out)."""
    fields: dict[str, object] = {}
    for source in _SOURCES:
        fields.update(source())
    fields.update(_FIELDS.get())
    return {key: value for key, value in fields.items() if value not in ("", None)}


def bound_correlation_id() -> str:
    """The correlation id of the work in hand ('' when there is none)."""
    return str(context_fields().get("correlation_id", ""))


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Bind `fields` to every line written inside the block (nested blocks add to them)."""
    token = _FIELDS.set({**_FIELDS.get(), **fields})
    try:
        yield
    finally:
        try:
            _FIELDS.reset(token)
        except ValueError:  # an async generator closed from another context
            _FIELDS.set(token.old_value if token.old_value is not token.MISSING else {})


def batch_fields(
    correlation_ids: Iterable[str], engagement_ids: Iterable[str] = (), tenants: Iterable[str] = ()
) -> dict[str, object]:
    """The fields of a batch of commands: one correlation id as `correlation_id`, several as the
    list `correlation_ids`; the engagement and tenant only when the whole batch shares one."""
    correlations = sorted(set(correlation_ids))
    fields: dict[str, object] = {}
    if len(correlations) == 1:
        fields["correlation_id"] = correlations[0]
    elif correlations:
        fields["correlation_ids"] = correlations
    for name, values in (("engagement_id", set(engagement_ids)), ("tenant", set(tenants))):
        if len(values) == 1:
            fields[name] = values.pop()
    return fields


class ContextFilter(logging.Filter):
    """Copies the context fields onto each record (a field the call site passed in `extra` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in context_fields().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def formatter(fmt: LogFormat) -> logging.Formatter:
    """The text formatter, or the JSON one (one object per line, context fields included)."""
    if fmt == "json":
        # "time": ISO 8601 in UTC, as log pipelines parse it without a format string
        return JsonFormatter(
            JSON_FIELDS, rename_fields=JSON_RENAMES, timestamp="time", json_ensure_ascii=False
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(level: str | int, fmt: LogFormat = "text") -> logging.Handler:
    """One stderr handler on the root logger, in `fmt`, with the context filter; returns it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def adopt_logger(name: str) -> None:
    """Send a library's lines through q2c's handler (format and context) instead of its own:
    Ray installs a text handler on "ray" when it is imported, so call this after importing it."""
    logger = logging.getLogger(name)
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.propagate = True
