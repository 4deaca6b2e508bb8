"""Bugs the fuzzer found that are not fixed yet, each reproduced by a strict xfail.

A failing reply that matches one is counted under `FuzzReport.known` instead of failing the
run, so CI keeps guarding everything else. When a fix lands, its xfail in
tests/fuzz/test_regressions.py passes unexpectedly (strict): delete the entry here too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import timestamp_pb2

TIMESTAMP_MIN, TIMESTAMP_MAX = -62135596800, 253402300799


@dataclass(frozen=True)
class KnownBug:
    """A named bug: which RPC, and which requests trigger it."""

    name: str
    rpc: str
    matches: Callable[[Any], bool]


def _invalid_timestamp(stamp: timestamp_pb2.Timestamp) -> bool:
    return not (TIMESTAMP_MIN <= stamp.seconds <= TIMESTAMP_MAX and 0 <= stamp.nanos <= 999_999_999)


def has_nul(message: Any) -> bool:
    """True when any string field, at any depth, contains a NUL character."""
    for field, value in message.ListFields():
        items = value if field.is_repeated else [value]
        for item in items:
            if isinstance(item, str) and "\x00" in item:
                return True
            if hasattr(item, "ListFields") and has_nul(item):
                return True
    return False


INT32_MAX = 2**31 - 1

KNOWN_BUGS: tuple[KnownBug, ...] = ()
"""None open: every bug the fuzzer found has a regression test in test_regressions.py."""


def known_bug(rpc_path: str, request: Any) -> str | None:
    """The name of the known bug this failing request hits, if any."""
    for bug in KNOWN_BUGS:
        if bug.rpc in (rpc_path, "*") and bug.matches(request):
            return bug.name
    return None


def known_store_offender(check: str, key: str) -> str | None:
    """The known bug that explains one offending row of an SQL invariant, if any."""
    return None
