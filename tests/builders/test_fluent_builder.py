"""The fluent builder: ``Pipeline.create().add(...)...run(items)`` behaves as manual stages."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from antflow import (
    DashboardSnapshot,
    FailedItem,
    ItemFinished,
    Payload,
    Pipeline,
    PipelineBuilder,
    RateLimit,
    Stage,
    StageOptions,
    StageValidationError,
    StatusEvent,
    TaskEvent,
)

# --------------------------------------------------------------------------- helpers


class RecordingDisplay:
    """A `ProgressDisplay` that keeps what the runtime tells it."""

    def __init__(self) -> None:
        self.started: list[tuple[int | None, tuple[str, ...]]] = []
        self.finished: list[DashboardSnapshot] = []

    @property
    def refresh_interval(self) -> float:
        return 3600.0  # never elapses in a test: only start and finish are called

    def start(self, total: int | None, stage_names: Sequence[str]) -> None:
        self.started.append((total, tuple(stage_names)))

    def update(self, snapshot: DashboardSnapshot) -> None:
        raise AssertionError("update() before a one-hour refresh interval elapsed")

    def finish(self, snapshot: DashboardSnapshot) -> None:
        self.finished.append(snapshot)


class RecordingObserver:
    """A `PipelineObserver` that keeps every event."""

    def __init__(self) -> None:
        self.statuses: list[StatusEvent] = []
        self.tasks: list[TaskEvent] = []
        self.finished: list[ItemFinished] = []

    def on_status_event(self, event: StatusEvent) -> None:
        self.statuses.append(event)

    def on_task_event(self, event: TaskEvent) -> None:
        self.tasks.append(event)

    def on_item_finished(self, event: ItemFinished) -> None:
        self.finished.append(event)


async def fetch(x: int) -> str:
    await asyncio.sleep(0)
    return f"data_{x}"


async def process(text: str) -> str:
    return text.upper()


async def validate(x: int) -> int:
    if x < 0:
        raise ValueError("Negative value")
    return x


async def transform(x: int) -> int:
    return x * 2


async def format_output(x: int) -> str:
    return f"Result: {x}"


def measure(text: str) -> int:
    """A plain function: the core runs it in a worker thread."""
    return len(text)


# A scenario: (items, [(stage name, tasks, options)], log), built fresh for each run so
# that stateful tasks start over; callbacks append what they see to the log.
StageSpec = tuple[str, tuple[Callable[..., Any], ...], dict[str, Any]]
ScenarioData = tuple[list[Any], list[StageSpec], list[Any]]
Scenario = Callable[[], ScenarioData]


def two_stages() -> ScenarioData:
    specs: list[StageSpec] = [
        ("Fetch", (fetch,), {"workers": 10}),
        ("Process", (process,), {"workers": 5}),
    ]
    return list(range(20)), specs, []


def guide_multiple_tasks() -> ScenarioData:
    options = {"workers": 3, "task_attempts": 2, "task_wait_seconds": 0}
    return list(range(-3, 7)), [("ProcessStage", (validate, transform, format_output), options)], []


def per_stage_retry() -> ScenarioData:
    seen: set[int] = set()

    async def begin(x: int) -> int:
        return x

    async def flaky_commit(x: int) -> int:
        if x not in seen:  # every item fails its first stage attempt, then succeeds
            seen.add(x)
            raise ConnectionError(f"lost connection on {x}")
        if x == 4:
            raise RuntimeError("item 4 never commits")
        return x + 100

    options = {
        "workers": 2,
        "retry": "per_stage",
        "stage_attempts": 3,
        "task_wait_seconds": 0,
    }
    return list(range(6)), [("Transaction", (begin, flaky_commit), options)], []


def skip_and_callbacks() -> ScenarioData:
    log: list[Any] = []

    async def halve(x: int) -> float:
        if x == 3:
            raise ArithmeticError("three is odd")
        return x / 2

    options: dict[str, Any] = {
        "skip_if": lambda x: x % 5 == 0,
        "on_success": lambda payload: log.append(("succeeded", payload.id, payload.value)),
        "on_failure": lambda item: log.append(("failed", item.id, item.attempts)),
        "task_attempts": 1,
    }
    return list(range(11)), [("Halve", (halve,), options), ("Format", (str,), {})], log


def unpacked_arguments() -> ScenarioData:
    async def add(a: int, b: int) -> int:
        return a + b

    items: list[Any] = [(1, 2), {"id": "kw", "value": {"a": 5, "b": 6}}, (10, 20)]
    return items, [("Add", (add,), {"unpack_args": True}), ("Double", (transform,), {})], []


def plain_and_async_tasks() -> ScenarioData:
    options = {"workers": 4, "task_concurrency_limits": {"measure": 1}, "queue_capacity": 2}
    return list(range(12)), [("Mixed", (fetch, measure, transform), options)], []


def keyed_items() -> ScenarioData:
    items: list[Any] = [{"id": f"user_{i}", "value": i} for i in range(5)]
    return items, [("Fetch", (fetch,), {"task_timeout": 5.0}), ("Measure", (measure,), {})], []


SCENARIOS: dict[str, Scenario] = {
    "two stages": two_stages,
    "guide: multiple tasks per stage": guide_multiple_tasks,
    "per-stage retry": per_stage_retry,
    "skip_if, on_success, on_failure": skip_and_callbacks,
    "unpack_args": unpacked_arguments,
    "plain and async tasks, limits, capacity": plain_and_async_tasks,
    "keyed items, timeout": keyed_items,
}


def build(specs: list[StageSpec]) -> PipelineBuilder[Any, Any]:
    name, tasks, options = specs[0]
    builder = Pipeline.create().add(name, *tasks, **options)
    for name, tasks, options in specs[1:]:
        builder = builder.add(name, *tasks, **options)
    return builder


def failure_view(failures: list[FailedItem]) -> list[tuple[Any, str, int, str, str]]:
    return [(f.id, f.stage, f.attempts, f.error_type, f.error_message) for f in failures]


# ----------------------------------------------------------------------------- tests


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
async def test_the_builder_gives_the_results_and_failures_of_the_manual_stages(
    scenario: Scenario,
) -> None:
    items, specs, manual_log = scenario()
    manual = Pipeline(stages=[Stage(name, tasks=list(t), **o) for name, t, o in specs])
    expected = await manual.run(items)

    items, specs, built_log = scenario()
    built = build(specs).build()
    assert await built.run(items) == expected
    assert failure_view(built.failures) == failure_view(manual.failures)
    assert sorted(built_log, key=repr) == sorted(manual_log, key=repr)
    assert expected, "each scenario has results"


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
async def test_builder_run_returns_what_manual_run_returns(scenario: Scenario) -> None:
    items, specs, _ = scenario()
    expected = await Pipeline(stages=[Stage(n, tasks=list(t), **o) for n, t, o in specs]).run(items)
    items, specs, _ = scenario()
    assert await build(specs).run(items) == expected


def test_the_builder_makes_the_stages_one_would_write_by_hand() -> None:
    builder = (
        Pipeline.create()
        .add("Fetch", fetch, workers=10)
        .add("Process", process, workers=5)
        .add("Check", process, measure, transform, retry="per_stage", stage_attempts=5)
    )
    assert builder.stages == (
        Stage(name="Fetch", workers=10, tasks=[fetch]),
        Stage(name="Process", workers=5, tasks=[process]),
        Stage(
            "Check",
            workers=5,  # add()'s default, as in antflow 0.10
            tasks=[process, measure, transform],
            retry="per_stage",
            stage_attempts=5,
        ),
    )


def test_add_without_options_gives_the_stage_defaults_and_five_workers() -> None:
    (stage,) = Pipeline.create().add("Fetch", fetch).stages
    assert stage == Stage("Fetch", workers=5, tasks=[fetch])


def on_success_callback(payload: Payload[str]) -> None:
    """A stand-in callback, compared by identity."""


def on_failure_callback(item: FailedItem) -> None:
    """A stand-in callback, compared by identity."""


def skip_predicate(value: str) -> bool:
    """A stand-in predicate, compared by identity."""
    return False


def on_skip_callback(item_id: Any, value: str, metadata: dict[str, Any]) -> None:
    """A stand-in callback in antflow 0.10's form, compared by identity."""


NON_DEFAULT_OPTIONS: dict[str, Any] = {
    "workers": 7,
    "retry": "per_stage",
    "task_attempts": 5,
    "stage_attempts": 4,
    "task_wait_seconds": 0.25,
    "task_concurrency_limits": {"process": 2},
    "unpack_args": True,
    "on_success": on_success_callback,
    "on_failure": on_failure_callback,
    "skip_if": skip_predicate,
    "queue_capacity": 0,
    "task_timeout": 2.5,
    "on_skip": on_skip_callback,
    "call_rate": 10,
    "call_rate_period": 60.0,
    "task_rate_limits": {"process": RateLimit(3, 2.0)},
    "call_concurrency": 2,
    "pull": True,
    "retry_on": (TimeoutError, ConnectionError),
    "retry_if": skip_predicate,
    "backoff": "exponential",
    "max_wait_seconds": 30.0,
    "jitter": 0.25,
    "fan_out": True,
    "batch_size": 8,
    "batch_timeout": 0.5,
}
# What an option needs beside it to be valid.
COMPANIONS: dict[str, dict[str, Any]] = {
    "call_rate_period": {"call_rate": 10},
    "batch_timeout": {"batch_size": 8},
}


def test_every_stage_option_is_listed_for_add() -> None:
    stage_options = {f.name for f in dataclasses.fields(Stage) if f.init} - {"name", "tasks"}
    # They involve the stage's types:
    typed_apart = {"unpack_args", "skip_if", "on_success", "on_skip", "fan_out", "batch_size"}
    only_add = {"retries"}  # antflow 0.10's name for task_attempts
    assert set(StageOptions.__annotations__) - only_add | typed_apart == stage_options
    assert set(NON_DEFAULT_OPTIONS) == stage_options


@pytest.mark.parametrize("option", NON_DEFAULT_OPTIONS)
def test_every_stage_option_is_a_keyword_of_add(option: str) -> None:
    value = NON_DEFAULT_OPTIONS[option]
    options = {**COMPANIONS.get(option, {}), option: value}
    # (a pull stage cannot be the first: add it after one)
    (*_, stage) = Pipeline.create().add("First", fetch).add("Process", process, **options).stages
    assert stage == Stage("Process", tasks=[process], **{"workers": 5, **options})
    assert getattr(stage, option) == value


def test_a_first_stage_added_as_a_pull_stage_is_refused_at_once() -> None:
    with pytest.raises(StageValidationError, match="'Poll' is the first stage and a pull stage"):
        Pipeline.create().add("Poll", process, pull=True)


async def test_stream_passes_buffer_size_on() -> None:
    builder = Pipeline.create().add("Fetch", fetch, workers=2)
    values = [r.value async for r in builder.stream(range(6), buffer_size=0)]
    assert sorted(values) == sorted(f"data_{i}" for i in range(6))
    with pytest.raises(ValueError, match="buffer_size must be None"):
        builder.stream(range(6), buffer_size=-1)


async def test_stream_yields_every_result_as_it_completes() -> None:
    builder = Pipeline.create().add("Fetch", fetch, workers=4).add("Measure", measure)
    streamed = [result async for result in builder.stream(range(10))]
    assert sorted(streamed, key=lambda r: r.sequence_id) == await builder.run(range(10))
    assert len(streamed) == 10


async def test_run_accepts_an_async_iterable() -> None:
    async def numbers() -> AsyncIterator[int]:
        for i in range(5):
            yield i

    results = await Pipeline.create().add("Fetch", fetch).run(numbers())
    assert [r.value for r in results] == [f"data_{i}" for i in range(5)]


async def test_build_returns_a_builder_enabled_pipeline_of_the_stages() -> None:
    tracker = RecordingObserver()
    builder = Pipeline.create().add("Fetch", fetch).with_tracker(tracker).collect_results(False)
    pipeline = builder.build()
    assert type(pipeline) is Pipeline
    assert pipeline.stages == builder.stages
    assert pipeline.status_tracker is tracker
    assert pipeline.collect_results is False
    assert builder.build() is not pipeline, "each build() makes a new pipeline"
    await pipeline.run(range(3))
    assert len(tracker.finished) == 3


async def test_with_tracker_reports_every_event_to_the_tracker() -> None:
    tracker = RecordingObserver()
    results = await (
        Pipeline.create()
        .add("Fetch", fetch, workers=2)
        .add("Process", process)
        .with_tracker(tracker)
        .run(range(4))
    )
    assert [r.value for r in results] == [f"DATA_{i}" for i in range(4)]
    assert sorted(e.item_id for e in tracker.finished) == [0, 1, 2, 3]
    completed = {(e.item_id, e.stage) for e in tracker.statuses if e.status == "completed"}
    assert completed == {(i, s) for i in range(4) for s in ("Fetch", "Process")}
    assert {e.task_name for e in tracker.tasks} == {"fetch", "process"}


async def test_with_tracker_none_removes_the_tracker() -> None:
    tracker = RecordingObserver()
    builder = Pipeline.create().add("Fetch", fetch).with_tracker(tracker).with_tracker(None)
    await builder.run(range(2))
    assert builder.status_tracker is None
    assert tracker.finished == []


async def test_collect_results_false_returns_no_list_but_streams_everything() -> None:
    builder = Pipeline.create().add("Fetch", fetch).collect_results(False)
    assert builder.collects_results is False
    assert await builder.run(range(5)) == []
    assert len([r async for r in builder.stream(range(5))]) == 5
    assert builder.collect_results(True).collects_results is True


async def test_builders_are_immutable_so_a_prefix_can_be_shared() -> None:
    base = Pipeline.create().add("Fetch", fetch)
    upper = base.add("Next", process)
    length = base.add("Next", measure)  # the same name in another branch is fine
    tracked = base.with_tracker(RecordingObserver())
    assert [s.name for s in base.stages] == ["Fetch"]
    assert base.status_tracker is None
    assert tracked.stages == base.stages
    assert [r.value for r in await upper.run([1])] == ["DATA_1"]
    assert [r.value for r in await length.run([1])] == [6]


async def test_a_builder_runs_again_on_a_fresh_pipeline() -> None:
    builder = Pipeline.create().add("Validate", validate, task_attempts=1)
    first = await builder.run([1, -1, 2])
    second = await builder.run([1, -1, 2])
    assert first == second
    assert [r.value for r in second] == [1, 2]


async def test_run_passes_progress_dashboard_and_refresh_interval_to_the_core() -> None:
    builder = Pipeline.create().add("Fetch", fetch).add("Process", process)
    display = RecordingDisplay()
    await builder.run(range(3), progress=display)
    assert display.started == [(3, ("Fetch", "Process"))]
    assert display.finished[0].stats.items_processed == 3

    dashboard = RecordingDisplay()
    await builder.run(range(2), dashboard=dashboard, refresh_interval=5.0)
    assert dashboard.started == [(2, ("Fetch", "Process"))]
    with pytest.raises(ValueError, match="refresh_interval"):
        await builder.run(range(2), refresh_interval=-1.0)


async def test_stream_passes_the_display_to_the_core() -> None:
    display = RecordingDisplay()
    results = [r async for r in Pipeline.create().add("Fetch", fetch).stream([1], progress=display)]
    assert [r.value for r in results] == ["data_1"]
    assert display.started == [(1, ("Fetch",))]
    assert len(display.finished) == 1


async def test_run_passes_the_priority_to_the_core() -> None:
    builder = Pipeline.create().add("Fetch", fetch)
    assert [r.value for r in await builder.run([7], priority=3)] == ["data_7"]
    with pytest.raises(TypeError, match="priority must be an integer"):
        await builder.run([7], priority="high")  # type: ignore[arg-type]


async def test_plain_function_tasks_run_in_a_worker_thread() -> None:
    threads: list[int] = []

    def blocking(x: int) -> int:
        threads.append(threading.get_ident())
        return x + 1

    results = await Pipeline.create().add("Sync", blocking, workers=2).run(range(3))
    assert [r.value for r in results] == [1, 2, 3]
    assert threading.get_ident() not in threads


async def test_a_pipeline_subclass_builds_instances_of_itself() -> None:
    class UuidPipeline(Pipeline):
        def _prepare_payload(self, item: Any) -> Payload[Any] | dict[str, Any]:
            if isinstance(item, dict) and "uuid" in item:
                return {"id": item["uuid"], "value": item, "_sequence_id": self._msg_counter}
            return super()._prepare_payload(item)

    async def name_of(item: dict[str, str]) -> str:
        return item["name"]

    builder = UuidPipeline.create().add("Name", name_of)
    assert type(builder.build()) is UuidPipeline
    results = await builder.run([{"uuid": "u-1", "name": "Alice"}])
    assert [(r.id, r.value) for r in results] == [("u-1", "Alice")]


def test_an_empty_builder_cannot_run_and_says_to_add_a_stage() -> None:
    empty: Any = Pipeline.create()
    assert empty.stages == ()
    for method in ("run", "stream", "build"):
        assert not hasattr(empty, method)
        with pytest.raises(AttributeError, match=r"needs at least one stage.*\.add\('Work'"):
            getattr(empty, method)
    with pytest.raises(AttributeError, match="no attribute 'ad'"):
        empty.ad  # noqa: B018 - the attribute access is what is tested


def test_with_tracker_rejects_an_object_that_is_not_an_observer() -> None:
    builder: Any = Pipeline.create().add("Fetch", fetch)
    with pytest.raises(TypeError, match=r"on_status_event.*StatusTracker"):
        builder.with_tracker(object())
    with pytest.raises(TypeError, match="with_tracker"):
        Pipeline.create().with_tracker("tracker")  # type: ignore[arg-type]


def test_collect_results_takes_a_bool() -> None:
    with pytest.raises(TypeError, match="True or False, got 'no'"):
        Pipeline.create().collect_results("no")  # type: ignore[arg-type]


def test_a_builder_shows_its_stages() -> None:
    assert repr(Pipeline.create()) == "<EmptyPipelineBuilder []>"
    builder = Pipeline.create().add("Fetch", fetch).add("Process", process)
    assert repr(builder) == "<PipelineBuilder [Fetch, Process]>"
