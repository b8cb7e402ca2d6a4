"""The side-effect-free core of antflow: what a pipeline is and what it decides.

Theory of operation
-------------------
A pipeline is an ordered list of `Stage` objects. An item fed to it is wrapped in a
`Payload` (`prepare_payload`) and put in the first stage's queue as a `QueueEntry`
keyed by ``(priority, sequence_id)``: lower priority first, then feeding order.

A worker of a stage takes the smallest entry and runs the stage's tasks on the
payload's value in order. When a task raises, `decide_retry` says what happens:
call it again (`RetryTask`, ``per_task``), put the item back at the start of the stage
(`RequeueItem`, ``per_stage``), or give up (`GiveUp`), as the stage's `RetryPolicy` says
(which errors retry, how long to wait: ``retries``); once a task has failed for good,
`decide_stage_failure` says whether the stage re-queues the item or fails it, and with
how many attempts. When the stage ends, `route` says where the item goes (a plan's
``next_index`` is that answer, computed once): the next stage, out as a
`PipelineResult`, or out as a `FailedItem`. A stage whose ``skip_if`` is true for an item
skips it entirely: the item goes from ``queued`` to ``skipped`` and on, unchanged. Each
item ends exactly once, as a result or as a failure; `ItemOutcome` is that end as a
`returns` Result. A ``fan_out`` stage turns an item into children, each an item of its
own, and the item ends there as *expanded* (``fan_out``: `route_child`, `Child`); a
``batch_size`` stage calls its tasks with many items' values at once (``batches``:
`batch_ready`, `batch_results`).

While this happens a runtime emits `StatusEvent`, `TaskEvent` and `ItemFinished` to
an attached `PipelineObserver` (their metadata from `attempt_metadata`,
`retry_metadata` and `error_metadata`, their attempt numbers from `call_attempt`), and
keeps counters that `compute_pipeline_stats` turns into `PipelineStats`.

Flow control is decided here too (`antflow_core.model.limits`): when a rate-limited call
may start (`RateLimit`, `call_delay`), and a stage's ``call_concurrency``; a *pull* stage
(``Stage(pull=True)``) has no queue and takes an item only when a worker is free.

Outside pipelines, `antflow_core.model.calls` decides for single calls (an
``AsyncExecutor``'s work): `call_retry_policy` turns a call's options into the same
`RetryPolicy` a stage decides with, and `wait_is_over` says when waiting on several calls
ends.

Everything here is data and pure functions: no asyncio, no I/O, no clock, no
randomness. Time and ids are passed in. The asyncio runtime in
`antflow_core.runtime` executes these decisions; a custom runtime (threads, trio, a
simulation) can use this module alone.
"""

from antflow_core.errors import StageValidationError, UnknownStageError
from antflow_core.model.batches import batch_ready, batch_results, input_ended, shape_problems
from antflow_core.model.calls import (
    ALL_COMPLETED,
    DEFAULT_RETRY_DELAY,
    FIRST_COMPLETED,
    FIRST_EXCEPTION,
    WAIT_TABLE,
    ReturnWhen,
    call_retry_policy,
    default_buffersize,
    map_window,
    option_keywords,
    parse_return_when,
    validate_max_workers,
    wait_is_over,
)
from antflow_core.model.decisions import (
    ROUTING_TABLE,
    Destination,
    GiveUp,
    PipelinePlan,
    RequeueItem,
    RetryDecision,
    RetryTask,
    StageOutcome,
    StagePlan,
    call_attempt,
    decide_retry,
    decide_stage_failure,
    is_retryable,
    plan_pipeline,
    resolve_stage,
    route,
    skip_check_failed,
    stage_failure,
    validate_pipeline_options,
    worker_name,
)
from antflow_core.model.events import (
    ALLOWED_TRANSITIONS,
    EMPTY_METADATA,
    FIRST_ATTEMPT,
    ItemFinished,
    ItemStatus,
    StatusEvent,
    TaskEvent,
    TaskEventType,
    attempt_metadata,
    error_metadata,
    retry_metadata,
)
from antflow_core.model.fan_out import (
    Child,
    ChildRoute,
    child_id,
    fan_out_problem,
    route_child,
)
from antflow_core.model.items import InT, Item, Items, KeyedItem, OutT
from antflow_core.model.limits import (
    RateLimit,
    call_delay,
    coerce_rate_limit,
    rate_limit_problems,
    rate_limited_starts,
)
from antflow_core.model.payload import (
    NO_METADATA,
    HeapItem,
    ItemMetadata,
    Payload,
    QueueEntry,
    coerce_payload,
    item_metadata,
    prepare_payload,
)
from antflow_core.model.protocols import (
    DashboardProtocol,
    DisplayFactory,
    FinishRecorder,
    PipelineObserver,
    ProgressDisplay,
    StatusRecorder,
    StatusSink,
)
from antflow_core.model.results import (
    FailedItem,
    ItemOutcome,
    PipelineResult,
    describe_error,
    failed_outcome,
    order_by_sequence,
    succeeded_outcome,
)
from antflow_core.model.retries import (
    BACKOFFS,
    DEFAULT_EXPONENTIAL_JITTER,
    Backoff,
    Refusal,
    RetryOn,
    RetryPolicy,
    RetryPredicate,
    backoff_wait,
    retry_policy_problems,
)
from antflow_core.model.stage import (
    DEFAULT_PRIORITY,
    RETRY_STRATEGIES,
    CallbackForm,
    FailureCallback,
    OnFailure,
    OnSkip,
    OnSuccess,
    RetryStrategy,
    SkipCallback,
    SkipPredicate,
    Stage,
    SuccessCallback,
    TaskFunc,
    call_with_failure,
    call_with_payload,
    callback_form,
    default_queue_capacity,
    effective_queue_capacity,
    is_async_callable,
    stage_problems,
    task_name,
    validate_stages,
)
from antflow_core.model.stats import (
    DashboardSnapshot,
    ErrorSummary,
    FailureRecord,
    PipelineStats,
    StageCounts,
    StageStats,
    WorkerMetrics,
    WorkerState,
    WorkerStatus,
    compute_pipeline_stats,
    stage_counts,
    summarize_errors,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "ALL_COMPLETED",
    "BACKOFFS",
    "DEFAULT_EXPONENTIAL_JITTER",
    "DEFAULT_PRIORITY",
    "DEFAULT_RETRY_DELAY",
    "EMPTY_METADATA",
    "FIRST_ATTEMPT",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "NO_METADATA",
    "RETRY_STRATEGIES",
    "ROUTING_TABLE",
    "WAIT_TABLE",
    "Backoff",
    "CallbackForm",
    "Child",
    "ChildRoute",
    "DashboardProtocol",
    "DashboardSnapshot",
    "Destination",
    "DisplayFactory",
    "ErrorSummary",
    "FailedItem",
    "FailureCallback",
    "FailureRecord",
    "FinishRecorder",
    "GiveUp",
    "HeapItem",
    "InT",
    "Item",
    "ItemFinished",
    "ItemMetadata",
    "ItemOutcome",
    "ItemStatus",
    "Items",
    "KeyedItem",
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "OutT",
    "Payload",
    "PipelineObserver",
    "PipelinePlan",
    "PipelineResult",
    "PipelineStats",
    "ProgressDisplay",
    "QueueEntry",
    "RateLimit",
    "Refusal",
    "RequeueItem",
    "RetryDecision",
    "RetryOn",
    "RetryPolicy",
    "RetryPredicate",
    "RetryStrategy",
    "RetryTask",
    "ReturnWhen",
    "SkipCallback",
    "SkipPredicate",
    "Stage",
    "StageCounts",
    "StageOutcome",
    "StagePlan",
    "StageStats",
    "StageValidationError",
    "StatusEvent",
    "StatusRecorder",
    "StatusSink",
    "SuccessCallback",
    "TaskEvent",
    "TaskEventType",
    "TaskFunc",
    "UnknownStageError",
    "WorkerMetrics",
    "WorkerState",
    "WorkerStatus",
    "attempt_metadata",
    "backoff_wait",
    "batch_ready",
    "batch_results",
    "call_attempt",
    "call_delay",
    "call_retry_policy",
    "call_with_failure",
    "call_with_payload",
    "callback_form",
    "child_id",
    "coerce_payload",
    "coerce_rate_limit",
    "compute_pipeline_stats",
    "decide_retry",
    "decide_stage_failure",
    "default_buffersize",
    "default_queue_capacity",
    "describe_error",
    "effective_queue_capacity",
    "error_metadata",
    "failed_outcome",
    "fan_out_problem",
    "input_ended",
    "is_async_callable",
    "is_async_generator_callable",
    "is_retryable",
    "item_metadata",
    "map_window",
    "option_keywords",
    "order_by_sequence",
    "parse_return_when",
    "plan_pipeline",
    "prepare_payload",
    "rate_limit_problems",
    "rate_limited_starts",
    "resolve_stage",
    "retry_metadata",
    "retry_policy_problems",
    "route",
    "route_child",
    "shape_problems",
    "skip_check_failed",
    "stage_counts",
    "stage_failure",
    "stage_problems",
    "succeeded_outcome",
    "summarize_errors",
    "task_name",
    "validate_max_workers",
    "validate_pipeline_options",
    "validate_stages",
    "wait_is_over",
    "worker_name",
]
