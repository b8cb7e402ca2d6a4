"""The decisions a worker used to take in its loop, now model functions (no event loop)."""

from __future__ import annotations

from typing import Any

import pytest
from antflow_core.model import (
    FIRST_ATTEMPT,
    GiveUp,
    RequeueItem,
    Stage,
    attempt_metadata,
    call_attempt,
    decide_stage_failure,
    error_metadata,
    plan_pipeline,
    retry_metadata,
    skip_check_failed,
    validate_pipeline_options,
)
from returns.result import Failure, Success


async def task(x: Any) -> Any:
    return x


class Fatal(BaseException):
    """Not an Exception: never retried."""


def per_stage(attempts: int = 3) -> Stage:
    return Stage("S", tasks=[task], retry="per_stage", stage_attempts=attempts, task_wait_seconds=2)


def per_task(attempts: int = 3) -> Stage:
    return Stage("S", tasks=[task], retry="per_task", task_attempts=attempts)


def test_the_first_attempt_shares_one_metadata_object_and_later_ones_say_their_number() -> None:
    assert attempt_metadata(1) is FIRST_ATTEMPT
    assert attempt_metadata(3) == {"attempt": 3}


def test_a_failed_events_metadata_names_the_error_its_type_and_the_attempts() -> None:
    error = ValueError("bad row")
    assert error_metadata(error, 2) == {
        "error": "bad row",
        "error_type": "ValueError",
        "exception": error,
        "attempt": 2,
    }
    assert error_metadata(TimeoutError(), 1)["error"] == "TimeoutError"  # no message


def test_a_retrying_events_metadata_says_retry_and_the_attempt_about_to_be_made() -> None:
    error = ConnectionError("down")
    assert retry_metadata(error, 2, "fetch") == {
        "retry": True,
        "attempt": 2,
        "error": "down",
        "error_type": "ConnectionError",
        "exception": error,
        "task": "fetch",
    }


def test_a_per_stage_failure_is_requeued_while_stage_attempts_remain() -> None:
    stage = per_stage(attempts=3)
    error = ConnectionError("down")
    assert decide_stage_failure(stage, task_attempts=1, stage_attempt=1, error=error) == Success(
        RequeueItem(2, 2.0)
    )
    assert decide_stage_failure(stage, task_attempts=1, stage_attempt=2, error=error) == Success(
        RequeueItem(3, 2.0)
    )
    last = decide_stage_failure(stage, task_attempts=1, stage_attempt=3, error=error)
    assert isinstance(last, Failure)
    assert last.failure().attempts == 3  # a per_stage failure reports stage attempts


def test_a_per_task_failure_that_reached_the_stage_fails_the_item_with_its_calls() -> None:
    stage = per_task(attempts=3)
    decision = decide_stage_failure(stage, task_attempts=3, stage_attempt=1, error=OSError("x"))
    assert isinstance(decision, Failure)
    assert decision.failure().attempts == 3


def test_an_error_that_is_not_retryable_fails_the_item_at_once_under_both_strategies() -> None:
    for stage, attempts in ((per_stage(), 1), (per_task(), 1)):
        decision = decide_stage_failure(stage, task_attempts=1, stage_attempt=1, error=Fatal())
        assert isinstance(decision, Failure)
        assert decision.failure().attempts == attempts
        assert "Fatal is not retryable" in decision.failure().reason


def test_calls_that_stopped_before_the_table_said_so_report_the_calls_made() -> None:
    # The runtime gave up on a per_task call with attempts left (e.g. tenacity stopped):
    # the item fails with the number of calls it got, never re-queued.
    decision = decide_stage_failure(per_task(5), task_attempts=2, stage_attempt=1, error=OSError())
    assert decision == Failure(GiveUp(2, "the task's calls ended after 2"))


def test_a_skip_if_that_raises_fails_the_item_on_its_stage_attempt_without_retry() -> None:
    gave_up = skip_check_failed(ValueError("ambiguous"), stage_attempt=2)
    assert gave_up.attempts == 2
    assert "skip_if raised ValueError" in gave_up.reason


def test_task_events_count_calls_per_task_and_stage_attempts_per_stage() -> None:
    assert call_attempt(per_task(), task_attempt=2, stage_attempt=1) == 2
    assert call_attempt(per_stage(), task_attempt=1, stage_attempt=3) == 3


def test_the_plan_routes_each_stage_to_the_next_and_the_last_to_the_results() -> None:
    plan = plan_pipeline([Stage("A", tasks=[task]), Stage("B", tasks=[task])])
    assert [p.next_index for p in plan.stages] == [1, None]


def test_pipeline_options_are_checked_with_a_message_that_says_what_to_pass() -> None:
    validate_pipeline_options(collect_results=True, status_tracker=None, callback_timeout=None)
    with pytest.raises(ValueError, match="callback_timeout must be None"):
        validate_pipeline_options(collect_results=True, status_tracker=None, callback_timeout=0)
    with pytest.raises(ValueError, match="callback_timeout must be None"):
        validate_pipeline_options(collect_results=True, status_tracker=None, callback_timeout=True)
    with pytest.raises(TypeError, match="status_tracker must implement"):
        validate_pipeline_options(
            collect_results=True, status_tracker=object(), callback_timeout=None
        )
    with pytest.raises(TypeError, match="collect_results must be True or False"):
        validate_pipeline_options(collect_results=1, status_tracker=None, callback_timeout=None)
