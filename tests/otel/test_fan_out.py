"""Items a fan-out stage expands end their traces as ``expanded``; each child has its own.

A parent is neither a result nor a failure: its item span ends when its children are on
their way, with ``antflow.outcome = "expanded"`` and how many children it made. Each
child's trace links to the stage span of the parent that made it, and nothing is left in
flight.
"""

from __future__ import annotations

from antflow import Pipeline, Stage
from antflow_otel import names

from .conftest import Recorded


async def split(n: int) -> list[int]:
    return [n * 10 + k for k in range(n)]


async def double(n: int) -> int:
    return n * 2


async def test_a_parent_ends_expanded_and_its_children_link_to_it(recorded: Recorded) -> None:
    observer = recorded.observer()
    pipeline = Pipeline(
        [Stage("Split", tasks=[split], fan_out=True), Stage("Double", tasks=[double])],
        telemetry=observer,
    )
    results = await pipeline.run([2, 0])
    assert sorted(r.value for r in results) == [40, 42]

    traces = recorded.traces()
    parent = traces[0]
    assert parent.attributes[names.OUTCOME] == "expanded"
    assert parent.attributes[names.CHILDREN] == 2
    assert [(s.name, s.attributes[names.OUTCOME]) for s in parent.children] == [
        (names.STAGE_SPAN_PREFIX + "Split", "expanded")
    ]
    assert traces[1].attributes[names.CHILDREN] == 0
    child = traces["(0, 1)"]  # an id OpenTelemetry cannot hold as it is: its str
    assert child.attributes[names.OUTCOME] == "completed"
    assert [s.name for s in child.children] == [names.STAGE_SPAN_PREFIX + "Double"]
    spans = recorded.spans()
    [stage_split] = [
        s.context
        for s in spans
        if s.name == names.STAGE_SPAN_PREFIX + "Split"
        and s.attributes
        and s.attributes[names.ITEM_ID] == 0
    ]
    child_roots = [
        s
        for s in spans
        if s.name == names.ITEM_SPAN
        and s.attributes
        and s.attributes[names.ITEM_ID] in ("(0, 0)", "(0, 1)")
    ]
    assert len(child_roots) == 2
    assert all(
        stage_split is not None and [link.context for link in s.links] == [stage_split]
        for s in child_roots
    )
    assert observer.items_in_flight == 0
    assert recorded.metrics()[names.ITEMS_IN_FLIGHT] == {frozenset(): 0}
