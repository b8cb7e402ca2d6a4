"""``antflow.tracker``: the status tracker, where antflow 0.10 defined it.

``from antflow.tracker import StatusTracker`` keeps working; the same object as
``antflow.StatusTracker``.
"""

from __future__ import annotations

from antflow_core import ErrorSummary, FailureRecord, StatusEvent, TaskEvent, TaskEventType
from antflow_tracker import (
    FailedItemCallback,
    HistoryLimit,
    ResultCallback,
    StatusCallback,
    StatusTracker,
    TaskCallback,
)

__all__ = [
    "ErrorSummary",
    "FailedItemCallback",
    "FailureRecord",
    "HistoryLimit",
    "ResultCallback",
    "StatusCallback",
    "StatusEvent",
    "StatusTracker",
    "TaskCallback",
    "TaskEvent",
    "TaskEventType",
]
