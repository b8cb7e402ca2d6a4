"""antflow-ray: run antflow pipelines on Ray, on one machine or a cluster.

`RayPipeline` takes the same `Stage` objects as antflow's asyncio `Pipeline` and runs
each stage as a pool of Ray actors, with the decisions (retries, routing, priorities,
statistics, events) kept on the driver. `RayStageOptions` sets a stage's actors and
resources::

    from antflow import Stage
    from antflow_ray import RayPipeline, RayStageOptions

    pipeline = RayPipeline(
        [Stage("Resize", workers=8, tasks=[resize])],
        options={"Resize": RayStageOptions(actors=4, num_cpus=1)},
    )
    results = await pipeline.run(paths)
"""

from antflow_ray.errors import (
    ActorStartError,
    ItemNotSerializableError,
    RemoteTaskError,
    TaskNotSerializableError,
    UnsupportedStageOptionError,
    ValueNotSerializableError,
)
from antflow_ray.options import (
    SUPPORTED_STAGE_OPTIONS,
    RayStageOptions,
    SyncTasks,
    unsupported_options,
)
from antflow_ray.pipeline import RayPipeline

__version__ = "0.1.0"

__all__ = [
    "SUPPORTED_STAGE_OPTIONS",
    "ActorStartError",
    "ItemNotSerializableError",
    "RayPipeline",
    "RayStageOptions",
    "RemoteTaskError",
    "SyncTasks",
    "TaskNotSerializableError",
    "UnsupportedStageOptionError",
    "ValueNotSerializableError",
    "__version__",
    "unsupported_options",
]
