"""Assemble and run the resolver: components from settings, the aio server, health,
reflection, metrics and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from image_resolver import metrics
from image_resolver.config import Settings
from image_resolver.grpc_api.drain import Gate
from image_resolver.grpc_api.image_service import SERVICE_NAME as IMAGE_SERVICE
from image_resolver.grpc_api.image_service import ImageUrlServicer, UploadIssuer
from image_resolver.grpc_api.pipeline import Policy, add_service
from image_resolver.grpc_api.rollout_service import SERVICE_NAME as ROLLOUT_SERVICE
from image_resolver.grpc_api.rollout_service import RolloutServicer
from image_resolver.grpc_api.transport import AdminTransport
from image_resolver.invalidation import Invalidator, Purger
from image_resolver.resolver import FallbackSigner, ImageResolver
from image_resolver.rollout.aws_stores import store_client_config
from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.live import LiveRollout
from image_resolver.rollout.store import open_store
from image_resolver.urls import UrlRules
from wishlist.images.v1 import image_url_service_pb2, rollout_service_pb2

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass
class Components:
    """Everything the servicers need, built once from settings."""

    settings: Settings
    rules: UrlRules
    rollout: LiveRollout
    resolver: ImageResolver
    uploads: UploadIssuer | None
    invalidator: Invalidator | None


def build_components(
    settings: Settings, session: Any = None, purgers: Sequence[Purger] = ()
) -> Components:
    """Wire the domain objects; `session` is a boto3 Session (tests pass one for moto).
    `purgers`: told each invalidation CloudFront accepted (`invalidation.Purger`)."""
    import boto3
    from botocore.config import Config

    session = session or boto3.Session(region_name=settings.aws_region)
    signing = _can_sign(settings, session)
    rules = UrlRules(
        bucket=settings.s3_bucket,
        region=settings.aws_region,
        cdn_domain=settings.cloudfront_distribution_domain,
        allowed_prefix=settings.allowed_key_prefix,
        s3_endpoint=settings.s3_endpoint_url,
        cdn_scheme=settings.cdn_url_scheme,
        s3_fips=settings.aws_use_fips_endpoint,
        s3_dualstack=settings.aws_use_dualstack_endpoint,
    )
    store = None
    if settings.rollout_store:
        endpoint = settings.s3_endpoint_url  # the local demo serves every AWS API from one moto
        bounded = store_client_config(settings.rollout_store_timeout_seconds)
        store = open_store(
            settings.rollout_store,
            lambda service: session.client(
                service, endpoint_url=endpoint, region_name=settings.aws_region, config=bounded
            ),
        )
    rollout = LiveRollout(
        store,
        RolloutState(settings.initial_percent),
        settings.rollout_poll_seconds,
        store_timeout=settings.rollout_store_timeout_seconds,
    )
    rollout.refresh()
    s3 = session.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_region,
        config=Config(signature_version="s3v4"),
    )
    signer = _fallback_signer(settings, session)
    resolver = ImageResolver(rules, rollout, settings.rollout_group_id, signer)
    invalidator = Invalidator(
        session.client("cloudfront", endpoint_url=settings.s3_endpoint_url),
        settings.cloudfront_distribution_id,
        rules,
        purgers=purgers,
    )
    if not signing:
        return Components(settings, rules, rollout, resolver, None, None)
    return Components(settings, rules, rollout, resolver, _upload_issuer(settings, s3), invalidator)


class MissingCredentials(ValueError):
    """No AWS credentials, and the settings need some; one line for the operator."""


def _can_sign(settings: Settings, session: Any) -> bool:
    """Whether AWS credentials exist. Without them the resolver still serves CDN and public
    S3 URLs (nothing to sign), with uploads and invalidation off; settings that need a
    signature on every path stop start-up instead of failing later, request by request."""
    if session.get_credentials() is not None:
        return True
    needs = []
    if settings.s3_fallback_mode == "presigned":
        needs.append("S3_FALLBACK_MODE=presigned (use public, or provide credentials)")
    if settings.rollout_store and not settings.rollout_store.startswith("file://"):
        needs.append("an AWS ROLLOUT_STORE")
    if needs:
        raise MissingCredentials(
            "no AWS credentials found (environment, profile, container or instance role), "
            "needed by " + " and ".join(needs)
        )
    log.warning(
        "no AWS credentials: serving CDN and public S3 URLs only; "
        "CreateUploadUrl and InvalidateImages are off"
    )
    return False


def _fallback_signer(settings: Settings, session: Any) -> FallbackSigner | None:
    if settings.s3_fallback_mode != "presigned":
        return None
    from image_resolver.s3.presign import S3GetPresigner

    signer = S3GetPresigner.from_boto3_session(
        session,
        bucket=settings.s3_bucket,
        region=settings.aws_region,
        expires_in=settings.s3_presign_expires,
        endpoint_url=settings.s3_endpoint_url,
        fips=settings.aws_use_fips_endpoint,
        dualstack=settings.aws_use_dualstack_endpoint,
    )
    signer.warm()  # the first credential read happens here, not on the event loop
    return signer


def _upload_issuer(settings: Settings, s3: Any) -> UploadIssuer:
    from image_resolver.s3.uploads import UploadFormIssuer

    return UploadFormIssuer(
        s3_client=s3, bucket=settings.s3_bucket, key_prefix=settings.allowed_key_prefix
    )


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    components: Components
    gate: Gate
    store_watch: asyncio.Task[None] | None = None

    async def stop(self, grace: float) -> None:
        """Flip health to NOT_SERVING so balancers drain us, refuse new calls until none
        arrive (see drain.py), then stop the core and let in-flight RPCs finish in `grace`."""
        started = time.monotonic()
        if self.store_watch is not None:
            self.store_watch.cancel()
        await self.health.enter_graceful_shutdown()
        await self.gate.drain(grace)
        await self.server.stop(max(0.0, grace - (time.monotonic() - started)))
        self.components.rollout.stop()


def server_options(settings: Settings) -> list[tuple[str, int]]:
    """Channel arguments of the gRPC server. A connection's maximum age makes clients that
    hold one long-lived HTTP/2 connection (every API pod) reconnect, resolving the target
    anew, so replicas an autoscaler adds get calls; core gRPC adds ±10 % jitter itself."""
    options = [("grpc.max_receive_message_length", 8 * 1024 * 1024), ("grpc.so_reuseport", 0)]
    if settings.grpc_max_connection_age_seconds > 0:
        options += [
            ("grpc.max_connection_age_ms", int(settings.grpc_max_connection_age_seconds * 1000)),
            (
                "grpc.max_connection_age_grace_ms",
                int(settings.grpc_max_connection_age_grace_seconds * 1000),
            ),
        ]
    return options


async def start(
    components: Components,
    host: str,
    port: int,
    extra_handlers: Sequence[grpc.GenericRpcHandler] = (),
) -> RunningServer:
    """Bind and start; port 0 picks a free port (tests). `extra_handlers`: benchmarks' echo."""
    settings = components.settings
    server = grpc.aio.server(options=server_options(settings))
    token = settings.admin_token.get_secret_value().encode() if settings.admin_token else None
    gate = Gate()
    policy = Policy(gate, AdminTransport(allow_plaintext=settings.admin_allow_plaintext), token)
    servicer = ImageUrlServicer(
        components.resolver,
        max_batch=settings.max_batch,
        uploads=components.uploads,
        invalidator=components.invalidator,
    )
    add_service(server, servicer, _service(image_url_service_pb2, "ImageUrlService"), policy)
    services = [IMAGE_SERVICE]
    if extra_handlers:
        server.add_generic_rpc_handlers(tuple(extra_handlers))
    if token is not None:  # without a token every RolloutService call would be refused
        rollout = RolloutServicer(components.rollout)
        add_service(server, rollout, _service(rollout_service_pb2, "RolloutService"), policy)
        services.append(ROLLOUT_SERVICE)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*services, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    credentials = _server_credentials(settings)
    address = f"{host}:{port}"
    if credentials is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, credentials)
    if bound == 0:
        raise OSError(f"cannot bind {host}:{port}")
    if settings.grpc_unix_socket is not None and not server.add_insecure_port(
        f"unix:{settings.grpc_unix_socket}"
    ):
        raise OSError(f"cannot bind unix:{settings.grpc_unix_socket}")
    await server.start()
    for name in ("", *services):
        await health_servicer.set(name, SERVING)
    components.rollout.start()
    watch = None
    if components.rollout.store is not None:
        watch = asyncio.create_task(_watch_store(components.rollout, health_servicer))
    return RunningServer(server, bound, health_servicer, components, gate, watch)


STORE_HEALTH = "rollout-store"  # health service name: is the rollout store answering?


async def _watch_store(rollout: LiveRollout, servicer: health.aio.HealthServicer) -> None:
    """Mirror the store's health into the health service under STORE_HEALTH (the whole
    server and its services stay SERVING: replicas go on serving the last good value, and
    draining them all because a shared store hung would be an outage)."""
    last = None
    while True:
        status = SERVING if rollout.health().healthy else NOT_SERVING
        if status != last:
            await servicer.set(STORE_HEALTH, status)
            last = status
        await asyncio.sleep(min(rollout.poll_seconds, 0.25))


def _server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS from GRPC_TLS_CERT_FILE/KEY_FILE; a client CA makes client certificates required."""
    if settings.grpc_tls_cert_file is None or settings.grpc_tls_key_file is None:
        return None
    pair = (settings.grpc_tls_key_file.read_bytes(), settings.grpc_tls_cert_file.read_bytes())
    client_ca = settings.grpc_tls_client_ca_file
    return grpc.ssl_server_credentials(
        [pair],
        root_certificates=client_ca.read_bytes() if client_ca else None,
        require_client_auth=client_ca is not None,
    )


def _service(module: Any, name: str) -> ServiceDescriptor:
    return module.DESCRIPTOR.services_by_name[name]  # type: ignore[no-any-return]


def _describe(settings: Settings, running: RunningServer) -> dict[str, object]:
    return {
        "port": running.port,
        "cdn_domain": settings.cloudfront_distribution_domain or "(none: S3 URLs only)",
        "bucket": settings.s3_bucket,
        "s3_fallback": settings.s3_fallback_mode,
        "rollout_store": running.components.rollout.health().store,
        "rollout_percent": running.components.rollout.state.percent,
        "admin_api": settings.admin_token is not None,
        "unix_socket": settings.grpc_unix_socket or "(off)",
        "metrics_port": settings.metrics_port or "(off)",
        "metrics_host": settings.metrics_bind_host,
        "tls": "mutual" if settings.grpc_tls_client_ca_file else bool(settings.grpc_tls_cert_file),
    }


async def serve(settings: Settings, session: Any = None, purgers: Sequence[Purger] = ()) -> None:
    """Run until SIGTERM/SIGINT, then drain within SHUTDOWN_GRACE_SECONDS. `purgers`: see
    `build_components` (programmatic only, e.g. the dev tooling's local edge)."""
    components = build_components(settings, session, purgers)
    if settings.otel_enabled:
        from image_resolver.tracing import instrument

        instrument()
    running = await start(components, settings.grpc_host, settings.grpc_port)
    metrics.serve(settings.metrics_port, settings.metrics_bind_host)
    if not settings.cdn_configured:
        log.warning("CLOUDFRONT_DISTRIBUTION_DOMAIN is not set: serving S3 URLs only")
    elif settings.rollout_store is None and settings.initial_percent == 0:
        log.warning(
            "CDN rollout is at 0% and there is no ROLLOUT_STORE: serving S3 URLs only "
            "(set CDN_ROLLOUT_PERCENT, or a store and `rollout set`)"
        )
    log.info("image-resolver serving", extra=_describe(settings, running))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down", extra={"grace_seconds": settings.shutdown_grace_seconds})
    await running.stop(settings.shutdown_grace_seconds)
    log.info("stopped")
