"""The wire's decimal strings, parsed once per call rather than twice.

Every decimal a request carries is parsed by the bound check (wire_limits.py) and again by its
converter (convert_common.decimal_in), and most are the same few strings ("7.5" hours, "0"
markups): `wire_decimal` keeps what `parse_wire_decimal` returned for the last few thousand
(string, kind) pairs. A Decimal is immutable, so sharing one is safe; a string that fails is
never kept, so every refusal is worked out (and worded) by the parser itself.
"""

from __future__ import annotations

from decimal import Decimal

from q2c_core.domain.limits import DecimalKind, parse_wire_decimal

PARSED_DECIMALS = 4096
"""(string, kind) pairs kept; the memo is emptied when full (a flood of distinct strings costs
what it cost without it)."""

_PARSED: dict[tuple[str, int], tuple[DecimalKind, Decimal]] = {}
"""By (string, id(kind)): the kind itself is kept beside the value and compared by identity
(hashing a DecimalKind hashes all its fields; the kinds are module constants)."""


def wire_decimal(text: str, kind: DecimalKind) -> Decimal:
    """`parse_wire_decimal(text, kind)`, remembered: the same value, or the same ValueError."""
    if type(text) is not str:  # the parser words the refusal
        return parse_wire_decimal(text, kind)
    key = (text, id(kind))
    hit = _PARSED.get(key)
    if hit is not None and hit[0] is kind:
        return hit[1]
    value = parse_wire_decimal(text, kind)
    if len(_PARSED) >= PARSED_DECIMALS:
        _PARSED.clear()
    _PARSED[key] = (kind, value)
    return value
