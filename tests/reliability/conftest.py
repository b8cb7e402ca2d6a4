"""Run every reliability test on each event loop antflow supports: asyncio and uvloop.

``async def`` tests are parametrized by pytest-asyncio's ``pytest_asyncio_loop_factories``
hook (test ids end in ``[asyncio]`` or ``[uvloop]``). Tests that start event loops
themselves (``asyncio.run`` in a property test, a second loop) take the ``loop_factory``
fixture and run with ``asyncio.Runner(loop_factory=loop_factory)``. uvloop is in the dev
dependencies wherever it installs (not on Windows); where it is missing only asyncio runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

LoopFactory = Callable[[], asyncio.AbstractEventLoop]

LOOP_FACTORIES: dict[str, LoopFactory] = {"asyncio": asyncio.new_event_loop}
try:
    import uvloop
except ImportError:  # pragma: no cover - Windows
    pass
else:
    LOOP_FACTORIES["uvloop"] = uvloop.new_event_loop


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, LoopFactory]:
    """Give the async tests of this directory each event loop."""
    return LOOP_FACTORIES


@pytest.fixture(params=list(LOOP_FACTORIES))
def loop_factory(request: pytest.FixtureRequest) -> LoopFactory:
    """A function that makes a new event loop of each kind, for tests that run their own."""
    return LOOP_FACTORIES[request.param]
