"""The operations dashboard: server-rendered HTML over HTTP (`--dashboard-port`), in a thread.

Authenticated like the API: `Authorization: Bearer <token>` verified by the gateway's own
authenticator (`GatewaySecurity.authenticator`, the one the interceptor calls), scope
`dashboard:read` or `admin`; 401 without valid credentials, 403 without the scope. A browser
cannot send a bearer header, so a token is also accepted once as `?token=`: it is verified,
kept in an HttpOnly, SameSite=Strict cookie, and the browser is redirected to the URL without
it. Under `--auth none` the page is open (the trusting authenticator grants every scope).

It reads through the runtime's app-layer use cases (dashboard_view.py); everything rendered is
escaped (dashboard_html.py), and a Content-Security-Policy lets only the page's own refresh
script run, so markup that slipped through escaping still could not execute.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import ssl
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http.cookies import CookieError, SimpleCookie
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl, urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from q2c_core.app.runtime import Runtime
from q2c_core.domain.errors import PermissionDeniedError, UnauthenticatedError
from q2c_core.edge.auth.authenticator import (
    AUTHORIZATION_KEY,
    PRINCIPAL_KEY,
    TENANT_KEY,
    CallAuthenticator,
    check_asserted,
)
from q2c_core.edge.auth.identity import Identity
from q2c_core.edge.auth.scopes import DASHBOARD_READ, missing_scopes
from q2c_core.edge.dashboard_html import BILL_RUNS_PATH, SCRIPT, bill_runs_fragment, page
from q2c_core.edge.dashboard_view import bill_runs, overview, rpc_latencies
from q2c_core.edge.security import TlsFiles

log = logging.getLogger(__name__)

DASHBOARD_PATH = "/dashboard"
COOKIE = "q2c_dashboard_token"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{_SCRIPT_HASH}'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
]


class DashboardApp:
    """The WSGI application: GET /dashboard (the page) and /dashboard/bill-runs (its live part)."""

    def __init__(
        self,
        runtime: Runtime,
        authenticator: CallAuthenticator,
        secure_cookie: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.runtime = runtime
        self.authenticator = authenticator
        self.secure_cookie = secure_cookie
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Route, authenticate and render; errors become plain-text replies without details."""
        path = environ.get("PATH_INFO", "")
        if path not in (DASHBOARD_PATH, BILL_RUNS_PATH):
            return _reply(start_response, "404 Not Found", "not found")
        if environ.get("REQUEST_METHOD") != "GET":
            return _reply(start_response, "405 Method Not Allowed", "GET only", [("Allow", "GET")])
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        token = next((value for key, value in query if key == "token"), None)
        try:
            identity = self.authenticate(environ, query, token)
        except UnauthenticatedError as error:
            log.info("dashboard refused %s: %s", error.reason, error.message)
            challenge = [("WWW-Authenticate", 'Bearer realm="q2c"')]
            return _reply(start_response, "401 Unauthorized", error.message, challenge)
        except PermissionDeniedError as error:
            log.info("dashboard refused %s: %s", error.reason, error.message)
            return _reply(start_response, "403 Forbidden", error.message)
        if token is not None:
            return self._keep_token(start_response, path, query, token, identity)
        try:
            body = self.render(path, identity)
        except Exception:  # details stay in the log, as with INTERNAL on the API
            log.exception("dashboard of tenant %s failed", identity.tenant_id)
            return _reply(start_response, "500 Internal Server Error", "the dashboard could not be read")
        return _reply(start_response, "200 OK", body, content_type="text/html; charset=utf-8")

    def authenticate(
        self, environ: dict[str, Any], query: list[tuple[str, str]], token: str | None
    ) -> Identity:
        """The caller, by the gateway's authenticator, holding `dashboard:read` (or `admin`)."""
        header = environ.get("HTTP_AUTHORIZATION", "").strip()
        if token is not None:
            header = f"Bearer {token}"
        elif not header:
            kept = _cookie(environ)
            header = f"Bearer {kept}" if kept else ""
        metadata = {AUTHORIZATION_KEY: header} if header else {}
        asserted = [(key, value) for key, value in query if key == "tenant"]
        hints = [(TENANT_KEY, value) for _, value in asserted]
        if environ.get("HTTP_X_TENANT_ID"):
            hints.append((TENANT_KEY, environ["HTTP_X_TENANT_ID"]))
        if environ.get("HTTP_X_PRINCIPAL"):
            hints.append((PRINCIPAL_KEY, environ["HTTP_X_PRINCIPAL"]))
        metadata.update({key: value for key, value in reversed(hints)})  # the first hint wins
        identity = self.authenticator.authenticate(metadata, None)
        check_asserted(hints, identity)
        missing = missing_scopes(identity.scopes, (DASHBOARD_READ,))
        if missing:
            raise PermissionDeniedError(
                "SCOPE_MISSING", f"the dashboard needs scope {DASHBOARD_READ}", {"scope": DASHBOARD_READ}
            )
        return identity

    def render(self, path: str, identity: Identity) -> str:
        """The page, or the bill-run fragment, of the caller's tenant."""
        if path == BILL_RUNS_PATH:
            return bill_runs_fragment(bill_runs(self.runtime, identity.tenant_id))
        view = overview(self.runtime, identity.tenant_id, rpc_latencies(), self.clock())
        return page(view, identity.principal)

    def _keep_token(
        self,
        start_response: StartResponse,
        path: str,
        query: list[tuple[str, str]],
        token: str,
        identity: Identity,
    ) -> Iterable[bytes]:
        """Set the verified token as a cookie and redirect to the URL without it."""
        rest = urlencode([(key, value) for key, value in query if key != "token"])
        location = f"{path}?{rest}" if rest else path
        cookie = f"{COOKIE}={token}; Path={DASHBOARD_PATH}; HttpOnly; SameSite=Strict"
        if identity.expires_at is not None:
            max_age = int(identity.expires_at - self.clock().timestamp())
            cookie += f"; Max-Age={max(0, max_age)}"
        if self.secure_cookie:
            cookie += "; Secure"
        return _reply(start_response, "303 See Other", "", [("Location", location), ("Set-Cookie", cookie)])


def _cookie(environ: dict[str, Any]) -> str:
    try:
        morsel = SimpleCookie(environ.get("HTTP_COOKIE", "")).get(COOKIE)
    except CookieError:
        return ""
    return morsel.value.strip() if morsel is not None else ""


def _reply(
    start_response: StartResponse,
    status: str,
    body: str,
    headers: list[tuple[str, str]] | None = None,
    content_type: str = "text/plain; charset=utf-8",
) -> Iterable[bytes]:
    data = body.encode("utf-8")
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(data))), *_HEADERS, *(headers or [])],
    )
    return [data]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A failed TLS handshake or a client gone mid-reply: no traceback on stderr."""
        log.debug("dashboard connection from %s failed", client_address, exc_info=True)


class _QuietHandler(WSGIRequestHandler):
    """No access log: request lines may carry `?token=`."""

    timeout = 30  # seconds a connection may sit idle before its thread gives up

    def log_message(self, format: str, *args: Any) -> None:
        """Drop it."""


class DashboardEndpoint:
    """The dashboard served in a daemon thread; HTTPS when the gateway has TLS files."""

    def __init__(
        self,
        runtime: Runtime,
        authenticator: CallAuthenticator,
        host: str,
        port: int,
        tls: TlsFiles | None = None,
    ) -> None:
        self.app = DashboardApp(runtime, authenticator, secure_cookie=tls is not None)
        """What it serves (its `clock` decides what counts as past an SLA)."""
        self._server = make_server(
            host, port, self.app, server_class=_ThreadingServer, handler_class=_QuietHandler
        )
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.cert_file, tls.key_file)
            # the handshake happens in the request's thread, not in the accepting one
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.port: int = self._server.server_port
        """The bound port (the one picked when 0 was asked for)."""
        self.scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, name="q2c-dashboard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
