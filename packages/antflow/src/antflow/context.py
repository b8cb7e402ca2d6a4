"""``antflow.context``: what a running task can tell its worker, where antflow 0.10 had it.

``set_task_status("polling 3/10")`` inside a task shows the text as the worker's
``task_status`` in worker states and dashboards.
"""

from __future__ import annotations

from antflow_core import set_task_status

__all__ = ["set_task_status"]
