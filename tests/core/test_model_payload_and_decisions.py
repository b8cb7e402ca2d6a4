"""Payloads, queue entries, the retry and routing tables, plans, stats (no event loop)."""

from __future__ import annotations

import heapq
from typing import Any

import pytest
from antflow_core.errors import UnknownStageError
from antflow_core.model import (
    ALLOWED_TRANSITIONS,
    ROUTING_TABLE,
    Destination,
    ErrorSummary,
    FailedItem,
    FailureRecord,
    GiveUp,
    ItemStatus,
    Payload,
    PipelineResult,
    QueueEntry,
    RequeueItem,
    RetryTask,
    Stage,
    StageCounts,
    StageOutcome,
    StatusEvent,
    WorkerMetrics,
    coerce_payload,
    compute_pipeline_stats,
    decide_retry,
    failed_outcome,
    order_by_sequence,
    plan_pipeline,
    prepare_payload,
    resolve_stage,
    route,
    succeeded_outcome,
    summarize_errors,
    worker_name,
)
from returns.pipeline import is_successful
from returns.result import Failure, Success


async def task(x: Any) -> Any:
    return x


def sync_task(x: Any) -> Any:
    return x


def test_a_dict_item_gives_its_id_and_value() -> None:
    payload = prepare_payload({"id": "user_1", "value": {"name": "Alice"}}, 0)
    assert payload == Payload("user_1", {"name": "Alice"}, 0)


def test_a_dict_with_only_an_id_is_its_own_value() -> None:
    item = {"id": "x", "name": "Alice"}
    assert prepare_payload(item, 4) == Payload("x", item, 4)


def test_any_other_item_gets_its_position_as_id() -> None:
    assert prepare_payload("http://a", 7) == Payload(7, "http://a", 7)
    assert prepare_payload(None, 0) == Payload(0, None, 0)


def test_with_value_keeps_id_and_sequence_and_leaves_the_original_alone() -> None:
    payload = Payload("a", 1, 5)
    moved = payload.with_value("one")
    assert moved == Payload("a", "one", 5)
    assert payload.value == 1
    with pytest.raises(AttributeError):
        moved.value = "two"  # type: ignore[misc]
    assert payload.to_dict() == {"id": "a", "value": 1, "_sequence_id": 5}


def test_coerce_payload_accepts_the_guides_dict_form() -> None:
    assert coerce_payload({"id": "u", "value": 3, "_sequence_id": 9}, 1) == Payload("u", 3, 9)
    assert coerce_payload({"id": "u", "value": 3}, 1) == Payload("u", 3, 1)
    same = Payload(1, 2, 3)
    assert coerce_payload(same, 0) is same
    with pytest.raises(TypeError, match="must return a Payload or a dict with 'id' and 'value'"):
        coerce_payload({"value": 3}, 0)
    with pytest.raises(TypeError, match="non-integer _sequence_id"):
        coerce_payload({"id": 1, "value": 3, "_sequence_id": "x"}, 0)


def test_queue_entries_order_by_priority_then_sequence() -> None:
    entries = [
        QueueEntry(100, 0, Payload(0, "a", 0)),
        QueueEntry(10, 3, Payload(3, "d", 3)),
        QueueEntry(100, 1, Payload(1, "b", 1)),
        QueueEntry(10, 2, Payload(2, "c", 2)),
        QueueEntry(500, 4, Payload(4, "e", 4), attempt=2),
    ]
    assert [e.payload.value for e in sorted(entries)] == ["c", "d", "a", "b", "e"]
    heap = [e.to_heap_item() for e in entries]
    heapq.heapify(heap)
    popped = [QueueEntry.from_heap_item(heapq.heappop(heap)) for _ in range(len(entries))]
    assert popped == sorted(entries)
    assert popped[-1].attempt == 2
    assert entries[0].sort_key == (100, 0)


def test_heap_items_never_compare_payloads() -> None:
    class Opaque:
        """A value that refuses comparison."""

        def __lt__(self, other: object) -> bool:
            raise AssertionError("payload compared")

    heap: list[Any] = []
    for seq in range(50):
        heapq.heappush(heap, QueueEntry(seq % 3, seq, Payload(seq, Opaque(), seq)).to_heap_item())
    assert [heapq.heappop(heap)[1] for _ in range(3)] == [0, 3, 6]


RETRY_TABLE = [
    # retry, task_attempt, stage_attempt, error, expected
    ("per_task", 1, 1, ValueError("x"), Success(RetryTask(2, 0.25))),
    ("per_task", 2, 1, ValueError("x"), Success(RetryTask(3, 0.25))),
    ("per_task", 3, 1, ValueError("x"), Failure(GiveUp(3, "3 of 3 task attempts used"))),
    ("per_stage", 1, 1, ValueError("x"), Success(RequeueItem(2, 0.25))),
    ("per_stage", 1, 2, ValueError("x"), Success(RequeueItem(3, 0.25))),
    ("per_stage", 1, 3, ValueError("x"), Failure(GiveUp(3, "3 of 3 stage attempts used"))),
    ("per_task", 1, 1, SystemExit(1), Failure(GiveUp(1, "SystemExit is not retryable"))),
    (
        "per_stage",
        1,
        2,
        KeyboardInterrupt(),
        Failure(GiveUp(2, "KeyboardInterrupt is not retryable")),
    ),
]


@pytest.mark.parametrize(
    ("retry", "task_attempt", "stage_attempt", "error", "expected"), RETRY_TABLE
)
def test_the_retry_table(
    retry: Any, task_attempt: int, stage_attempt: int, error: BaseException, expected: Any
) -> None:
    stage = Stage("S", tasks=[task], retry=retry, task_wait_seconds=0.25)
    decision = decide_retry(
        stage, task_attempt=task_attempt, stage_attempt=stage_attempt, error=error
    )
    assert decision == expected


def test_one_attempt_means_no_retry() -> None:
    stage = Stage("S", tasks=[task], task_attempts=1)
    decision = decide_retry(stage, task_attempt=1, stage_attempt=1, error=RuntimeError())
    assert not is_successful(decision)


def test_the_routing_table_covers_every_outcome() -> None:
    assert len(ROUTING_TABLE) == len(StageOutcome) * 2
    assert route(StageOutcome.COMPLETED, 0, 3) is Destination.NEXT_STAGE
    assert route(StageOutcome.COMPLETED, 2, 3) is Destination.RESULT
    assert route(StageOutcome.SKIPPED, 1, 3) is Destination.NEXT_STAGE
    assert route(StageOutcome.SKIPPED, 0, 1) is Destination.RESULT
    assert route(StageOutcome.FAILED, 0, 3) is Destination.FAILURE
    assert route(StageOutcome.FAILED, 2, 3) is Destination.FAILURE


def test_a_plan_precomputes_what_workers_read() -> None:
    plan = plan_pipeline(
        [
            Stage("Fetch", workers=2, tasks=[task, sync_task], task_concurrency_limits={"task": 1}),
            Stage("Save", workers=1, tasks=[sync_task], queue_capacity=0),
        ]
    )
    fetch, save = plan.stages
    assert plan.stage_names == ("Fetch", "Save")
    assert (fetch.index, fetch.next_index, save.next_index) == (0, 1, None)
    assert (fetch.capacity, save.capacity) == (20, 0)
    assert fetch.task_names == ("task", "sync_task")
    assert fetch.task_is_async == (True, False)
    assert fetch.task_limits == (1, None)
    assert fetch.worker_names == ("Fetch-W0", "Fetch-W1")
    assert worker_name("Save", 3) == "Save-W3"


def test_resolve_stage_names_the_valid_choices() -> None:
    plan = plan_pipeline([Stage("A", tasks=[task]), Stage("B", tasks=[task])])
    assert resolve_stage(plan, "B") == Success(1)
    missing = resolve_stage(plan, "C")
    assert isinstance(missing, Failure)
    error = missing.failure()
    assert isinstance(error, UnknownStageError)
    assert str(error) == "stage 'C' not found; the stages are: 'A', 'B'"


def test_stats_arithmetic_derives_items_in_flight() -> None:
    stats = compute_pipeline_stats(
        ["A", "B"],
        [StageCounts(pending=3, in_progress=2, completed=10), StageCounts(completed=7, failed=1)],
        fed=20,
        processed=7,
        failed=2,
        unfinished=1,
    )
    assert stats.items_in_flight == 10
    assert stats.queue_sizes == {"A": 3, "B": 0}
    assert stats.stage_stats["A"].in_progress_items == 2
    assert stats.stage_stats["B"].failed_items == 1
    with pytest.raises(ValueError, match="inconsistent counters"):
        compute_pipeline_stats(["A"], [StageCounts()], fed=1, processed=2, failed=0)
    with pytest.raises(ValueError, match="1 stage names but 2 stage counts"):
        compute_pipeline_stats(["A"], [StageCounts(), StageCounts()], fed=0, processed=0, failed=0)


def test_error_summaries_count_by_type_and_stage() -> None:
    records = [
        FailureRecord(1, "boom", "ValueError", "Fetch", 3, 1.0),
        FailureRecord(2, "late", "TimeoutError", "Fetch", 3, 2.0),
        FailureRecord(3, "bad", "ValueError", "Save", 1, 3.0),
    ]
    summary = summarize_errors(records)
    assert summary == ErrorSummary(
        3, {"ValueError": 2, "TimeoutError": 1}, {"Fetch": 2, "Save": 1}, tuple(records)
    )
    assert summarize_errors(records, limit=1).failed_items == (records[2],)
    assert summarize_errors(records, limit=1).total_failed == 3
    assert summarize_errors([]) == ErrorSummary(0)


def test_results_are_ordered_by_sequence_and_outcomes_are_results() -> None:
    results = [PipelineResult(i, i, i) for i in (3, 1, 2)]
    assert [r.sequence_id for r in order_by_sequence(results)] == [1, 2, 3]
    failed = FailedItem("x", 1, ValueError("no"), "Fetch", 3, 0)
    assert succeeded_outcome(results[0]) == Success(results[0])
    assert failed_outcome(failed) == Failure(failed)
    assert (failed.error_type, failed.error_message) == ("ValueError", "no")
    assert FailedItem("y", 1, TimeoutError(), "S", 1, 1).error_message == "TimeoutError"
    match failed_outcome(failed):
        case Failure(item):
            assert item is failed
        case _:  # pragma: no cover
            pytest.fail("a failure must match Failure")


def test_statuses_compare_as_strings_and_transitions_are_a_table() -> None:
    event = StatusEvent(1, "S", ItemStatus.FAILED, "S-W0", 0, 1.0, {"error": "boom"})
    assert event.status == "failed"
    assert event.status.upper() == "FAILED"
    assert event.metadata["error"] == "boom"
    # An item starts queued; only a fan-out child that ends where it is made starts completed.
    assert ALLOWED_TRANSITIONS[None] == {ItemStatus.QUEUED, ItemStatus.COMPLETED}
    assert ItemStatus.COMPLETED in ALLOWED_TRANSITIONS[ItemStatus.IN_PROGRESS]
    assert ItemStatus.EXPANDED in ALLOWED_TRANSITIONS[ItemStatus.IN_PROGRESS]
    assert ALLOWED_TRANSITIONS[ItemStatus.EXPANDED] == frozenset()
    assert set(ALLOWED_TRANSITIONS) == {None, *ItemStatus}


def test_worker_metrics_average_over_handled_items() -> None:
    metrics = WorkerMetrics("S-W0", "S", 0, 3, 1, 2.0, None)
    assert metrics.average_processing_time == 0.5
    assert WorkerMetrics("S-W0", "S", 0, 0, 0, 0.0, None).average_processing_time == 0.0
