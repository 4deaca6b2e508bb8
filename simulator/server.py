"""The simulator's HTTP/JSON front: routing, fault application and replies."""

from __future__ import annotations

import json
import re
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from simulator.faults import Decision, FaultInjector, PlanError
from simulator.store import KeyConflict, Store, UnknownReference

_RECORD_ROUTES = {
    re.compile(r"^/erp/customers/([^/]+)$"): "customer",
    re.compile(r"^/erp/jobs/([^/]+)$"): "job",
    re.compile(r"^/psa/projects/([^/]+)$"): "project",
}
_DOCUMENT_ROUTES = {"/erp/invoices": "invoice", "/erp/payments": "payment"}
_DOCUMENT_GET = re.compile(r"^/erp/(invoices|payments)(?:/([^/]+))?$")
_KINDS = {"invoices": "invoice", "payments": "payment"}
#: The largest page ``GET /erp/invoices?limit=N`` serves.
MAX_LIMIT = 1000
#: Deliberately not the documented JSON: truncated, so any JSON parser rejects it.
MALFORMED_BODY = b'{"document_number": "INV-'


class _Reply(Exception):
    """Raised inside a route to reply with an error status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SimulatorServer(ThreadingHTTPServer):
    """A threading HTTP server carrying the store and the fault injector."""

    daemon_threads = True
    request_queue_size = 128  # the default 5 drops connections under a delivery burst
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store) -> None:
        super().__init__(address, SimulatorHandler)
        self.store = store
        self.faults = FaultInjector()


class SimulatorHandler(BaseHTTPRequestHandler):
    """One request: read the body, apply faults, route, reply (or not)."""

    server: SimulatorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the process quiet; the demo and tests read stdout only for the banner."""

    def do_GET(self) -> None:
        """Reads: health, faults, documents, records."""
        self._handle("GET")

    def do_PUT(self) -> None:
        """Upserts of reference records (customers, jobs, PSA projects)."""
        self._handle("PUT")

    def do_POST(self) -> None:
        """Document postings, fault plans and (tests only) tampering."""
        self._handle("POST")

    def do_DELETE(self) -> None:
        """Clearing the fault plan."""
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        path, _, query = self.path.partition("?")
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        decision = self.server.faults.decide(path, is_write=method in ("PUT", "POST"))
        if decision.latency_s:
            time.sleep(decision.latency_s)
        if decision.hold_then_drop_s is not None:
            time.sleep(decision.hold_then_drop_s)
            self._drop()
            return
        if decision.status is not None:
            self._fault_reply(decision)
            return
        try:
            status, body = self._route(method, path, raw, parse_qs(query))
        except _Reply as reply:
            status, body = reply.status, {"error": reply.message}
        if decision.crash_after_commit:
            self._drop()
            return
        if decision.malformed and status < 400:
            self._send(HTTPStatus.OK, MALFORMED_BODY)
            return
        self._send(status, json.dumps(body).encode())

    def _route(self, method: str, path: str, raw: bytes, query: dict[str, list[str]]) -> tuple[int, Any]:
        store = self.server.store
        if path == "/health" and method == "GET":
            return 200, {"status": "ok"}
        if path == "/faults":
            return self._faults(method, raw)
        if path == "/admin/tamper" and method == "POST":
            return self._tamper(self._json(raw))
        if method == "POST" and path in _DOCUMENT_ROUTES:
            return self._post_document(_DOCUMENT_ROUTES[path], self._json(raw))
        for pattern, kind in _RECORD_ROUTES.items():
            match = pattern.match(path)
            if match and method == "PUT":
                record, created = store.upsert_record(kind, match.group(1), self._json(raw))
                return (201 if created else 200), record
            if match and method == "GET":
                found = store.get_record(kind, match.group(1))
                if found is None:
                    raise _Reply(404, f"no {kind} {match.group(1)!r}")
                return 200, found
        match = _DOCUMENT_GET.match(path)
        if match and method == "GET":
            kind = _KINDS[match.group(1)]
            if match.group(2) is None:
                return 200, self._list_documents(kind, query)
            document = store.get_document(kind, match.group(2))
            if document is None:
                raise _Reply(404, f"no {kind} with key {match.group(2)!r}")
            return 200, document.to_json()
        raise _Reply(404, f"no route {method} {path}")

    def _faults(self, method: str, raw: bytes) -> tuple[int, Any]:
        faults = self.server.faults
        if method == "GET":
            return 200, faults.describe()
        if method == "DELETE":
            faults.clear()
            return 200, faults.describe()
        if method == "POST":
            try:
                return 200, faults.set(self._json(raw))
            except PlanError as exc:
                raise _Reply(400, str(exc)) from exc
        raise _Reply(405, f"{method} not allowed on /faults")

    def _list_documents(self, kind: str, query: dict[str, list[str]]) -> dict[str, Any]:
        """Every document of a kind, or with ``limit`` one page after ``after`` (a document number)."""
        after = query.get("after", [""])[-1]
        if "limit" not in query:
            return {"documents": [d.to_json() for d in self.server.store.list_documents(kind, after)]}
        text = query["limit"][-1]
        if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
            raise _Reply(400, f"limit must be an integer from 1 to {MAX_LIMIT}")
        limit = int(text)
        page = self.server.store.list_documents(kind, after, limit + 1)
        more = len(page) > limit
        documents = [d.to_json() for d in page[:limit]]
        return {"documents": documents, "next_after": documents[-1]["document_number"] if more else None}

    def _tamper(self, body: dict[str, Any]) -> tuple[int, Any]:
        """Overwrite payload fields of a posted document, or delete it (tests plant mismatches)."""
        kind, key, fields, delete = body.get("kind"), body.get("key"), body.get("set"), body.get("delete")
        if kind not in ("invoice", "payment") or not isinstance(key, str) or not key:
            raise _Reply(400, "kind ('invoice' or 'payment') and key are required")
        if (fields is None) == (delete is not True) or (fields is not None and not isinstance(fields, dict)):
            raise _Reply(400, "give exactly one of 'set' (an object of payload fields) and 'delete': true")
        document = self.server.store.tamper_document(kind, key, fields=fields, delete=delete is True)
        if document is None:
            raise _Reply(404, f"no {kind} with key {key!r}")
        return 200, {**document.to_json(), "deleted": delete is True}

    def _post_document(self, kind: str, payload: dict[str, Any]) -> tuple[int, Any]:
        key = self.headers.get("Idempotency-Key") or payload.get("key")
        if not isinstance(key, str) or not key:
            raise _Reply(400, "an Idempotency-Key header or a 'key' field is required")
        try:
            document, replayed = self.server.store.post_document(kind, key, payload)
        except KeyConflict as exc:
            raise _Reply(409, str(exc)) from exc
        except UnknownReference as exc:
            raise _Reply(422, str(exc)) from exc
        return (200 if replayed else 201), document.to_json(replayed=replayed)

    @staticmethod
    def _json(raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            raise _Reply(400, f"body is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise _Reply(400, "body must be a JSON object")
        return body

    def _fault_reply(self, decision: Decision) -> None:
        assert decision.status is not None
        reasons = {429: "throttled", 503: "maintenance window"}
        body = json.dumps({"error": reasons.get(decision.status, "injected error")}).encode()
        headers = {} if decision.retry_after is None else {"Retry-After": str(decision.retry_after)}
        self._send(decision.status, body, headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _drop(self) -> None:
        """Close the connection without a reply (the client sees a connection error)."""
        self.close_connection = True
