"""Bearer JWT verification: `sub` is the user id. HS256 with a shared secret, or RS256 with
a PEM public key or a JWKS URL. The algorithm is pinned by the key source, so a token
cannot choose its own (no "none", no HS256-signed-with-the-public-key confusion)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import jwt
from jwt.types import Options

from wishlist_api.errors import RETRY_AFTER_SECONDS, ApiError
from wishlist_api.models import MAX_USER_ID_CHARS
from wishlist_api.settings import ApiSettings

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
        sub = claims.get("sub")
        if (
            not isinstance(sub, str)
            or not 0 < len(sub) <= MAX_USER_ID_CHARS
            or not sub.isprintable()
        ):
            raise AuthError("token subject is not a valid user id")
        return sub

    async def _jwks_key(self, token: str) -> Any:
        jwks = self._jwks
        assert jwks is not None
        try:  # blocking fetch (cached for 5 minutes): keep it off the event loop
            return (await asyncio.to_thread(jwks.get_signing_key_from_jwt, token)).key
        except jwt.PyJWKClientConnectionError as exc:
            # The cause's class only: its text carries the JWKS URL.
            log.warning("JWKS fetch failed: %s", type(exc.__cause__ or exc).__name__)
            raise AuthUnavailable() from None
        except (jwt.PyJWKClientError, jwt.InvalidTokenError):
            raise AuthError("token is not valid") from None
