"""A virtual clock for asyncio: an event loop whose time jumps instead of passing.

When every task waits for a timer, the loop does not sleep: it moves its clock to the
next timer and runs it. ``asyncio.sleep``, ``asyncio.timeout`` and the limiters (which
read ``loop.time()``) all run on this clock, so a test of "at most 3 calls per second"
over a minute takes milliseconds and is exact. Like a real clock, time also moves a tiny
step (`TICK`) at every turn of the loop.

Only for code that runs on the loop: a thread (a plain-function task) is not waited for
while the clock jumps. A hang still fails: ``asyncio.timeout(60)`` fires at virtual 60 s.

Test modules load it with ``importlib`` (the test directories are not packages).
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

TICK = 1e-7
"""Seconds the virtual clock moves at every turn of the loop."""


class _Selector(selectors.DefaultSelector):
    """Reports ready I/O at once; instead of blocking for a timer, moves the clock to it."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._virtual_loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        self._virtual_loop.now += TICK
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: wait for I/O (a thread's wake-up)
            return super().select(None)
        self._virtual_loop.now += timeout
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on a virtual clock that starts at 0.0."""

    def __init__(self) -> None:
        self.now = 0.0
        super().__init__(selector=_Selector(self))

    def time(self) -> float:
        return self.now


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a new `VirtualTimeLoop`."""
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(main)
