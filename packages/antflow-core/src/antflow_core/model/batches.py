"""Batches: a stage that calls its tasks with many values at once, and when a batch is ready.

Theory of operation
-------------------
A stage built with ``batch_size=n`` calls each of its tasks with a list of up to ``n``
values (the items' values, in the order they were taken from the queue) and expects one
result per value back, in the same order (`batch_results`). Items still travel one by
one: each has its own status events, its own result or failure, its own place in the
stats; only the calls are shared. A task call that fails fails for the whole batch: it
is retried as a batch (per task or per stage, the stage's retry settings and policy
apply) and, when the stage gives up, every item of the batch fails with that error.

A worker *collects* a batch: it takes the first item waiting (or waits for one), then
whatever else is waiting, up to ``n``, and decides when the batch is ready
(`batch_ready`):

| the batch holds | its first item waited ``batch_timeout`` | the input has ended | ready? |
|-----------------|-----------------------------------------|---------------------|--------|
| ``n`` items     | either                                  | either              | yes    |
| fewer           | yes                                     | either              | yes    |
| fewer           | no                                      | yes                 | yes    |
| fewer           | no                                      | no                  | no     |

**The end of the input** (`input_ended`) is the moment no more items can reach a
collecting worker: nobody will feed again (``join()`` was called, or the iterable of
``run()`` / ``stream()`` is exhausted), no feed is running, and every item still in the
pipeline is held in a batch being collected. Before that a partial batch waits for
``batch_timeout`` (a timer, not a poll) or, without one, until it fills or the input
ends; between ``start()`` and ``join()`` the input has not ended, since more may be fed.
Items held in a batch that was never called when the pipeline shuts down are unfinished,
like items in a queue.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from returns.result import Failure, Success

from antflow_core.errors import BatchResultError

__all__ = ["batch_ready", "batch_results", "input_ended", "shape_problems"]


def batch_ready(collected: int, batch_size: int, *, timed_out: bool, ended: bool) -> bool:
    """Tell whether a batch of ``collected`` items is called now (the table above)."""
    return collected >= batch_size or timed_out or ended


def input_ended(*, closed: bool, feeds: int, in_flight: int, collecting: int) -> bool:
    """Tell whether no more items can reach a worker that collects a batch.

    Args:
        closed: Nobody will feed again (``join()`` was called, or ``run()`` / ``stream()``
            fed their whole iterable).
        feeds: Feeds running now.
        in_flight: Items in the pipeline that have not ended.
        collecting: Items held in batches that are being collected (not yet called).
    """
    return closed and not feeds and collecting > 0 and in_flight == collecting


def batch_results(
    output: object, size: int, *, task: str, stage: str
) -> Success[Sequence[Any]] | Failure[BatchResultError]:
    """Check what a batch task returned for a batch of ``size`` values: one result each.

    Returns:
        ``Success`` of the results as a sequence (a list or tuple is returned as it is,
        another iterable as a list), or ``Failure(BatchResultError)`` saying what is wrong.
    """
    results: Sequence[Any]
    if isinstance(output, list | tuple):
        results = output
    elif isinstance(output, AbstractSet):
        return Failure(
            BatchResultError(
                f"batch task {task!r} of stage {stage!r} returned {type(output).__name__} for "
                f"a batch of {size} values: a set has no order, so its results cannot be "
                "matched to their values; return a list with one result per value, in order"
            )
        )
    elif isinstance(output, str | bytes | bytearray | Mapping | AsyncIterable) or not hasattr(
        output, "__iter__"
    ):
        return Failure(
            BatchResultError(
                f"batch task {task!r} of stage {stage!r} returned {type(output).__name__} for "
                f"a batch of {size} values: return a list with one result per value, in order"
            )
        )
    else:
        results = list(output)
    if len(results) != size:
        return Failure(
            BatchResultError(
                f"batch task {task!r} of stage {stage!r} returned {len(results)} results for "
                f"a batch of {size} values: return one result per value, in the same order"
            )
        )
    return Success(results)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def shape_problems(
    *,
    fan_out: object,
    batch_size: object,
    batch_timeout: object,
    unpack_args: object,
    pull: object = False,
) -> list[str]:
    """Return the problems of a stage's ``fan_out``, ``batch_size`` and ``batch_timeout``.

    Each says what to change; `Stage` validates through this (see `stage_problems`).
    """
    problems: list[str] = []
    if not isinstance(fan_out, bool):
        problems.append(f"fan_out must be True or False, got {fan_out!r}")
    if batch_size is not None and (not _is_int(batch_size) or batch_size < 1):  # type: ignore[operator]
        problems.append(
            f"batch_size must be None (one value per call) or an integer of at least 1, "
            f"got {batch_size!r}"
        )
    if batch_timeout is not None:
        if (
            not isinstance(batch_timeout, int | float)
            or isinstance(batch_timeout, bool)
            or batch_timeout <= 0
        ):
            problems.append(
                f"batch_timeout must be None (wait for a full batch) or a number of seconds "
                f"> 0, got {batch_timeout!r}"
            )
        elif batch_size is None:
            problems.append(
                "batch_timeout is set but batch_size is not: give batch_size=n to call the "
                "tasks with batches of up to n values"
            )
    if batch_size is not None and fan_out is True:
        problems.append(
            "fan_out and batch_size cannot be combined in one stage: batch in one stage, "
            "fan out in the next"
        )
    if batch_size is not None and pull is True:
        problems.append(
            "pull and batch_size cannot be combined: a batch stage collects the items waiting "
            "in its queue, and a pull stage has none; drop pull=True"
        )
    if batch_size is not None and unpack_args is True:
        problems.append(
            "unpack_args cannot be combined with batch_size (a batch task receives a list "
            "of values): unpack inside the task"
        )
    return problems
