"""Page-size rules shared by every List method (API_RULES.md rule 7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from q2c_core.app.records import Page
from q2c_core.domain.errors import ValidationError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

T = TypeVar("T")
R = TypeVar("R")


def page_size(requested: int) -> int:
    """0 means the default (50); above 500 is cut to 500; negative is invalid."""
    if requested < 0:
        raise ValidationError.one("page_size", "must not be negative")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def paged(fetch: Callable[[int], Page[R]], requested: int, convert: Callable[[R], T]) -> Page[T]:
    """Fetch one page with a validated size (bad tokens become field violations) and convert it."""
    try:
        page = fetch(page_size(requested))
    except ValueError as error:
        if "page_token" in str(error):
            raise ValidationError.one("page_token", "invalid or expired page token") from None
        raise
    return Page(items=[convert(item) for item in page.items], next_page_token=page.next_page_token)
