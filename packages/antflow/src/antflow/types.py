"""``antflow.types``: the data antflow passes around, where antflow 0.10 defined it.

Events, results, statistics and monitoring snapshots, plus the types of tasks and
callbacks. The same objects as their ``antflow.<name>`` counterparts.

One name changed meaning: antflow 0.10's ``FailedItem`` was the record an error summary
lists (``summary.failed_items``); that record is now `FailureRecord`, with the same
attributes (``item_id``, ``error``, ``error_type``, ``stage``, ``attempts``,
``timestamp``), so code reading them works unchanged. `FailedItem` is now an item that
failed, with its value and exception (``pipeline.failures``, ``on_failure``). See the
migration guide.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from antflow_builders import Items, KeyedItem, OnFailure, OnSkip, OnSuccess
from antflow_core import (
    DashboardSnapshot,
    ErrorSummary,
    FailedItem,
    FailureRecord,
    ItemFinished,
    ItemOutcome,
    ItemStatus,
    Payload,
    PipelineResult,
    PipelineStats,
    StageStats,
    StatusEvent,
    TaskEvent,
    TaskEventType,
    WorkerMetrics,
    WorkerState,
    WorkerStatus,
)
from antflow_core.model import CallbackForm, RetryStrategy, TaskFunc
from antflow_tracker import (
    FailedItemCallback,
    HistoryLimit,
    ResultCallback,
    StatusCallback,
    TaskCallback,
)

__all__ = [
    "CallbackForm",
    "DashboardSnapshot",
    "ErrorSummary",
    "FailedItem",
    "FailedItemCallback",
    "FailureRecord",
    "HistoryLimit",
    "ItemFinished",
    "ItemOutcome",
    "ItemStatus",
    "Items",
    "KeyedItem",
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "Payload",
    "PipelineResult",
    "PipelineStats",
    "ResultCallback",
    "RetryStrategy",
    "StageStats",
    "StatusCallback",
    "StatusEvent",
    "StatusType",
    "TaskCallback",
    "TaskEvent",
    "TaskEventType",
    "TaskFunc",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
]

StatusType: TypeAlias = Literal[
    "queued", "in_progress", "completed", "failed", "retrying", "skipped", "expanded"
]
"""An item's status as a string; `ItemStatus` members compare equal to these."""
