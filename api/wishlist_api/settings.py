"""API settings, read once from the environment (names are the variables, case-insensitive)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import grpc
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from wishlist_api.db import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    MAX_OVERFLOW,
    POOL_SIZE,
    make_engine,
)
from wishlist_api.deadline import DatabaseDeadline
from wishlist_images_client import tls_credentials
from wishlist_runtime.settings import ConfigError, build_settings

DEFAULT_SQLITE_URL = "sqlite:///./var/wishlist.db"
# The largest legitimate JSON body (a title, an upload key) is well under 1 KiB.
DEFAULT_MAX_BODY_BYTES = 16 * 1024
DEFAULT_JWKS_TIMEOUT = 5.0
MAX_PEM_BYTES = 1024 * 1024  # a CA bundle is ~200 KiB
_S = TypeVar("_S", bound=BaseSettings)


class DatabaseSettings(BaseSettings):
    """What `wishlist-api migrate` needs: only the database."""

    model_config = SettingsConfigDict(
        extra="ignore",
        populate_by_name=True,
        use_attribute_docstrings=True,  # each field's docstring: api/README.md's table
    )

    database_url: str = DEFAULT_SQLITE_URL
    """SQLite file by default (embedded); in production
    `postgresql+psycopg://user:pw@host/db?sslmode=verify-full`. Never echoed (it may hold a
    password); empty is refused."""
    database_lock_timeout_seconds: float = Field(DEFAULT_LOCK_TIMEOUT, gt=0, le=60)
    """A request waits at most this long for a lock (SQLite busy, PostgreSQL lock_timeout),
    then gets 503 `database_unavailable` with Retry-After."""
    database_connect_timeout_seconds: int = Field(DEFAULT_CONNECT_TIMEOUT, ge=1, le=60)
    """The same for a new connection or a free one from the pool."""
    database_statement_timeout_seconds: float = Field(DEFAULT_STATEMENT_TIMEOUT, gt=0, le=60)
    """Each database call's deadline, client side (a hung server answers nothing) and as
    PostgreSQL's statement_timeout; past it, 503 `database_unavailable`."""

    @field_validator("database_url")
    @classmethod
    def _parsable_url(cls, value: str) -> str:
        """Refused at start-up in one line, not as an engine traceback; never echoed (it
        may hold a password). Empty is refused too: silently using SQLite is worse."""
        try:
            make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError("is not a database URL (e.g. postgresql+psycopg://...)") from None
        return value

    def make_engine(self) -> Engine:
        return make_engine(
            self.database_url,
            lock_timeout=self.database_lock_timeout_seconds,
            connect_timeout=self.database_connect_timeout_seconds,
            statement_timeout=self.database_statement_timeout_seconds,
        )

    def database_deadline(self) -> DatabaseDeadline:
        return DatabaseDeadline(
            self.database_statement_timeout_seconds, workers=POOL_SIZE + MAX_OVERFLOW
        )


class ApiSettings(DatabaseSettings):
    """Every knob of the wishlist API."""

    resolver_target: str = Field(
        "127.0.0.1:50051",
        validation_alias=AliasChoices("resolver_target", "image_resolver_target"),
    )
    """The resolver, as any gRPC target: `host:port`, `dns:///NAME:PORT` (a headless Service:
    every replica), `ipv4:A:P,B:P`, `ipv6:[::1]:P` or `unix:///ABS/PATH` (sidecar)."""
    resolver_load_balancing: Literal["round_robin", "pick_first"] = "round_robin"
    """How calls spread over the addresses the target resolves to: `round_robin`, each call
    to the next ready replica; `pick_first`, all to one."""
    resolver_timeout_seconds: float = Field(0.25, gt=0, le=10)
    """Deadline of the one `BatchResolveImageUrls` call per page; retries fit inside it."""
    images_enabled: bool = True
    """`false`: no resolver calls, items come back with imageStatus `disabled`."""
    resolver_tls: bool = False
    """`true`: TLS to the resolver trusting the system roots. A failed handshake gives
    imageStatus `unavailable`, never a 500."""
    resolver_tls_ca: Path | None = None
    """PEM CA that signed the resolver's `GRPC_TLS_CERT_FILE`; set, the channel is TLS."""
    resolver_tls_cert: Path | None = None
    """PEM client certificate, for a resolver with `GRPC_TLS_CLIENT_CA_FILE` (mTLS); a
    missing, unreadable or non-PEM file stops start-up naming the variable."""
    resolver_tls_key: Path | None = None
    """PEM key of `RESOLVER_TLS_CERT`."""

    jwt_secret: SecretStr | None = None
    """HS256 key (at least 32 characters). Exactly one of `JWT_SECRET`, `JWT_PUBLIC_KEY`,
    `JWT_JWKS_URL`; an empty `JWT_*` variable counts as unset."""
    jwt_public_key: str | None = None
    """RS256 public key (PEM)."""
    jwt_jwks_url: str | None = None
    """RS256 keys from a JWKS endpoint (cached 5 minutes)."""
    jwt_issuer: str | None = None
    """Required `iss`, when set."""
    jwt_audience: str | None = None
    """Required `aud`, when set."""
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    """Clock skew allowed on `exp`/`nbf`."""
    jwt_jwks_timeout_seconds: float = Field(DEFAULT_JWKS_TIMEOUT, gt=0, le=30)
    """The whole JWKS fetch (PyJWT bounds only each read, at 30 s); an identity provider
    that fails or hangs gives 503 `auth_unavailable` with Retry-After, not 401."""

    session_cookie_secure: bool = True
    """The gallery's session cookie is `Secure` (HTTPS only); `false` only for plain-HTTP
    demos."""
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, ge=1024, le=1024 * 1024)
    """Bodies over this get 413 before they are read, with or without Content-Length."""

    host: str = "127.0.0.1"
    """Address `serve` binds."""
    port: int = Field(8080, ge=0, le=65535)
    """Port `serve` binds."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Log level."""
    log_format: Literal["json", "text"] = "json"
    """`json` (one object a line) or `text`."""

    @field_validator(
        "jwt_secret", "jwt_public_key", "jwt_jwks_url", "jwt_issuer", "jwt_audience", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`JWT_SECRET=` in a manifest means "not set": one rule for every optional key, so
        no later check can mistake an empty secret for a configured one."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("resolver_tls_ca", "resolver_tls_cert", "resolver_tls_key", mode="before")
    @classmethod
    def _readable_pem(cls, value: Any) -> Any:
        """Read once at start-up, so a missing, unreadable or non-PEM file is one line and
        exit 2 here rather than a handshake failure on every page later."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        try:
            with Path(value).open("rb") as fh:  # bounded: /dev/zero must not hang start-up
                pem = fh.read(MAX_PEM_BYTES + 1)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ValueError(f"cannot read the file ({reason})") from None
        if len(pem) > MAX_PEM_BYTES:
            raise ValueError(f"is larger than {MAX_PEM_BYTES // 1024} KiB: not a PEM file")
        if b"-----BEGIN " not in pem:
            raise ValueError("is not a PEM file")
        return value

    @model_validator(mode="after")
    def _client_certificate_with_its_key(self) -> ApiSettings:
        if self.resolver_tls_cert is not None and self.resolver_tls_key is None:
            raise ValueError("RESOLVER_TLS_KEY is missing: RESOLVER_TLS_CERT needs its key")
        if self.resolver_tls_key is not None and self.resolver_tls_cert is None:
            raise ValueError("RESOLVER_TLS_CERT is missing: RESOLVER_TLS_KEY needs its certificate")
        return self

    def resolver_credentials(self) -> grpc.ChannelCredentials | None:
        """TLS credentials for the resolver channel; None: plaintext (loopback, socket, mesh)."""
        files = (self.resolver_tls_ca, self.resolver_tls_cert, self.resolver_tls_key)
        if not self.resolver_tls and all(f is None for f in files):
            return None
        return tls_credentials(*files)

    @field_validator("jwt_jwks_timeout_seconds", mode="before")
    @classmethod
    def _empty_timeout_is_default(cls, value: Any) -> Any:
        """Same rule as the other JWT_* variables: empty means unset."""
        return DEFAULT_JWKS_TIMEOUT if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _one_key_source(self) -> ApiSettings:
        sources = [self.jwt_secret, self.jwt_public_key, self.jwt_jwks_url]
        if sum(source is not None for source in sources) != 1:
            raise ValueError("set exactly one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL")
        if self.jwt_secret is not None and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters (HS256 key strength)")
        return self


__all__ = ["ApiSettings", "ConfigError", "DatabaseSettings", "load_settings"]


def load_settings(**overrides: object) -> ApiSettings:
    return _load(ApiSettings, overrides)


def load_database_settings(**overrides: object) -> DatabaseSettings:
    return _load(DatabaseSettings, overrides)


def _load(cls: type[_S], overrides: dict[str, object]) -> _S:
    return build_settings(cls, overrides)
