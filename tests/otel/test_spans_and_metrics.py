"""The spans and metrics of a pipeline with retries, failures and skips, exactly.

One pipeline of three single-worker stages (so the worker of every span is known) runs
six items, one for each path an item can take:

* ``ok``: through every stage;
* ``flaky``: Fetch fails once (per_task retry), then succeeds;
* ``broken``: Fetch fails on all 3 attempts: the item fails at Fetch;
* ``skip``: Parse's ``skip_if`` sends it past Parse;
* ``requeue``: Save fails once (per_stage: the item is re-queued), then succeeds;
* ``bad``: Save fails on both stage attempts: the item fails at Save.

Every task call of Fetch opens a user span ("GET <item>"), which must be a child of that
call's task span.
"""

from __future__ import annotations

import asyncio
from typing import Any

from antflow import Pipeline, Stage
from antflow_otel import names

from .conftest import Node, Recorded

ERROR = "ERROR"
UNSET = "UNSET"


def build(recorded: Recorded) -> tuple[Pipeline, dict[str, int]]:
    tracer = recorded.user_tracer()
    calls: dict[str, int] = {}

    async def fetch(value: str) -> str:
        calls[f"fetch {value}"] = calls.get(f"fetch {value}", 0) + 1
        with tracer.start_as_current_span(f"GET {value}"):
            await asyncio.sleep(0)
        if value == "broken" or (value == "flaky" and calls[f"fetch {value}"] == 1):
            raise ConnectionError(f"{value}: connection refused")
        return value

    def parse(value: str) -> str:  # a plain function: it runs in a thread
        return value.upper()

    async def save(value: str) -> str:
        calls[f"save {value}"] = calls.get(f"save {value}", 0) + 1
        if value == "BAD":
            raise ValueError("bad record")
        if value == "REQUEUE" and calls[f"save {value}"] == 1:
            raise TimeoutError("database busy")
        return value

    stages = [
        Stage(
            "Fetch",
            workers=1,
            tasks=[fetch],
            retry="per_task",
            task_attempts=3,
            task_wait_seconds=0,
        ),
        Stage("Parse", workers=1, tasks=[parse], skip_if=lambda value: value == "skip"),
        Stage(
            "Save",
            workers=1,
            tasks=[save],
            retry="per_stage",
            stage_attempts=2,
            task_wait_seconds=0,
        ),
    ]
    return Pipeline(stages, telemetry=recorded.observer()), calls


ITEMS = ["ok", "flaky", "broken", "skip", "requeue", "bad"]


def item(item_id: str, *stages: Node, failed: tuple[str, str, str] | None = None) -> Node:
    attributes: dict[str, Any] = {names.ITEM_ID: item_id, names.OUTCOME: "completed"}
    if failed is None:
        return Node(names.ITEM_SPAN, attributes, UNSET, None, [], list(stages))
    stage, error_type, message = failed
    attributes.update({names.OUTCOME: "failed", names.STAGE: stage, names.ERROR_TYPE: error_type})
    return Node(names.ITEM_SPAN, attributes, ERROR, f"{error_type}: {message}", [], list(stages))


def stage(
    name: str,
    item_id: str,
    outcome: str,
    *tasks: Node,
    retries: tuple[tuple[int, str, str, str], ...] = (),
    error: tuple[str, str] | None = None,
) -> Node:
    attributes: dict[str, Any] = {
        names.STAGE: name,
        names.ITEM_ID: item_id,
        names.WORKER: f"{name}-W0",
        names.OUTCOME: outcome,
        names.ATTEMPTS: 1 + len(retries),
    }
    events: list[tuple[Any, ...]] = [
        (
            names.RETRY_EVENT,
            {
                names.ATTEMPT: attempt,
                names.TASK: task,
                names.EXCEPTION_TYPE: error_type,
                names.EXCEPTION_MESSAGE: message,
            },
        )
        for attempt, task, error_type, message in retries
    ]
    if error is None:
        return Node(names.STAGE_SPAN_PREFIX + name, attributes, UNSET, None, events, list(tasks))
    error_type, message = error
    attributes[names.ERROR_TYPE] = error_type
    events.append(("exception", error_type, message))
    return Node(names.STAGE_SPAN_PREFIX + name, attributes, ERROR, message, events, list(tasks))


def task(
    stage_name: str,
    task_name: str,
    item_id: str,
    attempt: int,
    outcome: str,
    *children: Node,
    error: tuple[str, str] | None = None,
) -> Node:
    attributes: dict[str, Any] = {
        names.STAGE: stage_name,
        names.TASK: task_name,
        names.ITEM_ID: item_id,
        names.WORKER: f"{stage_name}-W0",
        names.ATTEMPT: attempt,
        names.OUTCOME: outcome,
    }
    span_name = names.TASK_SPAN_PREFIX + task_name
    if error is None:
        return Node(span_name, attributes, UNSET, None, [], list(children))
    error_type, message = error
    attributes[names.ERROR_TYPE] = error_type
    events: list[tuple[Any, ...]] = [("exception", error_type, message)]
    return Node(span_name, attributes, ERROR, message, events, list(children))


def get(value: str) -> Node:
    """The user's span inside a fetch call."""
    return Node(f"GET {value}", {}, UNSET, None, [], [])


def parsed(item_id: str) -> Node:
    return stage("Parse", item_id, "completed", task("Parse", "parse", item_id, 1, "completed"))


def saved(item_id: str) -> Node:
    return stage("Save", item_id, "completed", task("Save", "save", item_id, 1, "completed"))


def fetched(item_id: str) -> Node:
    return stage(
        "Fetch",
        item_id,
        "completed",
        task("Fetch", "fetch", item_id, 1, "completed", get(item_id)),
    )


REFUSED = ("ConnectionError", "broken: connection refused")

EXPECTED_TRACES = {
    "ok": item("ok", fetched("ok"), parsed("ok"), saved("ok")),
    "flaky": item(
        "flaky",
        stage(
            "Fetch",
            "flaky",
            "completed",
            task(
                "Fetch",
                "fetch",
                "flaky",
                1,
                "retried",
                get("flaky"),
                error=("ConnectionError", "flaky: connection refused"),
            ),
            task("Fetch", "fetch", "flaky", 2, "completed", get("flaky")),
            retries=((1, "fetch", "ConnectionError", "flaky: connection refused"),),
        ),
        parsed("flaky"),
        saved("flaky"),
    ),
    "broken": item(
        "broken",
        stage(
            "Fetch",
            "broken",
            "failed",
            task("Fetch", "fetch", "broken", 1, "retried", get("broken"), error=REFUSED),
            task("Fetch", "fetch", "broken", 2, "retried", get("broken"), error=REFUSED),
            task("Fetch", "fetch", "broken", 3, "failed", get("broken"), error=REFUSED),
            retries=((1, "fetch", *REFUSED), (2, "fetch", *REFUSED)),
            error=REFUSED,
        ),
        failed=("Fetch", *REFUSED),
    ),
    "skip": item(
        "skip",
        fetched("skip"),
        stage("Parse", "skip", "skipped"),
        saved("skip"),
    ),
    "requeue": item(
        "requeue",
        fetched("requeue"),
        parsed("requeue"),
        stage(
            "Save",
            "requeue",
            "completed",
            task(
                "Save",
                "save",
                "requeue",
                1,
                "retried",
                error=("TimeoutError", "database busy"),
            ),
            task("Save", "save", "requeue", 2, "completed"),
            retries=((1, "save", "TimeoutError", "database busy"),),
        ),
    ),
    "bad": item(
        "bad",
        fetched("bad"),
        parsed("bad"),
        stage(
            "Save",
            "bad",
            "failed",
            task("Save", "save", "bad", 1, "retried", error=("ValueError", "bad record")),
            task("Save", "save", "bad", 2, "failed", error=("ValueError", "bad record")),
            retries=((1, "save", "ValueError", "bad record"),),
            error=("ValueError", "bad record"),
        ),
        failed=("Save", "ValueError", "bad record"),
    ),
}


def stages_of(*names_: str) -> frozenset[tuple[str, Any]]:
    return frozenset((names.STAGE, name) for name in names_)


def key(**attributes: Any) -> frozenset[tuple[str, Any]]:
    """An attribute set: ``key(stage="Fetch", task="fetch")`` for antflow's attributes."""
    spelled = {
        "stage": names.STAGE,
        "task": names.TASK,
        "outcome": names.OUTCOME,
        "error_type": names.ERROR_TYPE,
    }
    return frozenset((spelled[k], v) for k, v in attributes.items())


EXPECTED_METRICS = {
    names.ITEMS_COMPLETED: {
        key(stage="Fetch"): 5,
        key(stage="Parse"): 4,
        key(stage="Save"): 4,
    },
    names.ITEMS_FAILED: {
        key(stage="Fetch", error_type="ConnectionError"): 1,
        key(stage="Save", error_type="ValueError"): 1,
    },
    names.ITEMS_RETRIED: {key(stage="Fetch"): 3, key(stage="Save"): 2},
    names.ITEMS_SKIPPED: {key(stage="Parse"): 1},
    # task.duration: the number of calls recorded per attribute set
    names.TASK_DURATION: {
        key(stage="Fetch", task="fetch", outcome="completed"): 5,
        key(stage="Fetch", task="fetch", outcome="retried"): 3,
        key(stage="Fetch", task="fetch", outcome="failed"): 1,
        key(stage="Parse", task="parse", outcome="completed"): 4,
        key(stage="Save", task="save", outcome="completed"): 4,
        key(stage="Save", task="save", outcome="retried"): 2,
        key(stage="Save", task="save", outcome="failed"): 1,
    },
    # up-down counters: back to zero once every item ended
    names.ITEMS_IN_FLIGHT: {frozenset(): 0},
    names.ITEMS_QUEUED: {key(stage="Fetch"): 0, key(stage="Parse"): 0, key(stage="Save"): 0},
    names.ITEMS_IN_PROGRESS: {
        key(stage="Fetch"): 0,
        key(stage="Parse"): 0,
        key(stage="Save"): 0,
    },
}

EXPECTED_UNITS = {
    names.ITEMS_COMPLETED: "{item}",
    names.ITEMS_FAILED: "{item}",
    names.ITEMS_RETRIED: "{retry}",
    names.ITEMS_SKIPPED: "{item}",
    names.TASK_DURATION: "s",
    names.ITEMS_IN_FLIGHT: "{item}",
    names.ITEMS_QUEUED: "{item}",
    names.ITEMS_IN_PROGRESS: "{item}",
}


async def run(recorded: Recorded) -> Pipeline:
    pipeline, _ = build(recorded)
    async with asyncio.timeout(5):
        results = await pipeline.run([{"id": i, "value": i} for i in ITEMS])
    assert [r.id for r in results] == ["ok", "flaky", "skip", "requeue"]
    assert [f.id for f in pipeline.failures] == ["broken", "bad"]
    return pipeline


async def test_each_item_is_one_trace_of_stage_and_task_spans_exactly(
    recorded: Recorded,
) -> None:
    await run(recorded)
    traces = recorded.traces()
    assert sorted(traces) == sorted(ITEMS)
    for item_id in ITEMS:
        assert traces[item_id] == EXPECTED_TRACES[item_id], item_id
    # one trace per item: each item's spans share its trace id, and no two items share one
    by_trace: dict[int, set[Any]] = {}
    for span in recorded.spans():
        assert span.context is not None
        owner = (span.attributes or {}).get(names.ITEM_ID)
        if owner is not None:
            by_trace.setdefault(span.context.trace_id, set()).add(owner)
    assert sorted(len(ids) for ids in by_trace.values()) == [1] * len(ITEMS)


async def test_metrics_count_every_outcome_exactly(recorded: Recorded) -> None:
    await run(recorded)
    assert recorded.metrics() == EXPECTED_METRICS
    assert recorded.units == EXPECTED_UNITS


async def test_spans_nest_in_time_and_carry_the_instrumentation_scope(
    recorded: Recorded,
) -> None:
    await run(recorded)
    spans = {span.context.span_id: span for span in recorded.spans() if span.context}
    for span in spans.values():
        assert span.start_time is not None
        assert span.end_time is not None
        assert span.start_time <= span.end_time, span.name
        if span.name.startswith("antflow."):
            assert span.instrumentation_scope is not None
            assert span.instrumentation_scope.name == "antflow"
        if span.parent is not None and span.name.startswith("antflow.task"):
            parent = spans[span.parent.span_id]
            assert parent.start_time is not None
            assert parent.end_time is not None
            # a call happens while its item is at the stage (float seconds: allow 1 µs)
            assert parent.start_time - 1000 <= span.start_time
            assert span.end_time <= parent.end_time + 1000
