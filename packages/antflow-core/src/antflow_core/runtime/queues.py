"""`StageQueue`: the bounded priority queue in front of every stage.

It behaves like `asyncio.PriorityQueue` (``put``, ``get``, ``put_nowait``,
``get_nowait``, ``qsize``, ``empty``, ``full``, ``maxsize``) and adds what a pipeline
needs and the standard queue lacks on Python 3.11:

* `StageQueue.force_put` ignores the capacity, for a ``per_stage`` retry that puts an
  item back into its own stage (waiting there could deadlock a full stage);
* `StageQueue.close` wakes every waiting ``put`` and ``get`` with `QueueClosed`;
* `StageQueue.drain` empties it in priority order, for reporting unfinished items;
* `StageQueue.get_until` waits for an entry only until another future is done or a
  deadline passes (a batch stage's worker collecting a batch: a timer, not a poll).

Waiters are woken by futures, never by polling; ``get`` and ``put`` complete without
suspending when they can.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Final, Generic, TypeVar

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

__all__ = ["EMPTY", "QueueClosed", "StageQueue"]

T = TypeVar("T", bound="SupportsRichComparison")


class _Empty:
    __slots__ = ()

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Final = _Empty()
"""What `StageQueue.try_get` returns when no entry is waiting."""


class QueueClosed(Exception):
    """The queue was closed: a waiting ``put`` or ``get`` cannot complete."""


def _wake_one(waiters: deque[asyncio.Future[None]]) -> None:
    while waiters:
        waiter = waiters.popleft()
        if not waiter.done():
            waiter.set_result(None)
            return


class StageQueue(Generic[T]):
    """A priority queue of ``(priority, sequence_id, data)`` tuples with an optional capacity.

    Args:
        maxsize: Capacity; 0 means unbounded.
    """

    __slots__ = ("_closed", "_getters", "_heap", "_maxsize", "_putters")

    def __init__(self, maxsize: int = 0) -> None:
        self._heap: list[T] = []
        self._maxsize = maxsize
        self._getters: deque[asyncio.Future[None]] = deque()
        self._putters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<StageQueue size={len(self._heap)} maxsize={self._maxsize}{state}>"

    @property
    def maxsize(self) -> int:
        """The capacity; 0 means unbounded."""
        return self._maxsize

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    def qsize(self) -> int:
        """Number of entries waiting."""
        return len(self._heap)

    def empty(self) -> bool:
        """Whether no entry is waiting."""
        return not self._heap

    def full(self) -> bool:
        """Whether a ``put`` would have to wait."""
        return 0 < self._maxsize <= len(self._heap)

    def put_nowait(self, item: T) -> None:
        """Add ``item`` now.

        Raises:
            asyncio.QueueFull: If the queue is at capacity.
            QueueClosed: If the queue was closed.
        """
        if self._closed:
            raise QueueClosed("the queue is closed")
        if 0 < self._maxsize <= len(self._heap):
            raise asyncio.QueueFull
        heappush(self._heap, item)
        if self._getters:
            _wake_one(self._getters)

    def try_put(self, item: T) -> bool:
        """Add ``item`` if there is room and return True; return False if the queue is full.

        The allocation-free fast path of `put` for workers handing items on.

        Raises:
            QueueClosed: If the queue was closed.
        """
        heap = self._heap
        if 0 < self._maxsize <= len(heap):
            return False
        if self._closed:
            raise QueueClosed("the queue is closed")
        heappush(heap, item)
        if self._getters:
            _wake_one(self._getters)
        return True

    def force_put(self, item: T) -> None:
        """Add ``item`` even if that exceeds the capacity (for re-queuing into one's own stage).

        Raises:
            QueueClosed: If the queue was closed.
        """
        if self._closed:
            raise QueueClosed("the queue is closed")
        heappush(self._heap, item)
        if self._getters:
            _wake_one(self._getters)

    async def put(self, item: T) -> None:
        """Add ``item``, waiting while the queue is full (this is backpressure).

        Raises:
            QueueClosed: If the queue is or gets closed before the item could be added.
        """
        heap = self._heap
        while 0 < self._maxsize <= len(heap):
            if self._closed:
                raise QueueClosed("the queue is closed")
            putter = asyncio.get_running_loop().create_future()
            self._putters.append(putter)
            try:
                await putter
            except BaseException:
                putter.cancel()
                with contextlib.suppress(ValueError):
                    self._putters.remove(putter)
                if not self.full() and not putter.cancelled():
                    # We were woken but will not put: pass the turn on.
                    _wake_one(self._putters)
                raise
        if self._closed:
            raise QueueClosed("the queue is closed")
        heappush(heap, item)
        if self._getters:
            _wake_one(self._getters)

    def get_nowait(self) -> T:
        """Remove and return the smallest entry now.

        Raises:
            asyncio.QueueEmpty: If no entry is waiting.
        """
        if not self._heap:
            raise asyncio.QueueEmpty
        item = heappop(self._heap)
        if self._putters:
            _wake_one(self._putters)
        return item

    def try_get(self) -> T | _Empty:
        """Remove and return the smallest entry, or `EMPTY` if none is waiting (never waits)."""
        heap = self._heap
        if not heap:
            return EMPTY
        item = heappop(heap)
        if self._putters:
            _wake_one(self._putters)
        return item

    async def get(self) -> T:
        """Remove and return the smallest entry, waiting for one if the queue is empty.

        Raises:
            QueueClosed: If the queue is closed while empty.
        """
        heap = self._heap
        while not heap:
            if self._closed:
                raise QueueClosed("the queue is closed")
            getter = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                with contextlib.suppress(ValueError):
                    self._getters.remove(getter)
                if heap and not getter.cancelled():
                    _wake_one(self._getters)
                raise
        item = heappop(heap)
        if self._putters:
            _wake_one(self._putters)
        return item

    async def get_until(self, wake: asyncio.Future[None], deadline: float | None) -> T | _Empty:
        """Take the smallest entry, waiting until one comes, ``wake`` is done, or ``deadline``.

        Args:
            wake: A future whose completion ends the wait (``EMPTY`` is returned).
            deadline: The event loop's time (``loop.time()``) at which the wait ends, or
                None for no limit.

        Returns:
            The entry, or `EMPTY` when ``wake`` completed or the deadline passed first.

        Raises:
            QueueClosed: If the queue is closed while empty.
        """
        heap = self._heap
        loop = asyncio.get_running_loop()
        expired: list[bool] = []  # the timer fired (it may fire a clock tick early)
        while not heap:
            if self._closed:
                raise QueueClosed("the queue is closed")
            if wake.done() or expired or (deadline is not None and deadline <= loop.time()):
                return EMPTY
            getter = loop.create_future()
            self._getters.append(getter)

            def stop_waiting(_: object = None, getter: asyncio.Future[None] = getter) -> None:
                if not getter.done():
                    getter.set_result(None)

            def time_out(getter: asyncio.Future[None] = getter) -> None:
                expired.append(True)
                stop_waiting(None, getter)

            wake.add_done_callback(stop_waiting)
            timer = None if deadline is None else loop.call_at(deadline, time_out)
            try:
                await getter
            except BaseException:
                getter.cancel()
                if heap and not getter.cancelled():
                    _wake_one(self._getters)
                raise
            finally:
                wake.remove_done_callback(stop_waiting)
                if timer is not None:
                    timer.cancel()
                with contextlib.suppress(ValueError):
                    self._getters.remove(getter)
        item = heappop(heap)
        if self._putters:
            _wake_one(self._putters)
        return item

    def close(self) -> None:
        """Refuse further puts and wake every waiter (``get`` still drains what is left)."""
        self._closed = True
        for waiters in (self._getters, self._putters):
            while waiters:
                waiter = waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)

    def drain(self) -> list[T]:
        """Remove and return every waiting entry, smallest first."""
        heap = self._heap
        drained = [heappop(heap) for _ in range(len(heap))]
        while self._putters:
            _wake_one(self._putters)
        return drained
