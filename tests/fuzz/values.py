"""Hostile and boundary values, per protobuf field kind, shared by the strategies and the fuzzer."""

from __future__ import annotations

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

DECIMALS: tuple[str, ...] = (
    "0",
    "-0",
    "0.00",
    "1",
    "-1",
    "8",
    "24",
    "24.01",
    "0.001",
    "150.00",
    "100",
    "100.0001",
    "1E5",
    "1e-7",
    "1E+3",
    "-1E-2",
    "1E-300000",  # expands to a 300 kB plain string
    "1E+300000",
    "NaN",
    "-NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "+1",
    " 1",
    "1 ",
    "\t8\n",
    "1_000",
    "1,5",
    "0x10",
    "\u0661\u0662",  # Arabic-Indic digits: Decimal() accepts them
    "\uff15",  # fullwidth five
    ".5",
    "5.",
    "--1",
    "1.2.3",
    "9" * 40,
    "-" + "9" * 40,
    "0." + "0" * 39 + "1",
    "1" * 40 + "." + "5" * 40,
    "999999999999999.99",
    "1000000000000000",
    "99999999999999999999999999999",
)
"""Decimal-looking strings: valid, exponent forms, specials, signs, whitespace, huge and tiny."""

STRINGS: tuple[str, ...] = (
    "",
    " ",
    "a",
    "x" * 128,
    "x" * 129,
    "x" * 4096,
    "y" * 200_000,
    "\x00",
    "nul\x00inside",
    "\n\r\t",
    "'; DROP TABLE engagements; --",
    "%s%n%x",
    "../../etc/passwd",
    "\U0001d518\U0001d52b\U0001d526 \U0001f9fe\U0001f4b8",
    "\u202eRTL\u202c",
    "e\u0301\u0301\u0301",
    "\ufeffBOM",
    "NaN",
    "null",
    "{}",
    "[[[[",
    "USD",
    "usd",
    "XXX",
    "2025-02",
    "2025-13",
    "0000-00",
    "9999-12",
    "TM-1",
    "engineer",
    "ENGAGEMENT_STATE_ACTIVE",
)
"""Strings for any string field: empty, over-long, control characters, injection, odd unicode."""

INT32S: tuple[int, ...] = (0, 1, -1, 2, 7, 30, 100, 1000, 10_000, INT32_MAX, INT32_MIN, INT32_MAX - 1)
INT64S: tuple[int, ...] = (*INT32S, INT64_MAX, INT64_MIN, 2**53 + 1, -(2**53))
UNKNOWN_ENUMS: tuple[int, ...] = (-1, 99, 1000, INT32_MAX, INT32_MIN)

DATES: tuple[tuple[int, int, int], ...] = (
    (2025, 3, 3),
    (2025, 2, 1),
    (2025, 12, 31),
    (2024, 2, 29),
    (2025, 2, 29),
    (2025, 2, 30),
    (2025, 4, 31),
    (2025, 13, 1),
    (2025, 0, 1),
    (2025, 1, 0),
    (0, 0, 0),
    (0, 1, 1),
    (1, 1, 1),
    (9999, 12, 31),
    (10000, 1, 1),
    (-1, 1, 1),
    (INT32_MAX, INT32_MAX, INT32_MAX),
    (INT32_MIN, 1, 1),
)
"""google.type.Date triples: real, leap, impossible, zero, at and past the calendar's ends."""

TIMESTAMP_SECONDS: tuple[int, ...] = (
    0,
    -1,
    1_700_000_000,
    253402300799,
    253402300800,
    -62135596801,
    INT64_MAX,
)
NANOS: tuple[int, ...] = (0, 1, 999_999_999, 1_000_000_000, -1, INT32_MAX)

REPEATED_SIZES: tuple[int, ...] = (0, 1, 2, 3, 5, 10, 100, 1000, 5000)
"""Lengths for repeated fields; the large ones are drawn rarely."""

ID_FIELD_SUFFIXES = ("_id", "_ids")
DECIMAL_FIELD_NAMES = frozenset({"amount", "rate", "hours", "markup_percent"})
"""String fields that carry a decimal on the wire."""


def is_id_field(name: str) -> bool:
    """True for fields that name a resource (`engagement_id`, `entry_ids`, ...)."""
    return name.endswith(ID_FIELD_SUFFIXES)


def is_decimal_field(name: str) -> bool:
    """True for string fields holding a decimal (money amounts, rates, hours, percentages)."""
    return name in DECIMAL_FIELD_NAMES
