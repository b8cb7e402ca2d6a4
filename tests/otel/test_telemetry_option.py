"""``Pipeline(..., telemetry=True)``: found through the entry point, beside a tracker."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from typing import Any

import antflow_core.runtime.extensions as extensions
import pytest
from antflow import (
    ExtensionNotInstalledError,
    Pipeline,
    Stage,
    StatusTracker,
    TaskEvent,
)
from antflow_otel import TelemetryObserver, configure_telemetry, names

from .conftest import Recorded


async def fetch(x: int) -> int:
    if x == 1:
        raise ValueError("one")
    return x


def stages() -> list[Stage]:
    return [Stage("Fetch", workers=2, tasks=[fetch], task_attempts=2, task_wait_seconds=0)]


async def test_telemetry_true_builds_antflow_otels_observer_on_the_configured_providers(
    recorded: Recorded,
) -> None:
    configure_telemetry(recorded.tracer_provider, recorded.meter_provider)
    pipeline = Pipeline(stages(), telemetry=True)
    assert pipeline.status_tracker is None
    async with asyncio.timeout(5):
        await pipeline.run(range(3))
    items = [(s.attributes or {})[names.ITEM_ID] for s in recorded.spans()]
    assert sorted(items, key=repr) == [0, 0, 0, 1, 1, 1, 1, 2, 2, 2]  # item, stage, task spans
    assert recorded.metrics()[names.ITEMS_FAILED] == {
        frozenset({(names.STAGE, "Fetch"), (names.ERROR_TYPE, "ValueError")}): 1
    }


async def test_a_tracker_and_telemetry_both_see_every_event(recorded: Recorded) -> None:
    configure_telemetry(recorded.tracer_provider, recorded.meter_provider)
    task_events: list[TaskEvent] = []
    tracker = StatusTracker(on_task_retry=task_events.append)
    pipeline = Pipeline(stages(), status_tracker=tracker, telemetry=True)
    assert pipeline.status_tracker is tracker  # the tracker you passed, not the combination
    async with asyncio.timeout(5):
        await pipeline.run(range(3))
    assert tracker.get_stats()["completed"] == 2
    assert tracker.get_stats()["failed"] == 1
    assert [(e.item_id, e.attempt) for e in task_events] == [(1, 1)]
    assert [e.status for e in tracker.get_history(1)] == [
        "queued",
        "in_progress",
        "retrying",
        "failed",
    ]
    spans = recorded.spans()
    assert len([s for s in spans if s.name == names.ITEM_SPAN]) == 3
    assert len([s for s in spans if s.name == names.TASK_SPAN_PREFIX + "fetch"]) == 4


async def test_an_observer_object_can_be_passed_as_telemetry(recorded: Recorded) -> None:
    observer = recorded.observer(pipeline_name="given")
    tracker = StatusTracker()
    async with asyncio.timeout(5):
        await Pipeline(stages(), status_tracker=tracker, telemetry=observer).run(range(3))
    assert tracker.get_stats()["completed"] == 2
    assert {(s.attributes or {})[names.PIPELINE] for s in recorded.spans()} == {"given"}


def test_telemetry_false_adds_nothing() -> None:
    tracker = StatusTracker()
    assert extensions.with_telemetry(tracker, False) is tracker
    assert extensions.with_telemetry(None, False) is None


def test_telemetry_must_be_a_bool_or_an_observer() -> None:
    with pytest.raises(TypeError, match="telemetry must be True, False or an observer"):
        Pipeline(stages(), telemetry="otel")  # type: ignore[call-overload]


def test_telemetry_true_without_antflow_otel_names_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a core-only install sees (tests/core/test_install.py runs it for real)."""

    def no_entry_points(**selection: Any) -> list[Any]:
        assert selection == {"group": "antflow.telemetry", "name": "otel"}
        return []

    monkeypatch.setattr(extensions, "entry_points", no_entry_points)
    with pytest.raises(ExtensionNotInstalledError, match=r"pip install antflow-otel") as caught:
        Pipeline(stages(), telemetry=True)
    assert "antflow[otel]" in str(caught.value)


def test_the_entry_point_makes_a_telemetry_observer() -> None:
    observer = extensions.load_telemetry_observer()
    assert isinstance(observer, TelemetryObserver)


def test_opentelemetry_is_imported_only_when_telemetry_is_asked_for() -> None:
    """Installed but not asked for, antflow-otel costs nothing: it is not even imported."""
    code = textwrap.dedent(
        """
        import asyncio, sys
        from antflow import Pipeline, Stage, StatusTracker

        async def double(x):
            return 2 * x

        def loaded():
            roots = {m.split(".")[0] for m in sys.modules}
            return sorted(roots & {"opentelemetry", "antflow_otel"})

        async def main():
            stages = [Stage("Double", workers=2, tasks=[double])]
            await Pipeline(stages, status_tracker=StatusTracker()).run(range(5))
            print("without telemetry:", loaded())
            await Pipeline(stages, telemetry=True).run(range(5))
            print("with telemetry=True:", loaded())

        asyncio.run(main())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    assert out.splitlines() == [
        "without telemetry: []",
        "with telemetry=True: ['antflow_otel', 'opentelemetry']",
    ]
