"""``antflow.executor``: the home of antflow 0.10's ``AsyncExecutor``.

This release does not include ``AsyncExecutor`` yet, so importing it from here fails;
the migration guide says what to use meanwhile. The module exists so that its name is
reserved and the executor's re-export, when it comes, is one import line.
"""

from __future__ import annotations

__all__: list[str] = []
