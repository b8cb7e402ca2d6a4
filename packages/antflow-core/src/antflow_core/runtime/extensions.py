"""Finding features that live in other antflow packages, without importing them.

The core names no other package in its imports (rule 3 of the design). Displays are
found through the ``antflow.displays`` entry-point group, which ``antflow-rich``
fills, and telemetry through ``antflow.telemetry``, which ``antflow-otel`` fills; when
nothing provides what was asked for, the error names the package to install.
"""

from __future__ import annotations

import importlib.util
import logging
import math
from importlib.metadata import entry_points
from typing import Any, Final, cast

from antflow_core.errors import ExtensionNotInstalledError
from antflow_core.model import (
    DashboardProtocol,
    DisplayFactory,
    PipelineObserver,
    ProgressDisplay,
)
from antflow_core.runtime.dashboards import DashboardDisplay
from antflow_core.runtime.observers import combine_observers

__all__ = [
    "DISPLAY_ENTRY_POINT_GROUP",
    "TELEMETRY_ENTRY_POINT_GROUP",
    "available_displays",
    "builders_missing_error",
    "load_display_factory",
    "load_telemetry_observer",
    "resolve_display",
    "with_telemetry",
]

logger = logging.getLogger("antflow")

DISPLAY_ENTRY_POINT_GROUP: Final = "antflow.displays"
"""Entry-point group of display factories: ``progress``, ``compact``, ``detailed``, ``full``."""

_RICH_HINT: Final = "pip install antflow-rich"

TELEMETRY_ENTRY_POINT_GROUP: Final = "antflow.telemetry"
"""Entry-point group of telemetry observer factories; ``otel`` is what ``telemetry=True`` uses."""


def available_displays() -> list[str]:
    """Return the names of the installed display factories."""
    return sorted({ep.name for ep in entry_points(group=DISPLAY_ENTRY_POINT_GROUP)})


def load_display_factory(name: str) -> DisplayFactory:
    """Load the display factory registered under ``name``.

    Raises:
        ExtensionNotInstalledError: If no installed package provides it.
    """
    for ep in entry_points(group=DISPLAY_ENTRY_POINT_GROUP, name=name):
        return cast(DisplayFactory, ep.load())
    installed = available_displays()
    if not installed:
        raise ExtensionNotInstalledError(
            f"progress displays come from the antflow-rich package, which is not installed: "
            f"{_RICH_HINT} (or pass your own ProgressDisplay object)"
        )
    raise ValueError(
        f"unknown dashboard {name!r}; the installed ones are: "
        + ", ".join(repr(n) for n in installed)
    )


def resolve_display(
    progress: bool | ProgressDisplay | DashboardProtocol,
    dashboard: str | ProgressDisplay | DashboardProtocol | None,
    refresh_interval: float | None,
    *,
    custom_dashboard: DashboardProtocol | ProgressDisplay | None = None,
    pipeline: Any = None,
) -> ProgressDisplay | None:
    """Turn ``run()``'s ``progress=``, ``dashboard=`` and ``custom_dashboard=`` into a display.

    ``dashboard`` wins over ``progress`` when both are given. A string names an
    installed dashboard (``"compact"``, ``"detailed"``, ``"full"``); ``progress=True`` is
    the progress bar; an object implementing `ProgressDisplay` is used as it is; an object
    implementing antflow 0.10's `DashboardProtocol` (``on_start``, ``on_update``,
    ``on_finish``) is wrapped in a `DashboardDisplay` for ``pipeline``.
    ``custom_dashboard`` (0.10's argument) takes either kind of object, and only alone.

    Raises:
        ExtensionNotInstalledError: If a built-in display is asked for and antflow-rich
            is not installed.
        ValueError: If ``dashboard`` names no installed display, or if
            ``custom_dashboard`` comes with ``progress`` or ``dashboard``.
        TypeError: If an argument is neither a bool/str nor a display object.
    """
    if refresh_interval is not None and (
        isinstance(refresh_interval, bool)
        or not isinstance(refresh_interval, int | float)
        or not math.isfinite(refresh_interval)
        or refresh_interval <= 0
    ):
        raise ValueError(
            f"refresh_interval must be a number of seconds > 0, got {refresh_interval!r}"
        )
    if custom_dashboard is not None:
        if (progress is not False and progress is not None) or dashboard is not None:
            raise ValueError(
                "custom_dashboard= draws the run by itself: pass it alone, without "
                f"progress={progress!r} or dashboard={dashboard!r} (to show both, draw one "
                "of them from the other)"
            )
        display = _display_object(custom_dashboard, refresh_interval, pipeline)
        if display is None:
            raise TypeError(
                "custom_dashboard must implement DashboardProtocol (on_start(pipeline, "
                "total), on_update(snapshot), on_finish(results, summary)) or "
                f"ProgressDisplay, got {custom_dashboard!r}"
            )
        return display
    if dashboard is not None:
        if isinstance(dashboard, str):
            return load_display_factory(dashboard)(refresh_interval=refresh_interval)
        display = _display_object(dashboard, refresh_interval, pipeline)
        if display is not None:
            return display
        raise TypeError(
            "dashboard must be 'compact', 'detailed', 'full' or a ProgressDisplay object, "
            f"got {dashboard!r}"
        )
    if progress is True:
        return load_display_factory("progress")(refresh_interval=refresh_interval)
    if progress is False or progress is None:
        return None
    display = _display_object(progress, refresh_interval, pipeline)
    if display is not None:
        return display
    raise TypeError(f"progress must be True, False or a ProgressDisplay object, got {progress!r}")


def _display_object(
    candidate: object, refresh_interval: float | None, pipeline: Any
) -> ProgressDisplay | None:
    """``candidate`` as a display: itself if a `ProgressDisplay`, wrapped if a dashboard."""
    if isinstance(candidate, ProgressDisplay):
        return candidate
    if isinstance(candidate, DashboardProtocol):
        return DashboardDisplay(candidate, pipeline, refresh_interval)
    return None


def builders_missing_error(feature: str) -> ExtensionNotInstalledError:
    """Return the error for ``Pipeline.create()``/``Pipeline.quick()`` called on the core class."""
    if importlib.util.find_spec("antflow_builders") is None:
        return ExtensionNotInstalledError(
            f"Pipeline.{feature}() comes from the antflow-builders package, which is not "
            "installed: pip install antflow-builders (or pip install antflow for everything), "
            "then import Pipeline from antflow"
        )
    return ExtensionNotInstalledError(
        f"Pipeline.{feature}() is not available on antflow_core.Pipeline: "
        "import Pipeline from antflow (or from antflow_builders) instead"
    )


def load_telemetry_observer() -> PipelineObserver:
    """Build the observer behind ``Pipeline(telemetry=True)``: antflow-otel's, with its defaults.

    Raises:
        ExtensionNotInstalledError: If antflow-otel is not installed.
    """
    for ep in entry_points(group=TELEMETRY_ENTRY_POINT_GROUP, name="otel"):
        factory = ep.load()
        observer = factory()
        if not isinstance(observer, PipelineObserver):
            raise TypeError(
                f"the {TELEMETRY_ENTRY_POINT_GROUP} entry point {ep.value!r} made "
                f"{observer!r}, which is not a PipelineObserver"
            )
        return observer
    raise ExtensionNotInstalledError(
        "telemetry=True comes from the antflow-otel package, which is not installed: "
        "pip install antflow-otel (or pip install antflow[otel]), then configure an "
        "OpenTelemetry SDK to see the spans and metrics"
    )


def with_telemetry(
    status_tracker: PipelineObserver | None, telemetry: bool | PipelineObserver
) -> PipelineObserver | None:
    """Return the observer a pipeline reports to, given its ``status_tracker`` and ``telemetry``.

    ``telemetry=False`` leaves ``status_tracker`` as it is (nothing is built or imported);
    True adds antflow-otel's observer, and an observer object is added as it is. With
    both, `combine_observers` calls the tracker first, then telemetry.

    Raises:
        ExtensionNotInstalledError: If ``telemetry=True`` and antflow-otel is not installed.
        TypeError: If ``telemetry`` is neither a bool nor a `PipelineObserver`.
    """
    if telemetry is False or telemetry is None:
        return status_tracker
    if telemetry is True:
        observer = load_telemetry_observer()
    elif isinstance(telemetry, PipelineObserver):
        observer = telemetry
    else:
        raise TypeError(
            "telemetry must be True, False or an observer such as "
            f"antflow_otel.TelemetryObserver(...), got {telemetry!r}"
        )
    if status_tracker is None:
        return observer
    return combine_observers(status_tracker, observer)
