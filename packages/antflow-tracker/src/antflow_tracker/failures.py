"""The tracker's error summary: every failure counted, the latest ones listed.

Theory of operation
-------------------
`FailureCounts.record` is called once per item that ended as a failure. It counts the
failure in total, by error type and by stage (exact, always), and appends a
`FailureRecord` to a deque bounded by ``max_failures`` (the latest kept, the oldest
dropped first). `FailureCounts.summary` reads them into the same `ErrorSummary` that
``pipeline.get_error_summary()`` returns.
"""

from __future__ import annotations

from collections import deque

from antflow_core.model import ErrorSummary, FailedItem, FailureRecord

__all__ = ["FailureCounts"]


class FailureCounts:
    """The failures a tracker saw: counts by error type and stage, the latest records."""

    __slots__ = ("_by_stage", "_by_type", "_records", "_total")

    def __init__(self, max_failures: int | None) -> None:
        self._records: deque[FailureRecord] = deque(maxlen=max_failures)
        self._total = 0
        self._by_type: dict[str, int] = {}
        self._by_stage: dict[str, int] = {}

    def record(self, failed: FailedItem, timestamp: float) -> None:
        """Count one item that a stage gave up on at ``timestamp``."""
        record = FailureRecord(
            failed.id,
            failed.error_message,
            failed.error_type,
            failed.stage,
            failed.attempts,
            timestamp,
        )
        self._records.append(record)
        self._total += 1
        by_type = self._by_type
        by_type[record.error_type] = by_type.get(record.error_type, 0) + 1
        by_stage = self._by_stage
        by_stage[record.stage] = by_stage.get(record.stage, 0) + 1

    def summary(self, limit: int | None = None) -> ErrorSummary:
        """The counts and the kept records, oldest first (only the latest ``limit``)."""
        records = tuple(self._records)
        if limit is not None:
            records = records[max(0, len(records) - limit) :]
        return ErrorSummary(
            total_failed=self._total,
            errors_by_type=dict(self._by_type),
            errors_by_stage=dict(self._by_stage),
            failed_items=records,
        )

    def clear(self) -> None:
        """Forget every failure."""
        self._records.clear()
        self._total = 0
        self._by_type.clear()
        self._by_stage.clear()
