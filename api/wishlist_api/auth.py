"""Bearer JWT verification: `sub` is the user id. HS256 with a shared secret, or RS256 with
a PEM public key or a JWKS URL. The algorithm is pinned by the key source, so a token
cannot choose its own (no "none", no HS256-signed-with-the-public-key confusion)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import jwt
from jwt.types import Options

from wishlist_api.errors import RETRY_AFTER_SECONDS, ApiError
from wishlist_api.settings import ApiSettings
from wishlist_runtime import values

MAX_TOKEN_CHARS = 8192
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
            self._jwks = jwt.PyJWKClient(
                str(settings.jwt_jwks_url),
                cache_keys=True,
                lifespan=300,
                timeout=settings.jwt_jwks_timeout_seconds,
            )
        # After a failed fetch, requests fail at once for RETRY_AFTER_SECONDS: PyJWT fetches
        # under its own lock and remembers no failure, so N waiting requests would otherwise
        # take N timeouts, each holding an executor thread.
        self._jwks_lock = threading.Lock()
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
        with self._jwks_lock:
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
