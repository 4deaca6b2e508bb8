"""Opaque keyset page tokens: base64url(JSON {"after": [key values]}), tagged with the order.

A list that can be read in more than one order tags its tokens with the order's name
({"after": [...], "order": "newest_first"}); a token is only valid for the order it was made
for. The untagged form is the list's default order, so tokens issued before tagging still work.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Column, ColumnElement, Connection, DateTime, Integer, Select, and_, or_

from q2c_core.adapters.store.schema import utc
from q2c_core.app.records import Page

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def clamp_page_size(page_size: int) -> int:
    """<= 0 means the default (50); larger than 1000 is capped at 1000."""
    return DEFAULT_PAGE_SIZE if page_size <= 0 else min(page_size, MAX_PAGE_SIZE)


def encode_token(values: Sequence[Any], order: str = "") -> str:
    """Opaque token for the key of the last item on a page (read in `order`; "" = default)."""
    out = [utc(v).isoformat() if isinstance(v, datetime) else v for v in values]
    body: dict[str, Any] = {"after": out, "order": order} if order else {"after": out}
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, cols: Sequence[Column[Any]], order: str = "") -> list[Any] | None:
    """Key values from a token ('' -> None); raises ValueError("page_token") if invalid.

    A token made for another order than `order` is invalid.
    """
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
        after = body["after"]
        if body.get("order", "") != order:
            raise ValueError("page_token")
        if not isinstance(after, list) or len(after) != len(cols):
            raise ValueError("page_token")
        return [_coerce(v, c) for v, c in zip(after, cols, strict=True)]
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError("page_token") from exc


def _coerce(value: Any, col: Column[Any]) -> Any:
    """Check / convert one token value to the python type of its column."""
    if isinstance(col.type, DateTime):
        if not isinstance(value, str):
            raise ValueError("page_token")
        return utc(datetime.fromisoformat(value))
    if isinstance(col.type, Integer):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("page_token")
        return value
    if not isinstance(value, str):
        raise ValueError("page_token")
    return value


def after(
    cols: Sequence[Column[Any]], values: Sequence[Any], descending: bool = False
) -> ColumnElement[bool]:
    """Lexicographic (cols) > (values) (< when descending), written portably."""
    terms = []
    for i, col in enumerate(cols):
        eqs = [c == v for c, v in zip(cols[:i], values[:i], strict=True)]
        terms.append(and_(*eqs, col < values[i] if descending else col > values[i]))
    return or_(*terms)


def keyset_page(
    conn: Connection,
    query: Select[Any],
    cols: Sequence[Column[Any]],
    page_size: int,
    page_token: str,
    to_item: Callable[[Any], T],
    key_of: Callable[[T], Sequence[Any]],
    descending: bool = False,
    order: str = "",
) -> Page[T]:
    """Run `query` ordered by `cols` after the token's key; one extra row detects more.

    `order` names the order for the tokens ("" = the list's default order).
    """
    size = clamp_page_size(page_size)
    start = decode_token(page_token, cols, order)
    if start is not None:
        query = query.where(after(cols, start, descending))
    ordering = [c.desc() for c in cols] if descending else list(cols)
    rows = conn.execute(query.order_by(*ordering).limit(size + 1)).all()
    items = [to_item(r) for r in rows[:size]]
    token = encode_token(key_of(items[-1]), order) if len(rows) > size else ""
    return Page(items, token)
