"""Starting, cancelling and failing bill runs in the store: idempotent and audited (sync)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from q2c_core.app.audited import record_accepted, stored_response
from q2c_core.app.billing.runs import BillRun, BillRunSpec, BillRunState, bill_run_from_row, bill_run_row
from q2c_core.app.clock import utc_now
from q2c_core.app.messages import Caller, new_resource_id, payload_digest
from q2c_core.app.ports import Store
from q2c_core.app.records import WriteBatch
from q2c_core.app.store_errors import ConcurrencyConflict, DuplicateRequestId, StoreUnavailable
from q2c_core.domain.errors import (
    ConflictError,
    NotFoundError,
    PreconditionError,
    RequestIdReusedError,
    UnavailableError,
    ValidationError,
)
from q2c_core.domain.money import check_currency

ATTEMPTS = 5


class BillRunControl:
    """The bill-run records: created by start, finished early by cancel or a crash."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    def now(self) -> datetime:
        """The control's clock."""
        return self._clock()

    def load(self, tenant_id: str, bill_run_id: str) -> tuple[BillRun, int]:
        """The run and its row version; NotFoundError("bill_run") when unknown."""
        row = self._store.get_bill_run(tenant_id, bill_run_id)
        if row is None:
            raise NotFoundError("bill_run", bill_run_id)
        return bill_run_from_row(row), row.version

    def start(self, caller: Caller, request_id: str | None, spec: BillRunSpec) -> tuple[BillRun, bool]:
        """A new PENDING run (True), or the one this request_id already started (False)."""
        if spec.currency:
            try:
                check_currency(spec.currency)
            except ValueError as error:
                raise ValidationError.one("currency_code", str(error)) from None
        digest = payload_digest("StartBillRun", spec.model_dump(mode="json"))
        replay = self._replay(caller, request_id, digest)
        if replay is not None:
            return replay, False
        now = self._clock()
        run_id = new_resource_id(caller.tenant_id, request_id, "bill_run")
        run = BillRun(
            bill_run_id=run_id, tenant_id=caller.tenant_id, spec=spec, create_time=now, update_time=now
        )
        try:
            self._write(caller, request_id, digest, "StartBillRun", run, 1, "")
        except (DuplicateRequestId, ConcurrencyConflict):
            replay = self._replay(caller, request_id, digest)
            if replay is None:
                raise ConflictError(
                    "CONCURRENT_MODIFICATION", "a concurrent request started this run"
                ) from None
            return replay, False
        return run, True

    def cancel(self, caller: Caller, request_id: str | None, bill_run_id: str, reason: str) -> BillRun:
        """PENDING / RUNNING -> CANCELLED; the coordinator stops at its next chunk."""
        if not reason.strip():
            raise ValidationError.one("reason", "must not be empty")
        digest = payload_digest("CancelBillRun", {"bill_run_id": bill_run_id, "reason": reason})
        replay = self._replay(caller, request_id, digest)
        if replay is not None:
            return replay
        for _ in range(ATTEMPTS):
            run, version = self.load(caller.tenant_id, bill_run_id)
            _unfinished(run)
            now = self._clock()
            cancelled = run.model_copy(
                update={"state": BillRunState.CANCELLED, "update_time": now, "finish_time": now}
            )
            try:
                self._write(caller, request_id, digest, "CancelBillRun", cancelled, version + 1, reason)
                return cancelled
            except ConcurrencyConflict:
                continue  # the coordinator saved progress meanwhile: re-read and try again
            except DuplicateRequestId:
                replay = self._replay(caller, request_id, digest)
                if replay is not None:
                    return replay
        raise ConflictError("CONCURRENT_MODIFICATION", f"bill run {bill_run_id} kept changing; retry")

    def fail(self, tenant_id: str, bill_run_id: str, message: str) -> BillRun:
        """Mark an unfinished run FAILED (its coordinator died); a finished run is left alone."""
        for _ in range(ATTEMPTS):
            run, version = self.load(tenant_id, bill_run_id)
            if run.state.finished:
                return run
            now = self._clock()
            failed = run.model_copy(
                update={
                    "state": BillRunState.FAILED,
                    "failure_message": message,
                    "update_time": now,
                    "finish_time": now,
                }
            )
            try:
                self._store.save_bill_run(bill_run_row(failed, version + 1))
                return failed
            except ConcurrencyConflict:
                continue
        return self.load(tenant_id, bill_run_id)[0]

    def _replay(self, caller: Caller, request_id: str | None, digest: str) -> BillRun | None:
        response = stored_response(self._store, caller, request_id, digest)
        if response is None:
            return None
        if "bill_run_id" not in response:  # the id was used for another kind of request
            raise RequestIdReusedError(str(request_id))
        return self.load(caller.tenant_id, response["bill_run_id"])[0]

    def _write(
        self,
        caller: Caller,
        request_id: str | None,
        digest: str,
        command_type: str,
        run: BillRun,
        version: int,
        comment: str,
    ) -> None:
        batch = record_accepted(
            WriteBatch(bill_runs=[bill_run_row(run, version)]),
            caller,
            request_id=request_id,
            digest=digest,
            command_type=command_type,
            stream_id=run.bill_run_id,
            now=run.update_time,
            response={"bill_run_id": run.bill_run_id},
            comment=comment,
        )
        try:
            self._store.commit(batch)
        except StoreUnavailable:
            raise UnavailableError("STORE_UNAVAILABLE", "the store is unavailable; retry") from None


def _unfinished(run: BillRun) -> None:
    if run.state.finished:
        raise PreconditionError(
            "BILL_RUN_FINISHED",
            f"bill run {run.bill_run_id} is already {run.state.value}",
            {"bill_run_id": run.bill_run_id, "state": run.state.value},
        )
