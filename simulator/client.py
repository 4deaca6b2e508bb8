"""A small urllib client for the simulator, used by tests and by q2c connectors.

Outcomes are kept distinct, because a caller retries them differently:

* ``HTTPStatusError`` (and ``ThrottledError`` / ``UnavailableError`` / ``ConflictError``):
  the simulator answered with an error status; ``retry_after`` carries ``Retry-After``.
* ``SimulatorConnectionError`` (and ``SimulatorTimeout``): no reply. For a write the
  outcome is unknown (it may have committed), so retry with the *same* idempotency key.
* ``MalformedResponseError``: a 2xx reply whose body is not the documented JSON.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class SimulatorError(Exception):
    """Base of every error this client raises."""


class HTTPStatusError(SimulatorError):
    """The simulator replied with a non-2xx status."""

    def __init__(self, status: int, body: str, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status
        self.body = body
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later (429 and 5xx)."""
        return self.status == 429 or self.status >= 500


class ThrottledError(HTTPStatusError):
    """429 Too Many Requests; wait ``retry_after`` seconds."""


class UnavailableError(HTTPStatusError):
    """503 Service Unavailable (maintenance window); wait ``retry_after`` seconds."""


class ConflictError(HTTPStatusError):
    """409: the idempotency key was already used with a different payload."""


class SimulatorConnectionError(SimulatorError):
    """No reply: refused, reset or dropped. For writes the outcome is unknown."""


class SimulatorTimeout(SimulatorConnectionError):
    """No reply within the client's timeout."""


class MalformedResponseError(SimulatorError):
    """A successful status whose body is not the documented JSON."""


_STATUS_ERRORS: dict[int, type[HTTPStatusError]] = {
    429: ThrottledError,
    503: UnavailableError,
    409: ConflictError,
}


@dataclass(frozen=True)
class PostedDocument:
    """The documented reply to a posting: number, status, and whether it was a replay."""

    document_number: str
    status: str
    key: str
    replayed: bool


class SimulatorClient:
    """Calls one simulator at ``base_url`` (e.g. ``http://127.0.0.1:8099``)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        parse_float: Callable[[str], Any] | None = None,
    ) -> Any:
        """Send one request and return the parsed JSON body, or raise a SimulatorError.

        ``parse_float`` parses JSON numbers with a fraction (e.g. ``decimal.Decimal``, to keep
        them exact); floats by default.
        """
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=all_headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            retry = exc.headers.get("Retry-After")
            cls = _STATUS_ERRORS.get(exc.code, HTTPStatusError)
            raise cls(exc.code, text, float(retry) if retry else None) from exc
        except TimeoutError as exc:
            raise SimulatorTimeout(f"{method} {path}: no reply within {self.timeout}s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise SimulatorTimeout(f"{method} {path}: no reply within {self.timeout}s") from exc
            raise SimulatorConnectionError(f"{method} {path}: {exc.reason}") from exc
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            raise SimulatorConnectionError(f"{method} {path}: connection lost ({exc!r})") from exc
        try:
            return json.loads(raw, parse_float=parse_float)
        except ValueError as exc:
            raise MalformedResponseError(f"{method} {path}: reply is not JSON: {raw[:80]!r}") from exc

    # -- documents ---------------------------------------------------------------
    def post_invoice(self, key: str, invoice: dict[str, Any]) -> PostedDocument:
        """Post an invoice under an idempotency key (same key -> same document)."""
        return self._post_document("/erp/invoices", key, invoice)

    def post_payment(self, key: str, payment: dict[str, Any]) -> PostedDocument:
        """Post a payment under an idempotency key."""
        return self._post_document("/erp/payments", key, payment)

    def get_invoice(self, key: str) -> dict[str, Any]:
        """The invoice posted under ``key`` (raises HTTPStatusError 404 if none)."""
        return dict(self.request("GET", f"/erp/invoices/{key}"))

    def list_invoices(self) -> list[dict[str, Any]]:
        """Every invoice in the simulator's store, in number order."""
        return list(self.request("GET", "/erp/invoices")["documents"])

    def list_payments(self) -> list[dict[str, Any]]:
        """Every payment in the simulator's store, in number order."""
        return list(self.request("GET", "/erp/payments")["documents"])

    def get_payment(self, key: str) -> dict[str, Any]:
        """The payment posted under ``key`` (raises HTTPStatusError 404 if none)."""
        return dict(self.request("GET", f"/erp/payments/{key}"))

    def list_page(self, kind: str, after: str = "", limit: int = 500) -> dict[str, Any]:
        """One page of ``kind`` ("invoices" or "payments") after a document number:
        ``{"documents": [...], "next_after": number or None}``."""
        query = urllib.parse.urlencode({"after": after, "limit": limit})
        return dict(self.request("GET", f"/erp/{kind}?{query}"))

    # -- tests only ----------------------------------------------------------------
    def tamper(
        self, kind: str, key: str, *, fields: dict[str, Any] | None = None, delete: bool = False
    ) -> dict[str, Any]:
        """Overwrite payload ``fields`` of a posted document, or delete it (``POST /admin/tamper``)."""
        body: dict[str, Any] = {"kind": kind, "key": key}
        body.update({"delete": True} if delete else {"set": fields or {}})
        return dict(self.request("POST", "/admin/tamper", body))

    # -- reference records -------------------------------------------------------
    def put_customer(self, key: str, customer: dict[str, Any]) -> dict[str, Any]:
        """Upsert an ERP customer."""
        return dict(self.request("PUT", f"/erp/customers/{key}", customer))

    def put_job(self, key: str, job: dict[str, Any]) -> dict[str, Any]:
        """Upsert an ERP job (project)."""
        return dict(self.request("PUT", f"/erp/jobs/{key}", job))

    def put_project(self, key: str, project: dict[str, Any]) -> dict[str, Any]:
        """Provision (upsert) a PSA project."""
        return dict(self.request("PUT", f"/psa/projects/{key}", project))

    # -- control -----------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """The health reply (``{"status": "ok"}``)."""
        return dict(self.request("GET", "/health"))

    def set_faults(self, plan: dict[str, Any]) -> dict[str, Any]:
        """Replace the fault plan; returns it as the simulator shows it."""
        return dict(self.request("POST", "/faults", plan))

    def get_faults(self) -> dict[str, Any]:
        """The current fault plan with remaining counts."""
        return dict(self.request("GET", "/faults"))

    def clear_faults(self) -> None:
        """Remove every fault."""
        self.request("DELETE", "/faults")

    def _post_document(self, path: str, key: str, payload: dict[str, Any]) -> PostedDocument:
        reply = self.request("POST", path, payload, {"Idempotency-Key": key})
        if not isinstance(reply, dict):
            raise MalformedResponseError(f"POST {path}: reply is not a JSON object")
        number, status = reply.get("document_number"), reply.get("status")
        if not isinstance(number, str) or not isinstance(status, str):
            raise MalformedResponseError(f"POST {path}: reply lacks document_number/status: {reply!r}")
        return PostedDocument(number, status, str(reply.get("key", key)), bool(reply.get("replayed")))
