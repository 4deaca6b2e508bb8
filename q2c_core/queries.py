"""Read side: engagements, exceptions and the audit log, straight from the read models."""

from __future__ import annotations

from q2c_core.domain.engagement import Engagement
from q2c_core.domain.entities import BusinessException, EngagementState, ExceptionState, Severity
from q2c_core.domain.errors import NotFoundError
from q2c_core.paging import paged
from q2c_core.store import AuditRecord, EngagementRow, ExceptionRow, Page, Store, VerifyResult


def engagement_from_row(row: EngagementRow) -> Engagement:
    """The engagement state snapshotted in its read-model row."""
    return Engagement.model_validate(row.snapshot)


def exception_from_row(row: ExceptionRow) -> BusinessException:
    """The business exception stored in its read-model row."""
    return BusinessException.model_validate(row.data)


class Queries:
    """Tenant-scoped reads; every method is sync (callers run it in a thread)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get_engagement(self, tenant_id: str, engagement_id: str) -> Engagement:
        """One engagement, as of its last committed command."""
        row = self._store.get_engagement(tenant_id, engagement_id)
        if row is None:
            raise NotFoundError("engagement", engagement_id)
        return engagement_from_row(row)

    def list_engagements(
        self,
        tenant_id: str,
        state: EngagementState | None,
        customer_id: str | None,
        page_size: int,
        page_token: str,
    ) -> Page[Engagement]:
        """Engagements in creation order, optionally filtered by state and customer."""
        return paged(
            lambda size: self._store.list_engagements(
                tenant_id,
                state=state.value if state else None,
                customer_id=customer_id or None,
                page_size=size,
                page_token=page_token,
            ),
            page_size,
            engagement_from_row,
        )

    def get_exception(self, tenant_id: str, exception_id: str) -> BusinessException:
        """One business exception."""
        row = self._store.get_exception(tenant_id, exception_id)
        if row is None:
            raise NotFoundError("exception", exception_id)
        return exception_from_row(row)

    def list_exceptions(
        self,
        tenant_id: str,
        state: ExceptionState | None,
        severity: Severity | None,
        engagement_id: str | None,
        page_size: int,
        page_token: str,
    ) -> Page[BusinessException]:
        """The exception queue, filtered by state, severity and engagement."""
        return paged(
            lambda size: self._store.list_exceptions(
                tenant_id,
                state=state.value if state else None,
                severity=severity.value if severity else None,
                engagement_id=engagement_id or None,
                page_size=size,
                page_token=page_token,
            ),
            page_size,
            exception_from_row,
        )

    def list_audit(
        self, tenant_id: str, stream_id: str, page_size: int, page_token: str
    ) -> Page[AuditRecord]:
        """One stream's audit chain in sequence order."""
        return paged(
            lambda size: self._store.list_audit(tenant_id, stream_id, size, page_token),
            page_size,
            lambda record: record,
        )

    def verify_audit(self, tenant_id: str, stream_id: str | None) -> VerifyResult:
        """Recompute the hash chain of one stream (or all of the tenant's)."""
        return self._store.verify_audit(tenant_id, stream_id or None)
