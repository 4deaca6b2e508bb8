"""HDR histogram helpers and the per-second timeline of a load run (bounded memory).

Latencies are recorded in integer microseconds, 1 µs to 60 s. The run-wide histograms keep
3 significant digits; each timeline bucket keeps a small 2-digit histogram (1 % precision is
plenty for a plot) that is sealed — encoded to compressed text — once its second is over, so
a long run holds one live histogram and a few hundred bytes per past second. When the number
of buckets passes `max_points` the bucket width doubles (1 s, 2 s, 4 s, ...) and neighbouring
buckets are merged, so memory stays bounded however long the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

LOWEST_US = 1
HIGHEST_US = 60_000_000
RUN_DIGITS = 3
BUCKET_DIGITS = 2
PERCENTILES: dict[str, float] = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p99_9": 99.9}


def new_histogram(digits: int = RUN_DIGITS) -> HdrHistogram:
    """An empty histogram of microseconds, 1 µs to 60 s."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, digits)


def to_us(seconds: float) -> int:
    """A duration in seconds as whole microseconds, clamped to what the histograms track."""
    return min(max(int(seconds * 1_000_000), LOWEST_US), HIGHEST_US)


def encode(histogram: HdrHistogram) -> str:
    """The histogram as compressed base64 text (JSON-able, crosses processes)."""
    return str(histogram.encode().decode("ascii"))


def decode(text: str) -> HdrHistogram:
    """The histogram `encode` wrote."""
    return HdrHistogram.decode(text.encode("ascii"))


def ms(value_us: float) -> float:
    """Microseconds as milliseconds rounded to 3 decimals."""
    return round(value_us / 1000.0, 3)


def percentiles_ms(histogram: HdrHistogram) -> dict[str, float]:
    """p50, p90, p99, p99.9 and max in milliseconds (all 0 for an empty histogram); one pass."""
    if histogram.get_total_count() == 0:
        return {**dict.fromkeys(PERCENTILES, 0.0), "max": 0.0}
    by_level = histogram.get_percentile_to_value_dict(list(PERCENTILES.values()))
    values = {name: ms(by_level[p]) for name, p in PERCENTILES.items()}
    values["max"] = ms(histogram.get_max_value())
    return values


def recorded(histogram: HdrHistogram) -> tuple[list[int], list[int]]:
    """The non-empty buckets: each one's highest equivalent value (µs, as HDR's recorded
    iterator reports it) and count. numpy finds them in the counts array; hdrh's own iterators
    walk all 17,408 buckets in Python (~8 ms per value), which made a report take seconds."""
    counts = np.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
    index = np.flatnonzero(counts)
    values = [histogram.get_highest_equivalent_value(histogram.get_value_from_index(int(i))) for i in index]
    return values, [int(c) for c in counts[index]]


def mean_us(histogram: HdrHistogram) -> float:
    """The mean of the recorded values in µs, as HdrHistogram.get_mean_value computes it (each
    value at its bucket's median equivalent value), over the non-empty buckets only."""
    counts = np.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
    index = np.flatnonzero(counts)
    total = int(counts[index].sum())
    if total == 0:
        return 0.0
    median = histogram._hdr_median_equiv_value  # hdrh's own rounding, not a second copy of it
    weighted = sum(median(histogram.get_value_from_index(int(i))) * int(counts[i]) for i in index)
    return float(weighted / total)


def latency_ms(histogram: HdrHistogram) -> dict[str, float]:
    """percentiles_ms and the mean."""
    mean = ms(mean_us(histogram)) if histogram.get_total_count() else 0.0
    return {**percentiles_ms(histogram), "mean": mean}


@dataclass
class Bucket:
    """One timeline bucket: commands and errors that ended in it, and their latencies."""

    count: int = 0
    errors: int = 0
    histogram: HdrHistogram | None = None  # live while the bucket is open
    encoded: str = ""  # the sealed histogram
    summary: dict[str, float] = field(default_factory=dict)  # percentiles of the sealed histogram

    def live(self) -> HdrHistogram:
        """The bucket's histogram, decoded again if the bucket was sealed."""
        if self.histogram is None:
            self.histogram = decode(self.encoded) if self.encoded else new_histogram(BUCKET_DIGITS)
            self.encoded, self.summary = "", {}
        return self.histogram

    def seal(self) -> None:
        """Encode the histogram and drop it: ~35 µs, cheap enough for the hot path."""
        if self.histogram is not None:
            self.encoded = encode(self.histogram)
            self.histogram = None

    def latency(self) -> dict[str, float]:
        """The bucket's latency percentiles in milliseconds (computed once when sealed)."""
        if self.histogram is not None:
            return percentiles_ms(self.histogram)
        if not self.summary:
            self.summary = percentiles_ms(decode(self.encoded))
        return self.summary

    def text(self) -> str:
        """The histogram as text, whether open or sealed."""
        return encode(self.histogram) if self.histogram is not None else self.encoded


class Timeline:
    """Counts, errors and latency per time bucket; not thread-safe (the Recorder locks)."""

    def __init__(self, max_points: int = 3600) -> None:
        self.max_points = max_points
        self.width_s = 1
        self.buckets: dict[int, Bucket] = {}
        self._newest = -1

    def add(self, t: float, latency_us: int, error: bool) -> None:
        """One command that ended `t` seconds after the origin."""
        index = max(int(t // self.width_s), 0)
        bucket = self.buckets.get(index)
        if bucket is None:
            bucket = self.buckets[index] = Bucket()
            if index > self._newest:
                self._seal_before(index - 1)
                self._newest = index
        bucket.count += 1
        bucket.errors += error
        bucket.live().record_value(latency_us)
        if len(self.buckets) > self.max_points:
            self._coarsen()

    def _seal_before(self, index: int) -> None:
        for i, bucket in self.buckets.items():
            if i < index:
                bucket.seal()

    def _coarsen(self) -> None:
        """Double the bucket width, merging neighbours, until the buckets fit again."""
        while len(self.buckets) > self.max_points:
            self._double()
        self._seal_before(self._newest - 1)

    @staticmethod
    def _merge_into(buckets: dict[int, Bucket], index: int, source: Bucket) -> None:
        target = buckets.setdefault(index, Bucket())
        target.count += source.count
        target.errors += source.errors
        other = source.histogram if source.histogram is not None else decode(source.encoded)
        target.live().add(other)

    def state(self) -> dict[str, Any]:
        """JSON-able: the width and [index, count, errors, histogram text] per bucket."""
        rows = [[i, b.count, b.errors, b.text()] for i, b in sorted(self.buckets.items())]
        return {"width_s": self.width_s, "max_points": self.max_points, "buckets": rows}

    def merge_state(self, state: dict[str, Any], shift_s: float = 0.0) -> None:
        """Add another timeline's state; `shift_s` moves its times onto this origin."""
        width = max(self.width_s, int(state["width_s"]))
        while self.width_s < width:
            self._double()
        for index, count, errors, text in state["buckets"]:
            start = int(index) * int(state["width_s"]) + shift_s
            source = Bucket(count=int(count), errors=int(errors), encoded=str(text))
            self._merge_into(self.buckets, max(int(start // self.width_s), 0), source)
        self._newest = max(self.buckets, default=-1)
        self._seal_before(self._newest - 1)
        if len(self.buckets) > self.max_points:
            self._coarsen()

    def _double(self) -> None:
        merged: dict[int, Bucket] = {}
        for index in sorted(self.buckets):
            self._merge_into(merged, index // 2, self.buckets[index])
        self.buckets, self.width_s, self._newest = merged, self.width_s * 2, self._newest // 2

    def points(self) -> list[dict[str, Any]]:
        """One row per bucket: start t (s), width, commands, errors and latency in ms."""
        rows = []
        for index, bucket in sorted(self.buckets.items()):
            latency = bucket.latency()
            rows.append(
                {
                    "t": index * self.width_s,
                    "width_s": self.width_s,
                    "commands": bucket.count,
                    "errors": bucket.errors,
                    "p50_ms": latency["p50"],
                    "p90_ms": latency["p90"],
                    "p99_ms": latency["p99"],
                    "max_ms": latency["max"],
                }
            )
        return rows
