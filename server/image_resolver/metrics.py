"""Prometheus metrics of the resolver, served on METRICS_PORT."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, start_http_server

if TYPE_CHECKING:
    from image_resolver.rollout.decision import RolloutState

RPCS = Counter("image_resolver_rpcs", "RPCs handled, by method and status code", ["method", "code"])
RPC_SECONDS = Histogram(
    "image_resolver_rpc_seconds",
    "Server-side RPC latency",
    ["method"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0),
)
RESOLUTIONS = Counter("image_resolver_resolutions", "Image URLs handed out, by origin", ["origin"])
INVALID_REFS = Counter("image_resolver_invalid_refs", "Refused image refs, by reason", ["reason"])
ROLLOUT_PERCENT = Gauge("image_resolver_rollout_percent", "Current CDN rollout percent")
ROLLOUT_CDN_ENABLED = Gauge("image_resolver_rollout_cdn_enabled", "1 unless the kill switch is on")
ROLLOUT_REVISION = Gauge("image_resolver_rollout_revision", "Revision of the rollout in force")
ROLLOUT_STORE_ERRORS = Counter(
    "image_resolver_rollout_store_errors", "Failed reads of the rollout store"
)
ROLLOUT_STORE_HEALTHY = Gauge(
    "image_resolver_rollout_store_healthy",
    "1 = the last read of ROLLOUT_STORE succeeded, or there is no store (env only); "
    "0 = it failed, found no document or a corrupt one: the last good value is served, "
    "or the start value (CDN_ROLLOUT_PERCENT) on a replica that never read it",
)

CDN_RESOLUTIONS = RESOLUTIONS.labels("cdn")
S3_RESOLUTIONS = RESOLUTIONS.labels("s3")


def publish_rollout(state: RolloutState) -> None:
    ROLLOUT_PERCENT.set(state.percent)
    ROLLOUT_CDN_ENABLED.set(1 if state.cdn_enabled else 0)
    ROLLOUT_REVISION.set(state.revision)


def serve(port: int, host: str) -> None:
    """Start the /metrics HTTP endpoint on `host` in a daemon thread (port 0 disables it)."""
    if port:
        start_http_server(port, addr=host)
