"""Bearer JWT verification: `sub` is the user id. HS256 with a shared secret, or RS256 with
a PEM public key or a JWKS URL. The algorithm is pinned by the key source, so a token
cannot choose its own (no "none", no HS256-signed-with-the-public-key confusion)."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.types import Options

from wishlist_api.errors import RETRY_AFTER_SECONDS, ApiError
from wishlist_api.settings import ApiSettings
from wishlist_runtime import values

MAX_TOKEN_CHARS = 8192
MAX_JWKS_BYTES = 512 * 1024  # an identity provider's key set is a few KiB
log = logging.getLogger(__name__)


class AuthError(Exception):
    """Why a request is not authenticated; the message is safe to return (no token echo)."""


class AuthUnavailable(ApiError):
    """The JWKS endpoint failed or timed out: the server's problem, not the token's, so
    503 + Retry-After (a 401 would send a client with a good token to sign in again)."""

    def __init__(self) -> None:
        super().__init__(
            503,
            "auth_unavailable",
            "token signing keys are unavailable; retry later",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


class _JwksDown(Exception):
    """The JWKS endpoint failed (or failed within the last Retry-After seconds)."""


class BoundedJwksClient(jwt.PyJWKClient):
    """PyJWT's JWKS client with the whole fetch bounded by `timeout`, not each socket read:
    an endpoint that drips a byte a second never trips a per-read timeout. PyJWT documents
    `fetch_data` as the method a subclass overrides; caching and key lookup stay PyJWT's.
    No redirects (as PyJWT), at most MAX_JWKS_BYTES."""

    def fetch_data(self) -> Any:
        deadline = time.monotonic() + float(self.timeout)

        def remaining() -> float:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the JWKS fetch took longer than its timeout")
            return left

        parts = urlsplit(self.uri)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=remaining(), context=self.ssl_context
            )
        else:
            connection = http.client.HTTPConnection(
                parts.hostname or "", parts.port, timeout=remaining()
            )
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", path, headers=dict(self.headers))
            sock = connection.sock  # kept: the connection lets go of it once answered
            assert sock is not None
            sock.settimeout(remaining())
            response = connection.getresponse()
            if response.status != 200:
                raise jwt.PyJWKClientConnectionError(f"JWKS answered HTTP {response.status}")
            body = bytearray()
            while True:
                sock.settimeout(remaining())
                chunk = response.read1(64 * 1024)
                if not chunk:
                    break
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise jwt.PyJWKClientConnectionError("JWKS document is too large")
        except (OSError, http.client.HTTPException) as exc:  # TimeoutError is an OSError
            raise jwt.PyJWKClientConnectionError(type(exc).__name__) from exc
        finally:
            connection.close()
        try:
            jwk_set = json.loads(body)
        except ValueError:
            raise jwt.PyJWKClientConnectionError("JWKS answer is not JSON") from None
        if not isinstance(jwk_set, dict):
            raise jwt.PyJWKClientConnectionError("JWKS answer is not a JSON object")
        if self.jwk_set_cache is not None:
            self.jwk_set_cache.put(jwk_set)
        return jwk_set


class Authenticator:
    def __init__(self, settings: ApiSettings) -> None:
        self._options: Options = {"require": ["exp", "sub"]}
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        self._jwks: jwt.PyJWKClient | None = None
        self._key: Any
        if settings.jwt_secret is not None:
            self._algorithms = ["HS256"]
            self._key = settings.jwt_secret.get_secret_value()
        elif settings.jwt_public_key:
            self._algorithms = ["RS256"]
            self._key = settings.jwt_public_key
        else:
            self._algorithms = ["RS256"]
            self._jwks = BoundedJwksClient(
                str(settings.jwt_jwks_url),
                cache_keys=True,
                lifespan=300,
                timeout=settings.jwt_jwks_timeout_seconds,
            )
        # After a failed fetch, requests fail at once for RETRY_AFTER_SECONDS: PyJWT fetches
        # under its own lock and remembers no failure, so N waiting requests would otherwise
        # take N timeouts, each holding an executor thread.
        self._jwks_lock = threading.Lock()
        self._jwks_timeout = settings.jwt_jwks_timeout_seconds
        self._jwks_down_until = 0.0
        if self._audience is None:
            self._options["verify_aud"] = False

    async def user_id(self, token: str) -> str:
        """The verified `sub`; raises AuthError for anything else."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise AuthError("missing or malformed bearer token")
        key = self._key if self._jwks is None else await self._jwks_key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options=self._options,
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token has expired") from None
        except jwt.InvalidTokenError:
            raise AuthError("token is not valid") from None
        try:
            return values.user_id(claims.get("sub"), "sub")
        except values.InvalidValue:
            raise AuthError("token subject is not a valid user id") from None

    async def _jwks_key(self, token: str) -> Any:
        try:  # the token's own header first: a malformed token must not count as an outage
            kid = jwt.get_unverified_header(token).get("kid")
        except (jwt.InvalidTokenError, ValueError):
            raise AuthError("token is not valid") from None
        try:  # blocking fetch (cached for 5 minutes): keep it off the event loop
            return await asyncio.to_thread(self._signing_key, kid)
        except _JwksDown:
            raise AuthUnavailable() from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            raise AuthError("token is not valid") from None

    def _signing_key(self, kid: Any) -> Any:
        jwks = self._jwks
        assert jwks is not None
        # A waiter waits at most one timeout: the fetch it queues behind is bounded by it too.
        if not self._jwks_lock.acquire(timeout=self._jwks_timeout):
            raise _JwksDown
        try:
            if time.monotonic() < self._jwks_down_until:
                raise _JwksDown
            try:
                return jwks.get_signing_key(kid).key
            except (jwt.PyJWKClientConnectionError, ValueError, OSError) as exc:
                # ValueError: a 200 that is not JSON (an HTML error page); OSError: a reset.
                # The cause's class only: its text carries the JWKS URL.
                log.warning("JWKS fetch failed: %s", type(exc.__cause__ or exc).__name__)
                self._jwks_down_until = time.monotonic() + RETRY_AFTER_SECONDS
                raise _JwksDown from None
        finally:
            self._jwks_lock.release()
