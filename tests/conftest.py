"""Shared test configuration.

Every ``async def`` test also checks, after it returns, that no antflow task (worker,
feeder, display refresher) is left running: structured concurrency is a promise.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import re
from collections.abc import AsyncIterator

import pytest
import workspace


def _missing_packages() -> list[str]:
    """The workspace packages this environment cannot import (primary-only ones aside)."""
    return [
        package.name
        for package in workspace.packages()
        if package.name not in workspace.primary_only()
        and importlib.util.find_spec(package.import_root) is None
    ]


# Checked when pytest loads this file, before it reads the rest of its configuration:
# an environment without the packages (hatch older than 1.16 ignores the workspace
# members) then gets this message instead of import errors in every test module.
if _missing_packages():
    raise pytest.UsageError(
        f"the workspace packages {_missing_packages()} are not installed here: run "
        "`python3 dev.py check`, or `hatch test` with hatch 1.16.5 or newer (its workspace "
        "feature installs packages/*); CONTRIBUTING.md says more"
    )


@pytest.fixture
async def no_leaked_tasks() -> AsyncIterator[None]:
    """Fail the test if it leaves an ``antflow:*`` task running."""
    yield
    leaked = [
        t.get_name()
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task() and t.get_name().startswith("antflow:") and not t.done()
    ]
    assert not leaked, f"antflow tasks left running: {leaked}"


_PRIMARY_ONLY_ROOTS = [workspace.package(name).import_root for name in workspace.primary_only()]
_EXAMPLES = workspace.ROOT / "examples"


def _uses_a_primary_only_package(item: pytest.Item) -> bool:
    """Whether a parametrized test runs an example or docs program importing one.

    The other runs do not install the primary-only packages (``[tool.antflow]
    primary-only``), so such a test is marked ``primary_only`` and left to the primary run.
    """
    callspec = getattr(item, "callspec", None)
    if callspec is None or not _PRIMARY_ONLY_ROOTS:
        return False
    for value in callspec.params.values():
        text = getattr(value, "source", None)
        if isinstance(value, str) and (_EXAMPLES / value).is_file():
            text = (_EXAMPLES / value).read_text(encoding="utf-8")
        if isinstance(text, str) and any(
            re.search(rf"^\s*(import|from)\s+{root}\b", text, re.MULTILINE)
            for root in _PRIMARY_ONLY_ROOTS
        ):
            return True
    return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _uses_a_primary_only_package(item):
            item.add_marker(pytest.mark.primary_only)
        function = getattr(item, "function", None)
        if function is not None and inspect.iscoroutinefunction(function):
            item.add_marker(pytest.mark.usefixtures("no_leaked_tasks"))
