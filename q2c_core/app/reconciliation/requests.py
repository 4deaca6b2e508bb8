"""RunReconciliation as an RPC: idempotent by request_id and audited (like catalog writes).

The stored response is the whole report, so a replay returns exactly what the first call
reported. The call is recorded on the tenant's "reconciliations" audit chain; the exceptions
it raised are recorded on their engagements' chains by the commands that raised them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from q2c_core.app.audited import record_accepted, stored_response
from q2c_core.app.messages import Caller, new_resource_id, payload_digest
from q2c_core.app.ports import Store
from q2c_core.app.reconciliation.service import Reconciler, ReconciliationReport
from q2c_core.app.records import WriteBatch
from q2c_core.app.store_errors import ConcurrencyConflict, DuplicateRequestId, StoreUnavailable
from q2c_core.domain.errors import ConflictError, RequestIdReusedError, UnavailableError

COMMAND_TYPE = "RunReconciliation"
AUDIT_STREAM = "reconciliations"
"""The audit chain every RunReconciliation call of a tenant is recorded on."""
ATTEMPTS = 5


async def run_requested(
    reconciler: Reconciler, caller: Caller, request_id: str | None, grace_period: timedelta | None = None
) -> ReconciliationReport:
    """One reconciliation for the caller's tenant, or the stored report of this request_id.

    A transient failure to raise a mismatch fails the call and records nothing, so a retry
    under the same request_id (whose raises are idempotent) completes the work. Raises
    UnavailableError (ERP_UNAVAILABLE, STORE_UNAVAILABLE, ...), RequestIdReusedError,
    ConflictError CONCURRENT_MODIFICATION.
    """
    store = reconciler.store
    grace = reconciler.grace_period if grace_period is None else grace_period
    digest = payload_digest(COMMAND_TYPE, {"grace_period_seconds": str(grace.total_seconds())})
    replay = await asyncio.to_thread(_replay, store, caller, request_id, digest)
    if replay is not None:
        return replay
    reconciliation_id = new_resource_id(caller.tenant_id, request_id, "reconciliation")
    report = await reconciler.run(caller, reconciliation_id, grace)
    if report.retry_error is not None:
        raise report.retry_error.to_error()
    batch = record_accepted(
        WriteBatch(),
        caller,
        request_id=request_id,
        digest=digest,
        command_type=COMMAND_TYPE,
        stream_id=AUDIT_STREAM,
        now=report.finish_time,
        response={"report": report.model_dump(mode="json")},
        comment=f"reconciliation {reconciliation_id}: {len(report.mismatches)} mismatches",
    )
    return await asyncio.to_thread(_record, store, caller, request_id, digest, batch, report)


def _replay(store: Store, caller: Caller, request_id: str | None, digest: str) -> ReconciliationReport | None:
    response = stored_response(store, caller, request_id, digest)
    if response is None:
        return None
    if "report" not in response:  # the id was used for another kind of request
        raise RequestIdReusedError(str(request_id))
    return ReconciliationReport.model_validate(response["report"])


def _record(
    store: Store,
    caller: Caller,
    request_id: str | None,
    digest: str,
    batch: WriteBatch,
    report: ReconciliationReport,
) -> ReconciliationReport:
    for _ in range(ATTEMPTS):
        try:
            store.commit(batch)
            return report
        except ConcurrencyConflict:
            continue  # another call took the audit chain's next seq: append again
        except DuplicateRequestId:  # a concurrent call with this request_id finished first
            replay = _replay(store, caller, request_id, digest)
            return report if replay is None else replay
        except StoreUnavailable:
            raise UnavailableError("STORE_UNAVAILABLE", "the store is unavailable; retry") from None
    raise ConflictError("CONCURRENT_MODIFICATION", "the reconciliation audit chain kept moving; retry")
