"""``antflow.context``: what a running task can use from its pipeline, where 0.10 had it.

``set_task_status("polling 3/10")`` inside a task shows the text as the worker's
``task_status`` in worker states and dashboards. ``rate_limit``, ``concurrency_limit``
and ``call_rate_has_capacity`` share a limit by name across the pipeline's tasks.
"""

from __future__ import annotations

from antflow_core import (
    call_rate_has_capacity,
    concurrency_limit,
    rate_limit,
    set_task_status,
)

__all__ = ["call_rate_has_capacity", "concurrency_limit", "rate_limit", "set_task_status"]
