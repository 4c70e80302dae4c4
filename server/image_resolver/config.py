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
    model_config = SettingsConfigDict(
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
        use_attribute_docstrings=True,  # each field's docstring: server/README.md's table
    )

    cloudfront_distribution_domain: str | None = None
    """CDN host, e.g. `d1234abcd.cloudfront.net` (the stack output `DistributionDomainName`).
    Unset: S3 URLs only, logged at start-up. A scheme, a path or a bad host name stops
    start-up."""
    cloudfront_distribution_id: str | None = None
    """The distribution `InvalidateImages` purges (stack output `DistributionId`)."""
    cdn_url_scheme: Literal["https", "http"] = "https"
    """`http` (and a `:PORT` on the domain) only for a local demo CDN under `*.localhost`,
    which browsers cannot trust a certificate for; refused for any other domain."""
    s3_bucket: str = "lego-moc-wishlist-uploads"
    """The uploads bucket."""
    aws_region: str = Field(
        "us-east-1", validation_alias=AliasChoices("aws_region", "aws_default_region")
    )
    """The bucket's region: partitions aws, aws-cn (`.amazonaws.com.cn`) and aws-us-gov; any
    other stops start-up (use `S3_ENDPOINT_URL`)."""
    s3_endpoint_url: str | None = None
    """A local S3/SSM/CloudFront/DynamoDB endpoint (moto) for demos and tests."""
    aws_use_fips_endpoint: bool = False
    """FIPS S3 hosts for the fallback URLs and, as botocore reads the same variable, for
    boto3's calls; FIPS in aws-cn stops start-up. One rule: `s3/endpoint.py`."""
    aws_use_dualstack_endpoint: bool = False
    """Dual-stack (IPv6) S3 hosts, the same way."""
    allowed_key_prefix: KeyPrefix = "uploads/wishlist/"
    """Keys outside it are refused; relative, ends in `/`."""
    s3_fallback_mode: Literal["public", "presigned"] = "presigned"
    """`presigned` (works once direct reads are blocked, AC15) or `public`. Without AWS
    credentials only `public` starts (uploads and invalidation off, logged)."""
    s3_presign_expires: int = Field(3600, ge=2, le=MAX_PRESIGN_SECONDS)
    """Presigned GET lifetime in seconds (at most 7 days); a URL is never handed out with
    less than half of it left."""

    grpc_host: str = "[::]"
    """Address gRPC binds."""
    grpc_port: int = Field(50051, ge=0, le=65535)
    """gRPC port (0: any free port)."""
    grpc_unix_socket: str | None = None
    """Absolute path: also serve gRPC (plaintext; the file's permissions guard it) on this
    Unix socket, for the sidecar layout; the API then uses `RESOLVER_TARGET=unix:///PATH`."""
    grpc_max_connection_age_seconds: float = Field(300.0, ge=0, le=86400)
    """Each client connection is closed (GOAWAY, then `GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS`
    for calls in flight) after about this long, ±10 % jitter, so clients resolve the
    target again and reach replicas added since; 0: never."""
    grpc_max_connection_age_grace_seconds: float = Field(10.0, ge=0, le=300)
    """How long calls in flight on an aged connection may finish."""
    metrics_port: int = Field(9464, ge=0, le=65535)
    """Prometheus `/metrics`; 0 turns it off."""
    metrics_host: str | None = None
    """Address `/metrics` binds; unset: the gRPC host, so a resolver bound to loopback does
    not expose it."""
    grpc_tls_cert_file: FilePath | None = None
    """PEM certificate chain: with the key, the gRPC port speaks TLS only."""
    grpc_tls_key_file: FilePath | None = None
    """PEM key of `GRPC_TLS_CERT_FILE`."""
    grpc_tls_client_ca_file: FilePath | None = None
    """With TLS: clients must present a certificate signed by this CA (mTLS)."""
    admin_allow_plaintext: bool = False
    """Admin RPCs over plaintext are refused (PERMISSION_DENIED) unless the peer is loopback;
    `true` allows them from anywhere (behind a mesh that encrypts)."""
    shutdown_grace_seconds: float = Field(20.0, ge=0, le=300)
    """Drain time after SIGTERM; keep it below the pod's termination grace."""
    max_batch: int = Field(1000, ge=1, le=10000)
    """Refs per `BatchResolveImageUrls` call; larger calls are refused on `images`; published
    by `GetUploadPolicy`, so clients split at it."""

    rollout_store: str | None = None
    """Where the live rollout flag lives: `dynamodb://TABLE/KEY` (a conditional write: of two
    writers exactly one wins), `file:///PATH` (one host) or `ssm:///NAME` (read-only: SSM
    has no conditional write). Unset: the environment's start value only."""
    rollout_poll_seconds: float = Field(5.0, gt=0, le=3600)
    """How often each replica re-reads the store."""
    rollout_store_timeout_seconds: float = Field(2.0, gt=0, le=30)
    """Connect and read timeout of each DynamoDB/SSM store request (botocore's default is
    60 s each, with retries); one retry, so a store call gives up after about twice this.
    A poll not answered within it marks the store unhealthy (GetRollout `store_healthy`,
    the `image_resolver_rollout_store_healthy` gauge, health service `rollout-store`)."""
    rollout_group_id: str = "wishlist-image-cdn"
    """The rollout hash's group (Unleash `groupId`)."""
    cdn_rollout_percent: Percent | None = None
    """Start value, served until the store has been read; unset is 0: a new distribution
    gets traffic only when an operator ramps it (`image-ops rollout set --percent 10`)."""
    admin_token: SecretStr | None = None
    """At least 32 printable ASCII characters, no whitespace (`openssl rand -hex 32`);
    enables `RolloutService` and `InvalidateImages` (bearer metadata). Unset: not served."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Log level."""
    log_format: Literal["json", "text"] = "json"
    """`json` (one object a line) or `text`."""
    otel_enabled: bool = False
    """OpenTelemetry spans for every RPC (the `image-resolver[otel]` extra)."""

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
