"""API settings, read once from the environment (names are the variables, case-insensitive)."""

from __future__ import annotations

from typing import Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from image_resolver.config import ConfigError as _ConfigError
from image_resolver.config import build_settings

DEFAULT_SQLITE_URL = "sqlite:///./var/wishlist.db"
_S = TypeVar("_S", bound=BaseSettings)


class DatabaseSettings(BaseSettings):
    """What `wishlist-api migrate` needs: only the database."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    # SQLite file by default (embedded); postgresql+psycopg://user:pw@host/db in production.
    database_url: str = DEFAULT_SQLITE_URL


class ApiSettings(DatabaseSettings):
    """Every knob of the wishlist API."""

    resolver_target: str = Field(
        "127.0.0.1:50051",
        validation_alias=AliasChoices("resolver_target", "image_resolver_target"),
    )
    # Deadline of the one BatchResolveImageUrls call per page; gRPC retries fit inside it.
    resolver_timeout_seconds: float = Field(0.25, gt=0, le=10)
    # Off: items come back with imageStatus "disabled" and no RPC (kill switch, benchmark).
    images_enabled: bool = True
    # Must match the resolver's ALLOWED_KEY_PREFIX: confirmed keys must be <prefix><user>/...
    upload_key_prefix: str = "uploads/wishlist/"

    # Bearer JWTs: HS256 with JWT_SECRET, or RS256 with JWT_PUBLIC_KEY (PEM) or JWT_JWKS_URL.
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)

    # The gallery's session cookie is Secure (HTTPS only) unless turned off for plain-HTTP demos.
    session_cookie_secure: bool = True

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    page_size_default: int = Field(20, ge=1, le=100)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    @model_validator(mode="after")
    def _one_key_source(self) -> ApiSettings:
        sources = [
            self.jwt_secret is not None and self.jwt_secret.get_secret_value() != "",
            bool(self.jwt_public_key),
            bool(self.jwt_jwks_url),
        ]
        if sum(sources) != 1:
            raise ValueError("set exactly one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL")
        if self.jwt_secret is not None and 0 < len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters (HS256 key strength)")
        return self


# Re-exported: the CLI catches it for both the API's and the resolver's settings.
ConfigError = _ConfigError


def load_settings(**overrides: object) -> ApiSettings:
    return _load(ApiSettings, overrides)


def load_database_settings(**overrides: object) -> DatabaseSettings:
    return _load(DatabaseSettings, overrides)


def _load(cls: type[_S], overrides: dict[str, object]) -> _S:
    return build_settings(cls, overrides)
