"""Fan-out: one item becomes many. What a fan-out stage's output may be, and where each child goes.

Theory of operation
-------------------
A stage built with ``fan_out=True`` calls its tasks on an item as any stage does; its
last task returns an iterable (a list, a generator) or an async iterable (an async
generator). Each element becomes a new item, a *child*; the item itself (the *parent*)
ends at that stage as **expanded**: it is neither a result nor a failure, and it is
counted in ``items_expanded``. Children are counted in ``items_spawned``, so a pipeline's
books still balance::

    fed + spawned == processed + failed + expanded + unfinished + in_flight

A child is a `Payload` like any other:

* its id is ``(parent_id, n)`` for the parent's ``n``-th element, from 0 (`child_id`), or
  the id an element wrapped in `Child` gives;
* it carries the parent's priority and metadata, and a sequence id of its own, taken in
  the order children are made (results are reported in that order);
* it goes where `route_child` says: to the stage after the fan-out stage by default (out
  as a result if the fan-out stage is the last), or to the stage a `Child` names.

**Routing** (`route_child`), for a child of stage ``i``:

| the element            | goes to                       | waits for room there? |
|------------------------|-------------------------------|-----------------------|
| a plain value          | stage ``i + 1`` (a result if ``i`` is last) | yes     |
| ``Child(v, stage=s)``, ``s`` after ``i`` | stage ``s``  | yes                   |
| ``Child(v, stage=s)``, ``s`` is ``i`` or before | stage ``s`` | no: it is always taken |

Waiting for room downstream is backpressure, as for any item: a fan-out of a million
rows holds its generator while the next stage is full. A child sent *back* (a crawler's
page emits its links to the fetching stage) never waits: the stages would otherwise wait
on each other in a loop, and a full pipeline would stop for good. The earlier stage's
queue holds that frontier, beyond its capacity if it must.

`fan_out_problem` says what is wrong with a task's output that cannot be fanned out.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from returns.result import Failure, Success

from antflow_core.errors import UnknownStageError
from antflow_core.model.decisions import PipelinePlan, resolve_stage

__all__ = ["Child", "ChildRoute", "child_id", "fan_out_problem", "route_child"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Child(Generic[T]):
    """An element of a fan-out task's output that says more than its value.

    Yield (or return in the list) ``Child(value, stage=..., id=...)`` instead of ``value``
    to send that child to another stage, or to give it an id of its own.

    Attributes:
        value: What the child's next task receives.
        stage: The name of the stage the child enters, for example an earlier one (a
            crawler's links go back to the fetching stage); None: the stage after the
            fan-out stage.
        id: The child's id; None: ``(parent_id, n)``.

    Example:
        ```python
        async def parse(page: Page) -> AsyncIterator[Page | Child[str]]:
            for link in page.links:
                yield Child(link, stage="Fetch", id=link)  # back to the fetching stage
            yield page  # and the page itself goes on to the next stage
        ```
    """

    value: T
    stage: str | None = None
    id: Any = None


@dataclass(frozen=True, slots=True)
class ChildRoute:
    """Where a child goes (the routing table in this module's docstring).

    Attributes:
        index: The stage it enters, or None: it ends at once as a result (the fan-out
            stage is the last and no stage was named).
        waits: Whether it waits for room in that stage's queue (downstream: yes); a child
            sent to its own stage or an earlier one never waits.
    """

    index: int | None
    waits: bool


def child_id(parent_id: Any, index: int) -> tuple[Any, int]:
    """Return the id of the ``index``-th child (from 0) of the item ``parent_id``."""
    return (parent_id, index)


def route_child(
    plan: PipelinePlan, stage_index: int, stage: str | None = None
) -> Success[ChildRoute] | Failure[UnknownStageError]:
    """Return where a child made by stage ``stage_index`` goes; ``stage`` is the one it names.

    Returns:
        ``Success(ChildRoute)``, or ``Failure(UnknownStageError)`` when ``stage`` names no
        stage of the pipeline.
    """
    if stage is None:
        return Success(ChildRoute(plan.stages[stage_index].next_index, waits=True))
    found = resolve_stage(plan, stage)
    if isinstance(found, Failure):
        return Failure(found.failure())
    index = found.unwrap()
    return Success(ChildRoute(index, waits=index > stage_index))


def fan_out_problem(output: object) -> str | None:
    """Return why ``output`` cannot be fanned out, or None when it can.

    Any iterable or async iterable can, except text (a ``str`` or ``bytes`` is one value,
    not its characters) and a mapping (its keys are rarely the items meant).
    """
    if isinstance(output, str | bytes | bytearray):
        return f"a {type(output).__name__}, which is one value: return [value] to emit it"
    if isinstance(output, Mapping):
        return (
            f"a {type(output).__name__}: return list(mapping.items()) or list(mapping.values())"
            " for its entries"
        )
    if isinstance(output, Iterable | AsyncIterable):
        return None
    return f"{type(output).__name__} {output!r:.60}, which is not iterable: return a list"
