"""`Rendezvous`: where a pull stage takes its items, and ``stream(buffer_size=0)`` its results.

Theory of operation
-------------------
A pull stage has no queue: an item enters it only when one of its workers is free. The
`Rendezvous` in front of it has the interface of a `StageQueue` (so a worker, ``feed()``
and the stage before it use it exactly as they use a queue), but its room is the number
of *takers*, the workers waiting in ``get()`` for an item, less the items already handed
to them:

* ``try_put`` hands the item over at once when a taker is free, and refuses otherwise;
* ``put`` waits, holding the item, until a taker is free. Waiting givers are served by
  their items' ``(priority, sequence_id)``, as a queue would serve the items;
* ``get`` makes its caller a taker: it wakes the first waiting giver, which hands its
  item over; ``try_get`` takes an item already handed over, if any.

So the items inside a pull stage (held by its workers, or handed to one that has not
picked it up yet) are never more than its workers, and an item that waits to enter is
held by whoever offered it: a worker of the stage before (it counts as in progress
there) or ``feed()``. Ownership stays simple: an item is in the giver's hands until the
step in which it is handed over, then here until a taker picks it up in the same loop
turn (`drain` lists it if a shutdown comes between). `close` wakes every giver and
taker with `QueueClosed`, so a shutdown unblocks waiting hand-overs; their items are
still with their givers, which is where a shutdown finds them.

Nothing polls: givers and takers wait on futures and are woken one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from heapq import heapify, heappop, heappush
from typing import TYPE_CHECKING, Generic, TypeVar

from antflow_core.runtime.queues import EMPTY, QueueClosed, _Empty, _wake_one

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

__all__ = ["Rendezvous"]

T = TypeVar("T", bound="SupportsRichComparison")


class Rendezvous(Generic[T]):
    """A hand-over point with the interface of `StageQueue`: items go only to a free taker.

    Args:
        takers: The most takers there can be (a pull stage's workers), reported as
            `maxsize`; the room at any moment is the takers actually waiting.
    """

    __slots__ = ("_closed", "_getters", "_givers", "_heap", "_maxsize", "_takers")

    def __init__(self, takers: int = 1) -> None:
        self._heap: list[T] = []  # handed over, not yet picked up: at most one per taker
        self._maxsize = takers
        self._takers = 0  # callers of get() waiting for an item (or woken, not yet run)
        self._getters: deque[asyncio.Future[None]] = deque()
        self._givers: list[tuple[T, asyncio.Future[None]]] = []  # waiting puts, by item
        self._closed = False

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return (
            f"<Rendezvous takers={self._takers} givers={len(self._givers)} "
            f"handed={len(self._heap)}{state}>"
        )

    @property
    def maxsize(self) -> int:
        """The most items handed over at once: the takers there can be."""
        return self._maxsize

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._closed

    @property
    def givers(self) -> int:
        """How many ``put`` calls wait for a free taker (items offered, still with their givers)."""
        return len(self._givers)

    def qsize(self) -> int:
        """Items handed to a taker that has not picked them up yet (0 or a few, briefly)."""
        return len(self._heap)

    def empty(self) -> bool:
        """Whether no item waits to be picked up."""
        return not self._heap

    def full(self) -> bool:
        """Whether a ``put`` would have to wait: no taker is free."""
        return len(self._heap) >= self._takers

    # ------------------------------------------------------------------- giving

    def try_put(self, item: T) -> bool:
        """Hand ``item`` to a free taker and return True; return False if none is free.

        Raises:
            QueueClosed: If closed.
        """
        heap = self._heap
        if len(heap) >= self._takers:
            return False
        if self._closed:
            raise QueueClosed("the hand-over point is closed")
        heappush(heap, item)
        _wake_one(self._getters)
        return True

    def put_nowait(self, item: T) -> None:
        """Hand ``item`` to a free taker now.

        Raises:
            asyncio.QueueFull: If no taker is free.
            QueueClosed: If closed.
        """
        if not self.try_put(item):
            raise asyncio.QueueFull

    def force_put(self, item: T) -> None:
        """Hand ``item`` over even if no taker is free (it waits to be picked up).

        A pull stage never needs it: its ``per_stage`` retries stay with their worker.

        Raises:
            QueueClosed: If closed.
        """
        if self._closed:
            raise QueueClosed("the hand-over point is closed")
        heappush(self._heap, item)
        _wake_one(self._getters)

    async def put(self, item: T) -> None:
        """Wait until a taker is free, then hand ``item`` over (backpressure, item in hand).

        Raises:
            QueueClosed: If closed before the item could be handed over.
        """
        heap = self._heap
        while len(heap) >= self._takers:
            if self._closed:
                raise QueueClosed("the hand-over point is closed")
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            entry = (item, waiter)
            heappush(self._givers, entry)
            try:
                await waiter
            except BaseException:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._givers.remove(entry)
                    heapify(self._givers)
                if len(heap) < self._takers:
                    self._wake_giver()  # we were woken but will not give: pass the turn on
                raise
        if self._closed:
            raise QueueClosed("the hand-over point is closed")
        heappush(heap, item)
        _wake_one(self._getters)

    def _wake_giver(self) -> None:
        givers = self._givers
        while givers:
            _, waiter = heappop(givers)
            if not waiter.done():
                waiter.set_result(None)
                return

    # ------------------------------------------------------------------- taking

    def try_get(self) -> T | _Empty:
        """Pick up an item already handed over, or `EMPTY` (never waits)."""
        heap = self._heap
        if not heap:
            return EMPTY
        return heappop(heap)

    def get_nowait(self) -> T:
        """Pick up an item already handed over.

        Raises:
            asyncio.QueueEmpty: If none is.
        """
        if not self._heap:
            raise asyncio.QueueEmpty
        return heappop(self._heap)

    async def get(self) -> T:
        """Become a taker and wait for an item (waking a waiting giver).

        Raises:
            QueueClosed: If closed while nothing is left to pick up.
        """
        heap = self._heap
        while not heap:
            if self._closed:
                raise QueueClosed("the hand-over point is closed")
            getter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(getter)
            self._takers += 1
            if self._givers:
                self._wake_giver()
            try:
                await getter
            except BaseException:
                getter.cancel()
                with contextlib.suppress(ValueError):
                    self._getters.remove(getter)
                self._takers -= 1
                if heap and not getter.cancelled():
                    _wake_one(self._getters)  # woken for an item we will not take
                raise
            self._takers -= 1
        return heappop(heap)

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Refuse further hand-overs and wake every giver and taker (``get`` still drains)."""
        self._closed = True
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
        givers, self._givers = self._givers, []
        for _, waiter in givers:
            if not waiter.done():
                waiter.set_result(None)

    def drain(self) -> list[T]:
        """Remove and return the items handed over but not picked up, smallest first."""
        heap = self._heap
        return [heappop(heap) for _ in range(len(heap))]
