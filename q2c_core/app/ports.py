"""Ports: what the app and the edge need from the outside world, as protocols.

Adapters implement them (the SQLAlchemy store, the commit notifier); the edge depends on these
and on app types only, never on an adapter module.
"""

from __future__ import annotations

from typing import Protocol

from q2c_core.app.records import SecurityEventRow


class SecurityEventSink(Protocol):
    """Where refused calls are kept (the store's security_events table)."""

    def record_security_event(self, row: SecurityEventRow) -> None:
        """Append one refusal."""
        ...


class CommitNotifier(Protocol):
    """Tells event followers that a tenant's events moved (per-process, or via LISTEN/NOTIFY)."""

    def version(self, tenant_id: str) -> int:
        """A counter that grows with every commit of the tenant's events."""
        ...

    async def wait(self, tenant_id: str, seen: int, timeout: float) -> bool:
        """Wait until the counter passes `seen` (True) or `timeout` seconds pass (False)."""
        ...
