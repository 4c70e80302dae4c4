"""Optional OpenTelemetry spans for every RPC (OTEL_ENABLED=true).

Exporters are configured the standard OpenTelemetry way (OTEL_* environment); with no
exporter configured the spans stay in-process, so no collector is required.
"""

from __future__ import annotations


def instrument() -> None:
    """Instrument grpc.aio servers created after this call."""
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorServer
        from opentelemetry.sdk.trace import TracerProvider
    except ImportError as exc:  # the [otel] extra is optional
        raise SystemExit("OTEL_ENABLED=true needs: pip install 'wishlist-image-cdn[otel]'") from exc
    trace.set_tracer_provider(TracerProvider())
    GrpcAioInstrumentorServer().instrument()  # type: ignore[no-untyped-call]
