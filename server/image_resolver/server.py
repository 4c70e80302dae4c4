"""Assemble and run the resolver: components from settings, the aio server, health,
reflection, metrics and graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from image_resolver import metrics
from image_resolver.config import Settings
from image_resolver.edge_purge import LocalEdgePurger
from image_resolver.grpc_api.image_service import SERVICE_NAME as IMAGE_SERVICE
from image_resolver.grpc_api.image_service import ImageUrlServicer, UploadIssuer
from image_resolver.grpc_api.rollout_service import SERVICE_NAME as ROLLOUT_SERVICE
from image_resolver.grpc_api.rollout_service import RolloutServicer
from image_resolver.invalidation import Invalidator
from image_resolver.resolver import FallbackSigner, ImageResolver
from image_resolver.rollout.decision import RolloutState
from image_resolver.rollout.live import LiveRollout
from image_resolver.rollout.store import open_store
from image_resolver.urls import UrlRules
from wishlist.images.v1 import image_url_service_pb2_grpc, rollout_service_pb2_grpc

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


def build_components(settings: Settings, session: Any = None) -> Components:
    """Wire the domain objects; `session` is a boto3 Session (tests pass one for moto)."""
    import boto3
    from botocore.config import Config

    session = session or boto3.Session(region_name=settings.aws_region)
    rules = UrlRules(
        bucket=settings.s3_bucket,
        region=settings.aws_region,
        cdn_domain=settings.cloudfront_distribution_domain,
        allowed_prefix=settings.allowed_key_prefix,
        s3_endpoint=settings.s3_endpoint_url,
        cdn_scheme=settings.cdn_url_scheme,
    )
    store = None
    if settings.rollout_store:
        endpoint = settings.s3_endpoint_url  # the local demo serves every AWS API from one moto
        store = open_store(
            settings.rollout_store,
            lambda service: session.client(
                service, endpoint_url=endpoint, region_name=settings.aws_region
            ),
        )
    rollout = LiveRollout(
        store, RolloutState(settings.initial_percent), settings.rollout_poll_seconds
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
        purge_edge=LocalEdgePurger(settings.local_edge_purge_url)
        if settings.local_edge_purge_url
        else None,
    )
    return Components(settings, rules, rollout, resolver, _upload_issuer(settings, s3), invalidator)


def _fallback_signer(settings: Settings, session: Any) -> FallbackSigner | None:
    if settings.s3_fallback_mode != "presigned":
        return None
    from image_resolver.s3.presign import S3GetPresigner

    return S3GetPresigner.from_boto3_session(
        session,
        bucket=settings.s3_bucket,
        region=settings.aws_region,
        expires_in=settings.s3_presign_expires,
        endpoint_url=settings.s3_endpoint_url,
    )


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

    async def stop(self, grace: float) -> None:
        """Flip health to NOT_SERVING first so balancers drain us, then finish in-flight RPCs."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        self.components.rollout.stop()


async def start(
    components: Components,
    host: str,
    port: int,
    extra_handlers: Sequence[grpc.GenericRpcHandler] = (),
) -> RunningServer:
    """Bind and start; port 0 picks a free port (tests). `extra_handlers`: benchmarks' echo."""
    settings = components.settings
    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ("grpc.so_reuseport", 0),
        ]
    )
    token = settings.admin_token.get_secret_value().encode() if settings.admin_token else None
    image_url_service_pb2_grpc.add_ImageUrlServiceServicer_to_server(
        ImageUrlServicer(
            components.resolver,
            max_batch=settings.max_batch,
            uploads=components.uploads,
            invalidator=components.invalidator,
            admin_token=token,
        ),
        server,
    )
    services = [IMAGE_SERVICE]
    if extra_handlers:
        server.add_generic_rpc_handlers(tuple(extra_handlers))
    if token is not None:
        rollout_service_pb2_grpc.add_RolloutServiceServicer_to_server(
            RolloutServicer(components.rollout, token), server
        )
        services.append(ROLLOUT_SERVICE)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*services, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot bind {host}:{port}")
    await server.start()
    for name in ("", *services):
        await health_servicer.set(name, SERVING)
    components.rollout.start()
    return RunningServer(server, bound, health_servicer, components)


def _describe(settings: Settings, running: RunningServer) -> dict[str, object]:
    return {
        "port": running.port,
        "cdn_domain": settings.cloudfront_distribution_domain or "(none: S3 URLs only)",
        "bucket": settings.s3_bucket,
        "s3_fallback": settings.s3_fallback_mode,
        "rollout_store": running.components.rollout.health().store,
        "rollout_percent": running.components.rollout.state.percent,
        "admin_api": settings.admin_token is not None,
        "metrics_port": settings.metrics_port or "(off)",
    }


async def serve(settings: Settings, session: Any = None) -> None:
    """Run until SIGTERM/SIGINT, then drain within SHUTDOWN_GRACE_SECONDS."""
    components = build_components(settings, session)
    if settings.otel_enabled:
        from image_resolver.tracing import instrument

        instrument()
    running = await start(components, settings.grpc_host, settings.grpc_port)
    metrics.serve(settings.metrics_port)
    if not settings.cdn_configured:
        log.warning("CLOUDFRONT_DISTRIBUTION_DOMAIN is not set: serving S3 URLs only")
    log.info("image-resolver serving", extra=_describe(settings, running))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down", extra={"grace_seconds": settings.shutdown_grace_seconds})
    await running.stop(settings.shutdown_grace_seconds)
    log.info("stopped")
