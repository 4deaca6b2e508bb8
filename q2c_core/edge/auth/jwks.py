"""Where a JWKS's keys come from: a local file re-read when it changes, or an identity provider's URL.

Both say which generation of the key set they hold, so the verifier can drop every verdict it
cached when the key set changes (a token signed by a key that was removed must be refused).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Protocol

import jwt

log = logging.getLogger(__name__)

JWKS_LIFESPAN_SECONDS = 300.0
"""How long a fetched JWKS is trusted before it is fetched again (an unknown kid fetches sooner)."""
JWKS_TIMEOUT_SECONDS = 5.0


class KeySource(Protocol):
    """A set of signing keys chosen by the token's `kid`."""

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        """The key the token's `kid` names (PyJWKClientError when there is none)."""
        ...

    def generation(self) -> Hashable:
        """A value that changes whenever the key set may have changed (refreshing it when due)."""
        ...


class JwksFile:
    """A JWKS kept in a local file, re-read when the file changes (PyJWKClient fetches URLs only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._lock = threading.Lock()

    def _current(self) -> dict[str, jwt.PyJWK]:
        stat = self.path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                keys = jwt.PyJWKSet.from_json(self.path.read_text()).keys
                self._keys = {key.key_id: key for key in keys if key.key_id}
                self._stamp = stamp
            return self._keys

    def generation(self) -> Hashable:
        """The file's modification time and size, once its keys are read (OSError: unreadable)."""
        self._current()
        return self._stamp

    def get_signing_key_from_jwt(self, token: str) -> jwt.PyJWK:
        """The key the token's `kid` names (PyJWKClientError when there is none)."""
        kid = jwt.get_unverified_header(token).get("kid")
        key = self._current().get(str(kid)) if kid else None
        if key is None:
            raise jwt.PyJWKClientError(f"no key with kid {kid!r} in {self.path}")
        return key


class JwksUrl(jwt.PyJWKClient):
    """PyJWKClient (the key set cached for `lifespan`, re-fetched for an unknown kid) that counts
    the key sets it was served. Keys are not cached apart from the set, so a key removed from
    the published set stops verifying at the next fetch. When a due fetch fails, the last set
    is served for another lifespan (an identity provider outage must not stop every call);
    a fetch for an unknown kid that fails is still JWKS_UNAVAILABLE."""

    def __init__(self, uri: str, lifespan: float = JWKS_LIFESPAN_SECONDS) -> None:
        super().__init__(uri, cache_keys=False, lifespan=lifespan, timeout=JWKS_TIMEOUT_SECONDS)
        self._published: Any = None
        self._last: jwt.PyJWKSet | None = None
        self._generation = 0

    def fetch_data(self) -> Any:
        """Fetch the JWKS; a set unlike the last one starts a new generation."""
        data = super().fetch_data()
        with self._client_lock:
            if data != self._published:
                self._published, self._generation = data, self._generation + 1
        return data

    def get_jwk_set(self, refresh: bool = False) -> jwt.PyJWKSet:
        """The cached set, fetched again when due; the last set again if that fetch fails."""
        try:
            jwk_set = super().get_jwk_set(refresh)
        except jwt.PyJWKClientConnectionError as error:
            if refresh or self._last is None or self.jwk_set_cache is None:
                raise
            log.warning("JWKS %s unreachable, keeping the last key set: %s", self.uri, error)
            jwk_set = self._last
            self.jwk_set_cache.put(jwk_set)
        self._last = jwk_set
        return jwk_set

    def may_fetch(self, token: str) -> bool:
        """Whether verifying `token` now could fetch the JWKS over the network: no set yet, the
        set is due, or its kid is not in the set and PyJWT's refetch cooldown has passed. A token
        whose header cannot be read never fetches (it is refused as malformed)."""
        cache = self.jwk_set_cache
        jwk_set = cache.get() if cache is not None else None
        if jwk_set is None:
            return True
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return False
        if any(key.key_id == kid for key in jwk_set.keys):
            return False
        last = self._last_successful_fetch
        return last is None or time.monotonic() - last >= self.cooldown_duration

    def generation(self) -> Hashable:
        """The number of different key sets fetched, fetching again first when the set is due
        (as an uncached verification would; PyJWKClientConnectionError when that fails)."""
        cache = self.jwk_set_cache
        if cache is not None and (cache.jwk_set_with_timestamp is None or cache.is_expired()):
            with self._client_lock:
                if cache.jwk_set_with_timestamp is None or cache.is_expired():
                    self.get_jwk_set()
        return self._generation


def jwks_source(jwks: str, lifespan: float = JWKS_LIFESPAN_SECONDS) -> KeySource:
    """JwksUrl for a URL; JwksFile (read once now, so a bad file fails at start) for a path."""
    if jwks.startswith(("https://", "http://")):
        return JwksUrl(jwks, lifespan)
    source = JwksFile(Path(jwks.removeprefix("file://")))
    source.generation()
    return source
