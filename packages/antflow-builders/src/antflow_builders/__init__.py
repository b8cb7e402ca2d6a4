"""antflow-builders: the fluent builder and ``Pipeline.quick()``, typed end to end.

``Pipeline`` here is `antflow_core.Pipeline` plus two classmethods, and it is the
``Pipeline`` that ``from antflow import Pipeline`` gives::

    from antflow import Pipeline

    results = await (
        Pipeline.create()
        .add("Fetch", fetch, workers=10)
        .add("Process", process, workers=5)
        .run(items)
    )
    results = await Pipeline.quick(items, process, workers=5)

Under a type checker each ``add()`` is checked against the previous stage's output and
``run()`` returns ``list[PipelineResult[T]]`` where ``T`` is what the last task returns.
"""

from antflow_builders._types import (
    Items,
    KeyedItem,
    OnFailure,
    OnSkip,
    OnSuccess,
    StageKeywords,
    StageOptions,
    TaskOutput,
)
from antflow_builders.builder import EmptyPipelineBuilder, PipelineBuilder
from antflow_builders.pipeline import QUICK_STAGE_NAME, Pipeline

__version__ = "0.1.0"

__all__ = [
    "QUICK_STAGE_NAME",
    "EmptyPipelineBuilder",
    "Items",
    "KeyedItem",
    "OnFailure",
    "OnSkip",
    "OnSuccess",
    "Pipeline",
    "PipelineBuilder",
    "StageKeywords",
    "StageOptions",
    "TaskOutput",
    "__version__",
]
