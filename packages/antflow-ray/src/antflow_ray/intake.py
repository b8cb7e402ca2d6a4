"""`Intake`: how items enter a `RayPipeline`: checks, ids, priorities, backpressure.

An item read from the caller's iterable is wrapped by the pipeline (``_prepare_payload``
and its sequence counter, which a subclass may override as on the asyncio ``Pipeline``),
announced to the observer as ``queued``, and put into its stage's queue, waiting while
the queue is full: that wait is how backpressure reaches the caller. The item counts as
fed only once it is in the queue. An iterable that raises ends the feed with `FeedError`
after the items read before it, which still end as results or failures.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any

from antflow_core.errors import AntFlowError, FeedError, PipelineCrashedError, PipelineStateError
from antflow_core.model import ItemStatus, Payload, PipelinePlan, resolve_stage
from antflow_core.runtime import QueueClosed
from returns.result import Failure

from antflow_ray.emission import Emitter
from antflow_ray.outcomes import Outcomes
from antflow_ray.runner import StageRunner

__all__ = ["Intake", "check_items", "check_priority", "feed_error", "target_index"]


def target_index(plan: PipelinePlan, target_stage: str | None) -> int:
    """The index of the stage items enter at (the first when ``target_stage`` is None).

    Raises:
        UnknownStageError: If no stage has that name.
    """
    if target_stage is None:
        return 0
    if not isinstance(target_stage, str):
        raise TypeError(f"target_stage must be a stage name, got {target_stage!r}")
    found = resolve_stage(plan, target_stage)
    if isinstance(found, Failure):
        raise found.failure()
    return found.unwrap()


def check_priority(priority: object) -> None:
    """Refuse a priority that is not an integer."""
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise TypeError(
            f"priority must be an integer (lower runs first; default 100), got {priority!r}"
        )


def check_items(items: object, *, allow_async: bool) -> None:
    """Refuse what is not an iterable of items (a string would be fed by character)."""
    if isinstance(items, str | bytes):
        raise TypeError(
            f"items is a {type(items).__name__}, which would be fed one character at a "
            "time: pass a list, e.g. [text]"
        )
    if isinstance(items, Iterable):
        return
    if isinstance(items, AsyncIterable):
        if allow_async:
            return
        raise TypeError("items is an async iterable: use `await pipeline.feed_async(items)`")
    raise TypeError(
        f"items must be an iterable of items (a list, range, generator...), got "
        f"{type(items).__name__}"
    )


def feed_error(exc: Exception, count: int, where: str = "the items iterable") -> FeedError:
    """The error of a feed whose iterable (or ``_prepare_payload``) raised after ``count``."""
    return FeedError(
        f"{where} raised {type(exc).__name__}: {exc} after {count} items; "
        f"those {count} items were fed and will still end as results or failures",
        fed_count=count,
    )


class Intake:
    """Feeds items into the stages of one pipeline.

    Args:
        runners: The stages, in order.
        outcomes: The in-flight count and the feeds running.
        emitter: Announces each item as ``queued``.
        payload_of: The pipeline's wrapping of the ``count``-th item of a feed.
        crash: Returns the error a worker died of, if one did.
    """

    def __init__(
        self,
        runners: Sequence[StageRunner],
        outcomes: Outcomes,
        emitter: Emitter,
        payload_of: Callable[[Any, int], Payload[Any]],
        crash: Callable[[], BaseException | None],
    ) -> None:
        self._runners = runners
        self._outcomes = outcomes
        self._emitter = emitter
        self._payload_of = payload_of
        self._crash = crash

    async def feed_any(self, items: Iterable[Any] | AsyncIterable[Any], priority: int) -> None:
        """Feed an iterable or an async iterable into the first stage."""
        if isinstance(items, Iterable):
            await self.feed(iter(items), 0, priority)
        else:
            await self.feed(items.__aiter__(), 0, priority)

    async def feed(
        self, iterator: Iterator[Any] | AsyncIterator[Any], index: int, priority: int
    ) -> None:
        """Feed every item of ``iterator`` into stage ``index``, waiting for room.

        Raises:
            FeedError: If the iterable raised; the items read before it were fed.
            PipelineStateError: If the pipeline was shut down while feeding.
            PipelineCrashedError: If a worker died while feeding.
        """
        runner = self._runners[index]
        outcomes = self._outcomes
        outcomes.begin_feed()
        count = 0
        try:
            while True:
                try:
                    if isinstance(iterator, AsyncIterator):
                        item = await iterator.__anext__()
                    else:
                        item = next(iterator)
                except (StopIteration, StopAsyncIteration):
                    return
                except Exception as exc:
                    raise feed_error(exc, count) from exc
                payload = self._payload_of(item, count)
                await self._emitter.status(payload.id, runner.name, ItemStatus.QUEUED, None)
                await runner.queue.put((priority, payload.sequence_id, (payload, 1)))
                outcomes.accepted()
                count += 1
        except QueueClosed:
            raise self._closed_while_feeding(count) from self._crash()
        finally:
            outcomes.end_feed()

    def _closed_while_feeding(self, count: int) -> AntFlowError:
        crash = self._crash()
        if crash is not None:
            return PipelineCrashedError(
                f"a worker died of an internal error ({type(crash).__name__}: {crash}) "
                f"while feeding; {count} items of this feed had been fed"
            )
        return PipelineStateError(
            f"the pipeline was shut down while feeding; {count} items of this feed had "
            "been fed (see unfinished_items for those that had not ended)"
        )
