"""antflow-otel: OpenTelemetry traces and metrics for antflow pipelines.

Install it and pass ``telemetry=True``::

    pipeline = Pipeline(stages, telemetry=True)

Every item becomes a trace (a span per stage, a span per task call) and the pipeline's
counts become metrics, sent to the tracer and meter providers you configured with the
OpenTelemetry SDK (or to `configure_telemetry`'s). A span that your task opens is a
child of the task's span. The names used are in `antflow_otel.names`.
"""

from __future__ import annotations

from antflow_otel import names
from antflow_otel.config import configure_telemetry, get_meter, get_tracer
from antflow_otel.observer import TelemetryObserver

__version__ = "0.1.0"

__all__ = [
    "TelemetryObserver",
    "__version__",
    "configure_telemetry",
    "get_meter",
    "get_tracer",
    "names",
]
