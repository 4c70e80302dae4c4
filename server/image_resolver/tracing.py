"""Optional OpenTelemetry spans for every RPC (OTEL_ENABLED=true).

No collector is needed: with `OTEL_TRACES_EXPORTER` unset or `none` the spans are made
(trace context propagates to the logs of anything downstream) but not exported;
`console` prints them as JSON to stdout. For OTLP, install
`opentelemetry-exporter-otlp` and set `OTEL_TRACES_EXPORTER=otlp` with the standard
`OTEL_EXPORTER_OTLP_*` variables.
"""

from __future__ import annotations

import os
from typing import Any


def instrument(provider: Any = None) -> Any:
    """Instrument grpc.aio servers created after this call; returns the instrumentor
    (call `.uninstrument()` to undo). `provider` is a TracerProvider (tests pass one)."""
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer
    except ImportError as exc:  # the [otel] extra is optional
        raise SystemExit("OTEL_ENABLED=true needs: pip install 'wishlist-image-cdn[otel]'") from exc
    if provider is None:
        provider = _provider_from_env()
        trace.set_tracer_provider(provider)
    instrumentor = GrpcAioInstrumentorServer()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=provider)
    return instrumentor


def _provider_from_env() -> Any:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider()
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if exporter == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        except ImportError as exc:
            raise SystemExit(
                "OTEL_TRACES_EXPORTER=otlp needs: pip install opentelemetry-exporter-otlp"
            ) from exc
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    elif exporter != "none":
        raise SystemExit("OTEL_TRACES_EXPORTER must be none, console or otlp")
    return provider
