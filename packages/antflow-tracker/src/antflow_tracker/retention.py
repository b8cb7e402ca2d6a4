"""What the tracker keeps: its retention options, and forgetting the items that ended.

Theory of operation
-------------------
Two options bound a tracker's memory. ``history`` is how many status events it keeps per
item (``"full"`` or N); the `StatusLog` applies it. ``keep_finished`` is which items it
keeps once they ended: True (all), False (none) or the latest N to end. `FinishedItems`
applies it: the tracker calls `FinishedItems.after_finish` once per item that ended
(only when something is bounded, so an unbounded tracker pays nothing), which forgets the
item at once (False) or the oldest ended item once more than N are kept, and compacts the
log when it has doubled since its last compaction (O(1) per record over a run). The
counts of the log stay exact for the items forgotten.

The checks of the three retention options (``max_failures`` bounds the error summary)
are here too, each with a message that says what to pass instead.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Final, Literal, TypeAlias

from antflow_tracker._log import StatusLog

__all__ = [
    "DEFAULT_KEEP_FINISHED",
    "FinishedItems",
    "HistoryLimit",
    "check_history",
    "check_keep_finished",
    "check_max_failures",
]

HistoryLimit: TypeAlias = Literal["full"] | int
"""How many status events the tracker keeps per item: ``"full"`` (all) or N >= 1."""

DEFAULT_KEEP_FINISHED: Final = 100_000
"""How many ended items a tracker keeps by default (the latest to end); see ``keep_finished``."""


class FinishedItems:
    """The ``keep_finished`` policy of a tracker's log: which ended items it forgets."""

    __slots__ = ("_finished", "_keep", "_log")

    def __init__(self, log: StatusLog, keep: bool | int) -> None:
        self._log = log
        self._keep = keep
        # The ended items still kept, oldest first, when only the latest N are kept.
        self._finished: deque[Any] = deque()

    def after_finish(self, item_id: Any) -> None:
        """Apply the policy to ``item_id``, which just ended; compact the log if it is time."""
        log = self._log
        keep = self._keep
        if keep is False:
            log.forget(item_id)
        elif keep is not True:
            finished = self._finished
            finished.append(item_id)
            if len(finished) > keep:
                log.forget(finished.popleft())
            elif log.keep is None:
                return  # nothing was dropped: nothing to compact
        if log.needs_compaction():
            log.compact()

    def clear(self) -> None:
        """Forget which items ended (the log is cleared by its owner)."""
        self._finished.clear()


def check_history(history: object) -> HistoryLimit:
    """Return a valid ``history`` option.

    Raises:
        TypeError: If it is neither ``"full"`` nor an int.
        ValueError: If it is an int below 1.
    """
    if history == "full":
        return "full"
    if isinstance(history, int) and not isinstance(history, bool):
        if history >= 1:
            return history
        raise ValueError(
            f"history={history} keeps nothing: use history=1 to keep each item's current "
            "status only, N for its latest N events, or 'full' for all of them"
        )
    raise TypeError(
        f"history must be 'full' or a positive int (events kept per item), got {history!r}"
    )


def check_keep_finished(keep_finished: object) -> bool | int:
    """Return a valid ``keep_finished`` option.

    Raises:
        TypeError: If it is neither a bool nor an int.
        ValueError: If it is an int below 1.
    """
    if isinstance(keep_finished, bool):
        return keep_finished
    if isinstance(keep_finished, int):
        if keep_finished >= 1:
            return keep_finished
        raise ValueError(
            f"keep_finished must be True (all), False (none) or a number of items >= 1, "
            f"got {keep_finished}"
        )
    raise TypeError(
        f"keep_finished must be True, False or a number of items, got {keep_finished!r}"
    )


def check_max_failures(max_failures: object) -> int | None:
    """Return a valid ``max_failures`` option.

    Raises:
        TypeError: If it is neither None nor an int.
        ValueError: If it is below 0.
    """
    if max_failures is None:
        return None
    if isinstance(max_failures, int) and not isinstance(max_failures, bool):
        if max_failures >= 0:
            return max_failures
        raise ValueError(f"max_failures must be >= 0 or None (keep all), got {max_failures}")
    raise TypeError(f"max_failures must be an int or None, got {max_failures!r}")
