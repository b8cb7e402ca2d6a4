"""`Probe`: what a scenario's tasks record and wait on, wherever they run.

The tasks a trial builds call ``probe.call(item, stage, task)`` first: it counts the
call (faults fire on the first ``fails`` calls) and logs it with the time it started, so
the checks know how often each task ran on each item, in what order a stage started
items, and when a stage's calls started (for its rate limit). A held
scenario's first task also waits on the probe until the driver has fed every item
(`Probe.release`).

`LocalProbe` serves every runtime whose tasks run in this process: on the event loop, in
threads, or called directly. A runtime whose tasks run elsewhere (other processes, a
cluster) passes its own `Probe` to the harness, backed by something its workers can
reach (an actor, a server); the checks only read `Probe.calls` and `Probe.starts`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Protocol

__all__ = ["HoldNotReleased", "LocalProbe", "Probe"]

DEFAULT_HOLD_TIMEOUT = 10.0
"""Seconds a held task waits for `Probe.release` before it raises `HoldNotReleased`."""


class HoldNotReleased(Exception):
    """A held task waited too long: the driver never called ``trial.release()``."""


class Probe(Protocol):
    """Counts and logs the calls of a trial's tasks, and holds them until released."""

    def call(self, item: int, stage: int, task: int) -> int:
        """Record a call of ``task`` of ``stage`` on ``item``; return its number, from 1."""

    def calls(self) -> Mapping[tuple[int, int, int], int]:
        """How many times each task was called on each item, by ``(item, stage, task)``."""

    def starts(self, stage: int) -> list[int]:
        """The items ``stage``'s first task was called on, in order (once per call)."""

    def call_times(self, stage: int) -> list[float]:
        """When each call of any task of ``stage`` started, in seconds on one clock, in order."""

    def release(self) -> None:
        """Let held tasks go on (the driver calls it after its last feed)."""

    def wait_released(self) -> None:
        """Wait (blocking) until released; for plain-function tasks."""

    async def wait_released_async(self) -> None:
        """Wait until released; for ``async`` tasks."""


class LocalProbe:
    """A `Probe` for tasks that run in this process (event loop, threads or plain calls).

    Args:
        hold_timeout: Seconds a held task waits before raising `HoldNotReleased`.
    """

    def __init__(self, hold_timeout: float = DEFAULT_HOLD_TIMEOUT) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[tuple[int, int, int]] = Counter()
        self._starts: list[tuple[int, int]] = []
        self._times: list[tuple[int, float]] = []  # (stage, time.monotonic()) of every call
        self._released = threading.Event()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._hold_timeout = hold_timeout

    def call(self, item: int, stage: int, task: int) -> int:
        """Record a call of ``task`` of ``stage`` on ``item``; return its number, from 1."""
        at = time.monotonic()
        with self._lock:
            self._calls[(item, stage, task)] += 1
            self._times.append((stage, at))
            if task == 0:
                self._starts.append((stage, item))
            return self._calls[(item, stage, task)]

    def calls(self) -> Mapping[tuple[int, int, int], int]:
        """How many times each task was called on each item, by ``(item, stage, task)``."""
        with self._lock:
            return dict(self._calls)

    def starts(self, stage: int) -> list[int]:
        """The items ``stage``'s first task was called on, in order (once per call)."""
        with self._lock:
            return [item for s, item in self._starts if s == stage]

    def call_times(self, stage: int) -> list[float]:
        """When each call of any task of ``stage`` started (``time.monotonic()``), in order."""
        with self._lock:
            return sorted(at for s, at in self._times if s == stage)

    def release(self) -> None:
        """Let held tasks go on."""
        with self._lock:
            self._released.set()
            waiters, self._waiters = self._waiters, []
        for loop, waiter in waiters:
            loop.call_soon_threadsafe(_wake, waiter)

    def wait_released(self) -> None:
        """Wait (blocking) until released.

        Raises:
            HoldNotReleased: After ``hold_timeout`` seconds.
        """
        if not self._released.wait(self._hold_timeout):
            raise HoldNotReleased(self._not_released())

    async def wait_released_async(self) -> None:
        """Wait until released, without blocking the event loop.

        Returns at once, touching no event loop, when already released (so a runtime that
        steps coroutines by hand can run held tasks once it has released them).

        Raises:
            HoldNotReleased: After ``hold_timeout`` seconds.
        """
        if self._released.is_set():
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._released.is_set():
                return
            self._waiters.append((loop, waiter))
        try:
            await asyncio.wait_for(waiter, self._hold_timeout)
        except TimeoutError:
            raise HoldNotReleased(self._not_released()) from None

    def _not_released(self) -> str:
        return (
            f"a held task waited {self._hold_timeout}s: the driver must call "
            "trial.release() after its last feed"
        )


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
