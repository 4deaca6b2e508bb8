"""Fault plans: what the simulator does wrong, to which requests, and how many times.

A plan is a JSON object (all fields optional)::

    {"path_prefix": "/erp/invoices",            # scope; default: every /erp and /psa path
     "latency_ms": 200,                          # added to every matching request
     "maintenance_seconds": 2,                   # 503 + Retry-After until the window ends
     "throttle": {"count": 3, "retry_after": 1}, # 429 + Retry-After, next 3 requests
     "error": {"count": 2, "status": 500},       # 5xx, next 2 requests
     "timeout": {"count": 1, "hold_seconds": 5}, # hold, then drop the connection
     "malformed": {"count": 1},                  # 200 with a body that is not the documented JSON
     "crash_after_commit": {"count": 1}}         # writes commit, then the connection drops

Counted faults are consumed one per matching request, in the order maintenance,
throttle, error, timeout, crash_after_commit (writes only), malformed.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

COUNTED = ("throttle", "error", "timeout", "crash_after_commit", "malformed")
FAULTABLE_ROOTS = ("/erp/", "/psa/")


class PlanError(ValueError):
    """A fault plan that cannot be applied."""


@dataclass
class Decision:
    """What to do with one request (computed and consumed atomically)."""

    latency_s: float = 0.0
    status: int | None = None  # reply early with this status
    retry_after: int | None = None
    hold_then_drop_s: float | None = None
    crash_after_commit: bool = False
    malformed: bool = False


@dataclass
class _Plan:
    path_prefix: str | None = None
    latency_ms: int = 0
    maintenance_until: float | None = None
    counted: dict[str, dict[str, Any]] = field(default_factory=dict)


def _int(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PlanError(f"{name} must be an integer >= {minimum}")
    return value


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PlanError(f"{name} must be a number >= 0")
    return float(value)


def parse_plan(body: Any, now: float) -> _Plan:
    """Validate a plan body and turn it into an armed plan (windows start at ``now``)."""
    if not isinstance(body, dict):
        raise PlanError("fault plan must be a JSON object")
    known = {"path_prefix", "latency_ms", "maintenance_seconds", *COUNTED}
    unknown = sorted(set(body) - known)
    if unknown:
        raise PlanError(f"unknown fault fields: {', '.join(unknown)}")
    plan = _Plan()
    prefix = body.get("path_prefix")
    if prefix is not None and (not isinstance(prefix, str) or not prefix.startswith("/")):
        raise PlanError("path_prefix must be a string starting with '/'")
    plan.path_prefix = prefix
    plan.latency_ms = _int(body.get("latency_ms", 0), "latency_ms")
    if "maintenance_seconds" in body:
        plan.maintenance_until = now + _number(body["maintenance_seconds"], "maintenance_seconds")
    for name in COUNTED:
        spec = body.get(name)
        if spec is None:
            continue
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec = {"count": spec}
        if not isinstance(spec, dict):
            raise PlanError(f"{name} must be an object like {{'count': K}}")
        armed = dict(spec)
        armed["count"] = _int(spec.get("count", 1), f"{name}.count")
        if name == "throttle":
            armed["retry_after"] = _int(spec.get("retry_after", 1), "throttle.retry_after")
        if name == "error":
            armed["status"] = _int(spec.get("status", 500), "error.status", 500)
        if name == "timeout":
            armed["hold_seconds"] = _number(spec.get("hold_seconds", 30), "timeout.hold_seconds")
        plan.counted[name] = armed
    return plan


class FaultInjector:
    """Holds the current plan and decides, per request, which fault (if any) applies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plan = _Plan()

    def set(self, body: Any) -> dict[str, Any]:
        """Replace the plan (raises PlanError); returns the plan as shown by ``describe``."""
        plan = parse_plan(body, time.monotonic())
        with self._lock:
            self._plan = plan
        return self.describe()

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._plan = _Plan()

    def describe(self) -> dict[str, Any]:
        """The current plan with remaining counts and the maintenance time left."""
        with self._lock:
            plan = self._plan
            shown: dict[str, Any] = {"path_prefix": plan.path_prefix, "latency_ms": plan.latency_ms}
            remaining = 0.0
            if plan.maintenance_until is not None:
                remaining = max(0.0, plan.maintenance_until - time.monotonic())
            shown["maintenance_remaining_seconds"] = round(remaining, 3)
            for name, spec in plan.counted.items():
                shown[name] = dict(spec)
            return shown

    def decide(self, path: str, is_write: bool) -> Decision:
        """Consume at most one counted fault for this request and say what to do."""
        if not path.startswith(FAULTABLE_ROOTS):
            return Decision()
        with self._lock:
            plan = self._plan
            if plan.path_prefix is not None and not path.startswith(plan.path_prefix):
                return Decision()
            decision = Decision(latency_s=plan.latency_ms / 1000.0)
            if plan.maintenance_until is not None:
                left = plan.maintenance_until - time.monotonic()
                if left > 0:
                    decision.status, decision.retry_after = 503, max(1, math.ceil(left))
                    return decision
            for name in COUNTED:
                spec = plan.counted.get(name)
                if spec is None or spec["count"] <= 0:
                    continue
                if name == "crash_after_commit" and not is_write:
                    continue
                spec["count"] -= 1
                if name == "throttle":
                    decision.status, decision.retry_after = 429, spec["retry_after"]
                elif name == "error":
                    decision.status = spec["status"]
                elif name == "timeout":
                    decision.hold_then_drop_s = spec["hold_seconds"]
                elif name == "crash_after_commit":
                    decision.crash_after_commit = True
                else:
                    decision.malformed = True
                return decision
            return decision
