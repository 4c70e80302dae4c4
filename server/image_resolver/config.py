"""Settings, read once from the environment and checked before the server binds a port."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from pydantic import (
    AliasChoices,
    Field,
    FilePath,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from image_resolver.s3.endpoint import s3_endpoint
from image_resolver.urls import is_valid_hostname
from wishlist_runtime.settings import ConfigError, build_settings, start_up
from wishlist_runtime.values import KeyPrefix, Percent

__all__ = ["ConfigError", "Settings", "load_settings", "start_up"]

PLACEHOLDER_CDN_DOMAIN = "d111111abcdef8.cloudfront.net"
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
MIN_ADMIN_TOKEN = 32

MAX_SOCKET_PATH = 107


class Settings(BaseSettings):
    """Every knob of the resolver; names are the environment variables (case-insensitive)."""

    # An empty variable (`CDN_ROLLOUT_PERCENT=` from a templated manifest) means unset, the
    # same rule the wishlist API applies to its JWT_* variables.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_ignore_empty=True)

    cloudfront_distribution_domain: str | None = None
    cloudfront_distribution_id: str | None = None
    # "http" only for the local demo edge under *.localhost (browsers can't trust its cert).
    cdn_url_scheme: Literal["https", "http"] = "https"
    s3_bucket: str = "lego-moc-wishlist-uploads"
    aws_region: str = Field(
        "us-east-1", validation_alias=AliasChoices("aws_region", "aws_default_region")
    )
    s3_endpoint_url: str | None = None
    # FIPS / dual-stack S3 hosts: the variables botocore itself reads, so the presigned and
    # public fallback URLs and boto3's own calls (upload forms, HEAD) use the same host.
    aws_use_fips_endpoint: bool = False
    aws_use_dualstack_endpoint: bool = False
    allowed_key_prefix: KeyPrefix = "uploads/wishlist/"
    s3_fallback_mode: Literal["public", "presigned"] = "presigned"
    s3_presign_expires: int = Field(3600, ge=2, le=MAX_PRESIGN_SECONDS)

    grpc_host: str = "[::]"
    grpc_port: int = Field(50051, ge=0, le=65535)
    # Sidecar: also serve gRPC on this Unix socket (plaintext: the file's permissions guard it,
    # and the admin API keeps refusing plaintext unless ADMIN_ALLOW_PLAINTEXT).
    grpc_unix_socket: str | None = None
    metrics_port: int = Field(9464, ge=0, le=65535)
    # Unset: the gRPC host, so a resolver bound to loopback does not expose /metrics.
    metrics_host: str | None = None
    grpc_tls_cert_file: FilePath | None = None
    grpc_tls_key_file: FilePath | None = None
    grpc_tls_client_ca_file: FilePath | None = None  # set: clients need a certificate (mTLS)
    admin_allow_plaintext: bool = False
    shutdown_grace_seconds: float = Field(20.0, ge=0, le=300)
    max_batch: int = Field(1000, ge=1, le=10000)

    rollout_store: str | None = None
    rollout_poll_seconds: float = Field(5.0, gt=0, le=3600)
    rollout_group_id: str = "wishlist-image-cdn"
    cdn_rollout_percent: Percent | None = None
    admin_token: SecretStr | None = None

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    otel_enabled: bool = False

    @field_validator("cloudfront_distribution_domain", mode="before")
    @classmethod
    def _domain_is_a_bare_hostname(cls, value: object) -> object:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError("must be a string")
        domain = value.strip().lower().rstrip(".")
        if "://" in domain or "/" in domain:
            raise ValueError(
                "must be a bare host name such as d111111abcdef8.cloudfront.net "
                "(no scheme, no path)"
            )
        host, _, port = domain.partition(":")
        if port and (not host.endswith(".localhost") or not _is_port(port)):
            raise ValueError("may carry a port only for a local demo host under .localhost")
        if not is_valid_hostname(host):
            raise ValueError("is not a valid host name")
        return domain

    @model_validator(mode="after")
    def _plain_http_only_for_local_demos(self) -> Settings:
        domain = (self.cloudfront_distribution_domain or "").partition(":")[0]
        if self.cdn_url_scheme == "http" and not domain.endswith(".localhost"):
            raise ValueError("CDN_URL_SCHEME=http is only for a local demo CDN under .localhost")
        return self

    @model_validator(mode="after")
    def _s3_endpoint_exists(self) -> Settings:
        """A host that cannot exist (a region outside aws/aws-cn/aws-us-gov, FIPS in China,
        an endpoint URL with a path) stops start-up in one line, not at the first URL."""
        s3_endpoint(
            self.s3_bucket,
            self.aws_region,
            endpoint_url=self.s3_endpoint_url,
            fips=self.aws_use_fips_endpoint,
            dualstack=self.aws_use_dualstack_endpoint,
        )
        return self

    @field_validator("grpc_unix_socket", mode="before")
    @classmethod
    def _socket_path_fits(cls, value: object) -> object:
        if value is None or value == "":
            return None
        path = str(value)
        # sun_path holds 108 bytes with the NUL; a relative path would depend on the cwd.
        if not PurePosixPath(path).is_absolute() or len(path.encode()) > MAX_SOCKET_PATH:
            raise ValueError(f"must be an absolute path of at most {MAX_SOCKET_PATH} bytes")
        return path

    @field_validator("admin_token")
    @classmethod
    def _token_is_strong_and_sendable(cls, value: SecretStr | None) -> SecretStr | None:
        # gRPC metadata carries printable ASCII only, and a short or blank token is guessable.
        if value is None or value.get_secret_value() == "":
            return None
        token = value.get_secret_value()
        if len(token) < MIN_ADMIN_TOKEN or not all("!" <= c <= "~" for c in token):
            raise ValueError(
                f"must be at least {MIN_ADMIN_TOKEN} printable ASCII characters without "
                "whitespace (e.g. openssl rand -hex 32)"
            )
        return value

    @model_validator(mode="after")
    def _tls_files_come_in_pairs(self) -> Settings:
        if (self.grpc_tls_cert_file is None) != (self.grpc_tls_key_file is None):
            raise ValueError("GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE must be set together")
        if self.grpc_tls_client_ca_file is not None and self.grpc_tls_cert_file is None:
            raise ValueError("GRPC_TLS_CLIENT_CA_FILE needs GRPC_TLS_CERT_FILE/GRPC_TLS_KEY_FILE")
        return self

    @property
    def metrics_bind_host(self) -> str:
        """Where /metrics listens: METRICS_HOST, else the gRPC host without brackets."""
        return self.metrics_host or self.grpc_host.strip("[]")

    @property
    def cdn_configured(self) -> bool:
        return self.cloudfront_distribution_domain is not None

    @property
    def initial_percent(self) -> int:
        """The rollout served until the store has been read (reported unhealthy meanwhile):
        CDN_ROLLOUT_PERCENT, else 0. Start dark, CDN domain or not: the story ramps
        10 -> 50 -> 100 on evidence, so a new distribution gets no traffic by default."""
        return self.cdn_rollout_percent if self.cdn_rollout_percent is not None else 0


def _is_port(text: str) -> bool:
    return text.isdigit() and 0 < int(text) < 65536


def load_settings(**overrides: object) -> Settings:
    """Read the resolver's settings from the environment (plus overrides)."""
    return build_settings(Settings, overrides)
