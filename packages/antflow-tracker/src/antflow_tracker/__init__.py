"""antflow-tracker: the `StatusTracker` of antflow pipelines.

Pass a tracker as ``Pipeline(stages, status_tracker=tracker)``: it records every status
change of every item, calls your callbacks (item status, task start / complete / retry /
fail, item success / failure) and answers queries (``get_stats``, ``get_status``,
``get_by_status``, ``get_history``, ``get_error_summary``):

```python
from antflow import Pipeline, Stage, StatusTracker

tracker = StatusTracker()
pipeline = Pipeline(stages=[Stage("Work", workers=3, tasks=[work])], status_tracker=tracker)
await pipeline.run(items)
print(tracker.get_stats()["completed"], tracker.get_stats()["failed"])
```

It implements the core's `antflow_core.model.PipelineObserver` Protocol; the core does
not import this package.
"""

from antflow_tracker.tracker import (
    FailedItemCallback,
    HistoryLimit,
    ResultCallback,
    StatusCallback,
    StatusTracker,
    TaskCallback,
)

__version__ = "0.1.0"

__all__ = [
    "FailedItemCallback",
    "HistoryLimit",
    "ResultCallback",
    "StatusCallback",
    "StatusTracker",
    "TaskCallback",
    "__version__",
]
