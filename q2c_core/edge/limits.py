"""Server limits: token-bucket rate limits per tenant and per principal, open streams per tenant.

The interceptor asks `RateLimiter.admit` once the caller is authenticated and authorized; a call
over budget is refused before anything runs (RESOURCE_EXHAUSTED, reason RATE_LIMITED, with how
long to wait). Mutations (requests carrying a request_id) and reads have separate budgets, so a
tenant flooding writes can still read, and each principal has its own bucket inside its
tenant's: one runaway client cannot spend the whole tenant's budget unless it is alone.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from q2c_core.app.token_bucket import TokenBucket
from q2c_core.domain.errors import ResourceExhaustedError
from q2c_core.edge.errors import RETRY_AFTER_KEY
from q2c_core.edge.server_options import TransportLimits

Kind = Literal["read", "mutation"]
Scope = Literal["tenant", "principal"]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Rate:
    """A sustained rate (tokens per second) and a burst (bucket size); 0 per second: unlimited."""

    per_second: float
    burst: float

    def __post_init__(self) -> None:
        if self.per_second < 0:
            raise ValueError("a rate must not be negative")
        if self.per_second > 0 and self.burst < 1:
            raise ValueError("a limited rate needs a burst of at least 1")

    @property
    def unlimited(self) -> bool:
        """True when this rate never refuses."""
        return self.per_second == 0

    @property
    def refill_seconds(self) -> float:
        """How long an empty bucket takes to fill (0 when unlimited)."""
        return 0.0 if self.unlimited else self.burst / self.per_second


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The four budgets: (tenant | principal) x (mutation | read)."""

    tenant_mutations: Rate = Rate(2000.0, 4000.0)
    tenant_reads: Rate = Rate(5000.0, 10000.0)
    principal_mutations: Rate = Rate(1000.0, 2000.0)
    principal_reads: Rate = Rate(2500.0, 5000.0)

    def of(self, scope: Scope, kind: Kind) -> Rate:
        """The rate of one scope and kind."""
        if scope == "tenant":
            return self.tenant_mutations if kind == "mutation" else self.tenant_reads
        return self.principal_mutations if kind == "mutation" else self.principal_reads


_SCOPES: tuple[Scope, ...] = ("tenant", "principal")
_KINDS: tuple[Kind, ...] = ("read", "mutation")

UNLIMITED = RateLimits(*(Rate(0.0, 0.0) for _ in range(4)))
"""Rate limits that never refuse."""


@dataclass(frozen=True, slots=True)
class Throttled:
    """Why a call was refused: which bucket ran dry and when a token will be back."""

    scope: Scope
    kind: Kind
    retry_after: float

    def error(self) -> ResourceExhaustedError:
        """The RESOURCE_EXHAUSTED error the caller gets (its RetryInfo from `retry_after_ms`)."""
        milliseconds = max(1, math.ceil(self.retry_after * 1000))
        return ResourceExhaustedError(
            "RATE_LIMITED",
            f"{self.scope} {self.kind} rate limit exceeded; retry in {milliseconds} ms",
            {"scope": self.scope, "kind": self.kind, RETRY_AFTER_KEY: str(milliseconds)},
        )


@dataclass
class RateLimiter:
    """Thread-safe token buckets keyed by (tenant, kind) and (tenant, principal, kind).

    Memory stays bounded: a bucket untouched for longer than the slowest refill is full, so it
    is the same as no bucket and is dropped; past `max_buckets` the least recently used go
    first (their owners get a fresh burst, which is the price of the bound).
    """

    limits: RateLimits = field(default_factory=RateLimits)
    clock: Clock = time.monotonic
    max_buckets: int = 100_000
    _buckets: OrderedDict[tuple[str, ...], TokenBucket] = field(default_factory=OrderedDict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _idle_seconds: float = field(default=0.0, init=False)
    _limited: dict[Kind, tuple[tuple[Scope, Rate], ...]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        rates = (self.limits.of(s, k) for s in _SCOPES for k in _KINDS)
        self._idle_seconds = max(rate.refill_seconds for rate in rates)
        for kind in _KINDS:  # the budgets a call of each kind spends, worked out once
            wanted = ((scope, self.limits.of(scope, kind)) for scope in _SCOPES)
            self._limited[kind] = tuple((scope, rate) for scope, rate in wanted if not rate.unlimited)

    def admit(self, tenant_id: str, principal: str, kind: Kind) -> Throttled | None:
        """Take one token from the tenant's and the principal's bucket, or neither; None: go ahead."""
        limited = self._limited[kind]
        if not limited:
            return None
        with self._lock:
            now = self.clock()
            taken: list[tuple[Scope, TokenBucket]] = []
            for scope, rate in limited:
                key = (tenant_id, kind) if scope == "tenant" else (tenant_id, principal, kind)
                taken.append((scope, self._bucket(key, rate, now)))
            self._evict(now)
            short: tuple[float, Scope] | None = None
            for scope, bucket in taken:
                if bucket.tokens < 1.0:  # the longest wait is the one the caller must wait
                    wait = (bucket.wait_seconds(), scope)
                    short = wait if short is None else max(short, wait)
            if short is not None:
                return Throttled(short[1], kind, short[0])
            for _, bucket in taken:
                bucket.tokens -= 1.0
            return None

    def __len__(self) -> int:
        return len(self._buckets)

    def _bucket(self, key: tuple[str, ...], rate: Rate, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket.full(rate.per_second, rate.burst, now)
        else:
            self._buckets.move_to_end(key)
            bucket.refill(now)
        return bucket

    def _evict(self, now: float) -> None:
        """Drop idle (hence full) buckets from the old end, then any beyond the bound."""
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if now - oldest.updated < self._idle_seconds and len(self._buckets) <= self.max_buckets:
                return
            self._buckets.popitem(last=False)


class StreamSlots:
    """Open server streams per tenant, at most `per_tenant` each (0: unlimited); thread-safe."""

    def __init__(self, per_tenant: int) -> None:
        if per_tenant < 0:
            raise ValueError("per_tenant must not be negative")
        self.per_tenant = per_tenant
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, tenant_id: str) -> None:
        """Take a slot, or raise RESOURCE_EXHAUSTED (TOO_MANY_STREAMS); pair with `release`."""
        with self._lock:
            now_open = self._open.get(tenant_id, 0)
            if self.per_tenant and now_open >= self.per_tenant:
                raise ResourceExhaustedError(
                    "TOO_MANY_STREAMS",
                    f"the tenant already has {now_open} open streams (at most {self.per_tenant}); "
                    "close one first",
                    {"limit": str(self.per_tenant)},
                )
            self._open[tenant_id] = now_open + 1

    def release(self, tenant_id: str) -> None:
        """Give a slot back (the count's key goes when it reaches zero: memory stays bounded)."""
        with self._lock:
            left = self._open.get(tenant_id, 0) - 1
            if left > 0:
                self._open[tenant_id] = left
            else:
                self._open.pop(tenant_id, None)

    def open(self, tenant_id: str) -> int:
        """Streams the tenant has open now."""
        with self._lock:
            return self._open.get(tenant_id, 0)


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Every limit the gateway enforces. The defaults are generous: no test or benchmark meets them."""

    rates: RateLimits = field(default_factory=RateLimits)
    max_streams_per_tenant: int = 32
    """Open SubscribeEvents / WatchBillRun streams per tenant; 0: unlimited."""
    max_concurrent_rpcs: int = 1000
    """Calls in progress on the server at once (gRPC refuses more with RESOURCE_EXHAUSTED); 0: unlimited."""
    transport: TransportLimits = field(default_factory=TransportLimits)
