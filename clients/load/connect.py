"""How `q2c load` reaches the server: one grpc.aio channel per process, two principals.

Tokens, TLS files, the retry service config and the bearer metadata come from the SDK and
`clients.connection`, as for every q2c client. The submitter books time, expenses and change
orders, issues invoices and records payments; the approver (another principal of the same
tenant: separation of duties) approves and rejects.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from clients.connection import service_config
from clients.load.record import Recorder
from q2c.v1 import billing_pb2_grpc, customer_pb2_grpc, engagement_pb2_grpc, rate_card_pb2_grpc
from q2c_sdk.credentials import authorization_metadata, tls_credentials, token_source

RETRYABLE = frozenset({"UNAVAILABLE", "DEADLINE_EXCEEDED"})
"""Codes retried with the same request id (the server replays a command that did commit)."""
ATTEMPTS = 4
BACKOFF_S = 0.2


@dataclass(frozen=True)
class Settings:
    """Where and as whom to connect (picklable: worker processes get a copy)."""

    target: str
    token: str | None = None
    token_file: str | None = None
    approver_token: str | None = None
    approver_token_file: str | None = None
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    timeout: float = 30.0

    def check(self) -> None:
        """ValueError (naming the option) when credentials are missing or conflicting, or a
        token or TLS file does not exist."""
        for name, (value, path) in {
            "--token/--token-file": (self.token, self.token_file),
            "--approver-token/--approver-token-file": (self.approver_token, self.approver_token_file),
        }.items():
            if value and path:
                raise ValueError(f"{name}: give one of the two, not both")
            if not value and not path:
                raise ValueError(f"{name}: a token is required (mint one with `q2c auth token`)")
        for flag, file in (
            ("--token-file", self.token_file),
            ("--approver-token-file", self.approver_token_file),
            ("--tls-ca-file", self.tls_ca_file),
            ("--tls-cert-file", self.tls_cert_file),
            ("--tls-key-file", self.tls_key_file),
        ):
            if file and not os.path.isfile(file):
                raise ValueError(f"{flag}: no such file: {file}")


class Connection:
    """The channel, the stubs and both principals' metadata; `call` records every command."""

    def __init__(self, settings: Settings, recorder: Recorder) -> None:
        self.settings = settings
        self.recorder = recorder
        options = [("grpc.service_config", service_config()), ("grpc.enable_retries", 1)]
        tls = tls_credentials(
            tls_ca_file=settings.tls_ca_file,
            tls_cert_file=settings.tls_cert_file,
            tls_key_file=settings.tls_key_file,
        )
        if tls is not None:
            self.channel = grpc.aio.secure_channel(settings.target, tls, options=options)
        else:
            self.channel = grpc.aio.insecure_channel(settings.target, options=options)
        self.engagements = engagement_pb2_grpc.EngagementServiceStub(self.channel)
        self.billing = billing_pb2_grpc.BillingServiceStub(self.channel)
        self.customers = customer_pb2_grpc.CustomerServiceStub(self.channel)
        self.rate_cards = rate_card_pb2_grpc.RateCardServiceStub(self.channel)
        self._submitter = token_source(settings.token, settings.token_file)
        self._approver = token_source(settings.approver_token, settings.approver_token_file)
        self.retries = 0
        self.last_retries = 0
        """Retries of the call that returned last: read it right after the `await`, before the
        next one (no other coroutine runs in between)."""
        self.last_error = ""
        """`CODE: details` of the latest failed call."""

    def metadata(self, approver: bool = False) -> tuple[tuple[str, str], ...]:
        """The bearer token of the submitter, or of the approver."""
        return authorization_metadata(self._approver if approver else self._submitter)

    async def call(
        self,
        rpc: str,
        method: Callable[..., Any],
        request: Any,
        *,
        approver: bool = False,
        intended: float | None = None,
        timeout: float | None = None,
    ) -> tuple[str, Any]:
        """(code, reply or None). UNAVAILABLE and DEADLINE_EXCEEDED are retried with the same
        request (same request id); the call is recorded once, from `intended` to its outcome."""
        started = time.monotonic()
        code, reply, attempt = "UNKNOWN", None, 0
        for attempt in range(ATTEMPTS):
            try:
                reply = await method(
                    request, metadata=self.metadata(approver), timeout=timeout or self.settings.timeout
                )
                code = "OK"
                break
            except grpc.aio.AioRpcError as error:
                code = error.code().name
                self.last_error = f"{code}: {error.details()}"
                if code not in RETRYABLE or attempt == ATTEMPTS - 1:
                    break
                self.retries += 1
                await asyncio.sleep(BACKOFF_S * 2**attempt)
        self.recorder.record(rpc, started if intended is None else intended, started, time.monotonic(), code)
        self.last_retries = attempt
        return code, reply

    async def close(self) -> None:
        """Close the channel."""
        await self.channel.close()
