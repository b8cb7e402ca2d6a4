"""The names antflow-otel gives its spans, attributes and metrics.

Use them to build dashboards and queries, or in tests, instead of repeating strings.
They follow the OpenTelemetry semantic-convention style: dotted lower-case names under
the ``antflow.`` namespace, ``error.type`` from the general conventions, durations in
seconds, counts in ``{item}``.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ATTEMPT",
    "ATTEMPTS",
    "CHILDREN",
    "ERROR_TYPE",
    "EXCEPTION_MESSAGE",
    "EXCEPTION_TYPE",
    "INSTRUMENTATION_SCOPE",
    "ITEMS_COMPLETED",
    "ITEMS_FAILED",
    "ITEMS_IN_FLIGHT",
    "ITEMS_IN_PROGRESS",
    "ITEMS_QUEUED",
    "ITEMS_RETRIED",
    "ITEMS_SKIPPED",
    "ITEM_ID",
    "ITEM_SPAN",
    "OUTCOME",
    "PIPELINE",
    "RETRY_EVENT",
    "STAGE",
    "STAGE_SPAN_PREFIX",
    "TASK",
    "TASK_DURATION",
    "TASK_DURATION_BUCKETS",
    "TASK_SPAN_PREFIX",
    "WORKER",
]

INSTRUMENTATION_SCOPE: Final = "antflow"
"""The name of the tracer and the meter (the instrumentation scope of every span and metric)."""

# ----------------------------------------------------------------------------- spans

ITEM_SPAN: Final = "antflow.item"
"""Name of an item's span: from the moment it is fed until it leaves the pipeline."""

STAGE_SPAN_PREFIX: Final = "antflow.stage "
"""An item's span at a stage is named this plus the stage's name: ``"antflow.stage Fetch"``."""

TASK_SPAN_PREFIX: Final = "antflow.task "
"""A task call's span is named this plus the task's name: ``"antflow.task fetch"``."""

RETRY_EVENT: Final = "antflow.retry"
"""Name of the span event a stage span gets each time the item is retried there, with the
`ATTEMPT` that failed, the `TASK` that failed, `EXCEPTION_TYPE` and `EXCEPTION_MESSAGE`."""

# ------------------------------------------------------------------------ attributes

PIPELINE: Final = "antflow.pipeline"
"""The pipeline's name, on every span and metric, when the observer was given one."""

ITEM_ID: Final = "antflow.item.id"
"""The item's id (a string, int, float or bool as it is; anything else as ``str(id)``)."""

STAGE: Final = "antflow.stage"
"""The stage's name."""

TASK: Final = "antflow.task"
"""The task's name."""

WORKER: Final = "antflow.worker"
"""The worker's name (``"Fetch-W3"``); on a stage span, the worker that handled it last."""

ATTEMPT: Final = "antflow.attempt"
"""On a task span: the call's attempt number, from 1 (per_stage: the stage attempt)."""

ATTEMPTS: Final = "antflow.attempts"
"""On a stage span: how many attempts the item had at the stage (1 + its retries there)."""

OUTCOME: Final = "antflow.outcome"
"""How it ended. Item span: ``completed``, ``failed``, ``expanded`` (a fan-out stage made
children of it) or ``unfinished``; stage span: ``completed``, ``failed``, ``skipped``,
``expanded`` or ``unfinished``; task span and task duration: ``completed``, ``retried``
or ``failed``."""

CHILDREN: Final = "antflow.children"
"""On the span of an item that a fan-out stage expanded: how many children it made. Each
child's item span starts a trace of its own, linked to the parent's stage span."""

ERROR_TYPE: Final = "error.type"
"""The exception's class name, on failed spans and on `ITEMS_FAILED`."""

EXCEPTION_TYPE: Final = "exception.type"
"""The exception's class name, on a `RETRY_EVENT` (as on OpenTelemetry's exception events)."""

EXCEPTION_MESSAGE: Final = "exception.message"
"""The exception's message, on a `RETRY_EVENT`."""

# --------------------------------------------------------------------------- metrics

ITEMS_COMPLETED: Final = "antflow.items.completed"
"""Counter, ``{item}``, per `STAGE`: items that completed a stage."""

ITEMS_FAILED: Final = "antflow.items.failed"
"""Counter, ``{item}``, per `STAGE` and `ERROR_TYPE`: items a stage gave up on."""

ITEMS_RETRIED: Final = "antflow.items.retried"
"""Counter, ``{retry}``, per `STAGE`: retries (a task call or a stage attempt tried again)."""

ITEMS_SKIPPED: Final = "antflow.items.skipped"
"""Counter, ``{item}``, per `STAGE`: items that ``skip_if`` sent past a stage."""

TASK_DURATION: Final = "antflow.task.duration"
"""Histogram, ``s``, per `STAGE`, `TASK` and `OUTCOME`: how long each task call took."""

ITEMS_IN_FLIGHT: Final = "antflow.items.in_flight"
"""UpDownCounter, ``{item}``: items fed that have not left the pipeline."""

ITEMS_QUEUED: Final = "antflow.items.queued"
"""UpDownCounter, ``{item}``, per `STAGE`: items waiting in the stage's queue."""

ITEMS_IN_PROGRESS: Final = "antflow.items.in_progress"
"""UpDownCounter, ``{item}``, per `STAGE`: items a worker of the stage holds."""

TASK_DURATION_BUCKETS: Final = (
    0.0,
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    30.0,
    60.0,
)
"""Bucket boundaries, in seconds, advised for `TASK_DURATION` (a view may override them)."""
