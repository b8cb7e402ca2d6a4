"""`Pipeline` with ``create()`` and ``quick()``: the class ``from antflow import Pipeline`` gives.

How the two entry points reach ``antflow.Pipeline`` without the core importing this
package: ``antflow_core.Pipeline`` declares ``create`` and ``quick`` as classmethods that
raise `ExtensionNotInstalledError` naming this package. This module subclasses it and
overrides both with typed implementations (``quick()``'s overloads are generated into
``antflow_builders._generated.pipeline_quick``, whose class this one subclasses, and its
work is done by ``antflow_builders.quick``), and the ``antflow`` umbrella exports this
subclass as ``Pipeline``. Everything else is the core's, unchanged: a manually built
``Pipeline(stages=[...])`` from ``antflow`` behaves exactly as ``antflow_core.Pipeline``.

Like the core's, the subclass is ``Pipeline[InT, OutT]`` for type checkers: it
specialises nothing, it only passes the core's types on, so a pipeline from a builder's
``build()`` carries the builder's types into ``run()``, ``stream()``, ``feed()`` and
``results``, and a manually built one infers them from its stages as the core does.
"""

from __future__ import annotations

from antflow_builders._generated.pipeline_quick import QuickPipeline
from antflow_builders._types import InT, OutT
from antflow_builders.builder import EmptyPipelineBuilder
from antflow_builders.quick import QUICK_STAGE_NAME

__all__ = ["QUICK_STAGE_NAME", "Pipeline"]


class Pipeline(QuickPipeline[InT, OutT]):
    """The antflow `Pipeline`, plus the fluent builder and the one-liner.

    Construct it with stages exactly as `antflow_core.Pipeline`, or let
    `create` and `quick` build it::

        results = await (
            Pipeline.create()
            .add("Fetch", fetch, workers=10)
            .add("Process", process, workers=5)
            .run(items)
        )
        results = await Pipeline.quick(items, process, workers=5)

    For type checkers it is ``Pipeline[InT, OutT]``: what the first task takes and what
    the last task returns, as for `antflow_core.Pipeline`; one from a builder's
    ``build()`` carries the builder's types.
    """

    @classmethod
    def create(cls) -> EmptyPipelineBuilder:
        """Start a fluent builder: ``Pipeline.create().add(name, task, ...)...run(items)``.

        Returns:
            A builder with no stage; each ``add()`` returns a new builder with one more
            stage, ``build()`` a pipeline of this class, ``run()`` the results.
        """
        return EmptyPipelineBuilder(cls)
