"""OTEL_ENABLED: every RPC becomes a server span (recorded in memory, no collector)."""

from __future__ import annotations

import time

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from image_resolver.tracing import instrument
from tests.conftest import CALL_TIMEOUT
from wishlist_images_client import ImageResolverClient
from wishlist_images_client.calls import ResolverCallError


def test_rpcs_become_server_spans_with_status(start_resolver) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = instrument(provider)
    try:
        server = start_resolver()
        with ImageResolverClient(server.target, timeout=CALL_TIMEOUT) as client:
            client.resolve("uploads/wishlist/u/a.jpg")
            with pytest.raises(ResolverCallError):
                client.resolve("https://evil.example/x.jpg")
        # a span ends when the server's handler does, which can be just after the client
        # has its answer: wait briefly for both
        deadline = time.monotonic() + 5
        while len(exporter.get_finished_spans()) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        instrumentor.uninstrument()
    spans = exporter.get_finished_spans()
    names = [s.name for s in spans]
    assert names.count("/wishlist.images.v1.ImageUrlService/ResolveImageUrl") == 2
    assert all(s.kind == SpanKind.SERVER for s in spans)
    codes = sorted(s.attributes["rpc.grpc.status_code"] for s in spans)  # type: ignore[index]
    assert codes == [0, 3]  # OK, INVALID_ARGUMENT


def test_unknown_exporter_is_refused(monkeypatch) -> None:
    from image_resolver.tracing import _provider_from_env

    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "carrier-pigeon")
    with pytest.raises(SystemExit, match="none, console or otlp"):
        _provider_from_env()
