"""Fixtures of the AsyncExecutor tests: a virtual clock, and a guard against hangs.

``virtual_time`` runs a coroutine on an event loop whose clock only moves when nothing
else can happen: when every task waits for a timer, the clock jumps to the next one at
once. Timeouts and retry delays are then exact and cost no real time, so a test can say
"the timeout fired at t=2.5" instead of sleeping and hoping. (Plain functions in threads
need real time: tests that use them run on the normal loop.)
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

REAL_WAIT_LIMIT = 5.0
"""Seconds of real time the virtual loop waits for I/O when no timer is left (a hang)."""


class _JumpingSelector(selectors.DefaultSelector):
    """Returns ready I/O at once; when none is ready, moves the loop's clock instead of waiting."""

    def __init__(self, loop: VirtualClockLoop) -> None:
        super().__init__()
        self._virtual_loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        events: list[Any] = super().select(0)
        if events or timeout == 0:
            return events
        if timeout is None:  # no timer left: only I/O (a thread's wake-up) can end the wait
            events = super().select(REAL_WAIT_LIMIT)
            if not events:
                raise RuntimeError("hang: every task waits and no timer is set")
            return events
        self._virtual_loop.now += timeout
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop whose ``time()`` is virtual: it jumps to the next timer when idle."""

    def __init__(self) -> None:
        self.now = 0.0
        super().__init__(_JumpingSelector(self))

    def time(self) -> float:
        return self.now


VirtualTime = Callable[[Callable[[], Coroutine[Any, Any, T]]], T]


@pytest.fixture
def virtual_time() -> VirtualTime[Any]:
    """Run ``main()`` on a `VirtualClockLoop`; check that no antflow task is left running."""

    def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
        loop = VirtualClockLoop()
        try:
            result = loop.run_until_complete(main())
            leaked = [
                t.get_name()
                for t in asyncio.all_tasks(loop)
                if t.get_name().startswith("antflow:") and not t.done()
            ]
            assert not leaked, f"antflow tasks left running: {leaked}"
            return result
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    return run
