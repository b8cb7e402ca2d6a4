"""Which tracer and meter providers antflow's telemetry uses.

By default, the global ones: whatever your program set with
``opentelemetry.trace.set_tracer_provider`` and ``opentelemetry.metrics.set_meter_provider``
(with no SDK configured, the API's no-op providers, so telemetry costs little and
records nothing). `configure_telemetry` chooses others for antflow alone, for example in
tests or when antflow's spans go to a different backend than the rest of the program.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from opentelemetry import metrics, trace

from antflow_otel.names import INSTRUMENTATION_SCOPE

__all__ = ["configure_telemetry", "configured_providers", "get_meter", "get_tracer"]

try:
    _VERSION = version("antflow-otel")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    _VERSION = "0.0.0"

_tracer_provider: trace.TracerProvider | None = None
_meter_provider: metrics.MeterProvider | None = None


def configure_telemetry(
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> None:
    """Choose the providers antflow's spans and metrics go to.

    Affects what `get_tracer` and `get_meter` return from now on, so the observers built
    afterwards (``Pipeline(..., telemetry=True)`` builds one per pipeline); call it
    before building your pipelines. Passing None for a provider goes back to the global
    one of OpenTelemetry.

    Args:
        tracer_provider: The provider of antflow's tracer, or None for the global one.
        meter_provider: The provider of antflow's meter, or None for the global one.

    Raises:
        TypeError: If a provider is not an OpenTelemetry provider.

    Example:
        ```python
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        configure_telemetry(tracer_provider=provider)
        ```
    """
    global _tracer_provider, _meter_provider
    if tracer_provider is not None and not isinstance(tracer_provider, trace.TracerProvider):
        raise TypeError(
            "tracer_provider must be an opentelemetry TracerProvider (e.g. "
            f"opentelemetry.sdk.trace.TracerProvider()) or None, got {tracer_provider!r}"
        )
    if meter_provider is not None and not isinstance(meter_provider, metrics.MeterProvider):
        raise TypeError(
            "meter_provider must be an opentelemetry MeterProvider (e.g. "
            f"opentelemetry.sdk.metrics.MeterProvider(...)) or None, got {meter_provider!r}"
        )
    _tracer_provider = tracer_provider
    _meter_provider = meter_provider


def get_tracer(tracer_provider: trace.TracerProvider | None = None) -> trace.Tracer:
    """Return antflow's tracer (instrumentation scope ``"antflow"``).

    Args:
        tracer_provider: Take it from this provider; by default from the one
            `configure_telemetry` chose, else from the global provider.
    """
    provider = tracer_provider if tracer_provider is not None else _tracer_provider
    return trace.get_tracer(INSTRUMENTATION_SCOPE, _VERSION, tracer_provider=provider)


def get_meter(meter_provider: metrics.MeterProvider | None = None) -> metrics.Meter:
    """Return antflow's meter (instrumentation scope ``"antflow"``).

    Args:
        meter_provider: Take it from this provider; by default from the one
            `configure_telemetry` chose, else from the global provider.
    """
    provider = meter_provider if meter_provider is not None else _meter_provider
    return metrics.get_meter(INSTRUMENTATION_SCOPE, _VERSION, meter_provider=provider)


def configured_providers() -> tuple[trace.TracerProvider | None, metrics.MeterProvider | None]:
    """The providers `configure_telemetry` chose; None for each left to the global one."""
    return _tracer_provider, _meter_provider
