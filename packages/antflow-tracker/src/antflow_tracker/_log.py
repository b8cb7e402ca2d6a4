"""`StatusLog`: compact, lazily indexed storage of status changes.

Theory of operation
-------------------
Writing is one ``list.extend``. `StatusTracker.record_status` extends `StatusLog.flat`
with the seven fields of a status change::

    item_id, stage, status, worker, worker_id, timestamp, meta

so a record is the seven slots from its *slot* (a multiple of 7). ``meta`` is None (no
metadata), an int ``n`` (the metadata was just ``{"attempt": n}``, as on every
``in_progress``) or the metadata mapping itself (failures and retries; and the shared
``EMPTY_METADATA`` and ``FIRST_ATTEMPT`` of the changes the pipeline writes directly
through the tracker's ``status_sink``). A flat list of
references allocates no object per status change that the garbage collector would track:
on a 3-stage pipeline this costs half the instructions of one tuple per change, and 56
bytes per change instead of 104.

Reading pays for the indexes, built lazily and incrementally from the slots written
since the last read, mostly by C loops (``dict.update`` over slices of ``flat``):

* ``current`` (item key -> slot of the status of its latest record) is what `latest`
  and `with_status` read; ``live`` counts the tracked items by that status. `index`
  keeps both up to date.
* ``prev`` (record number -> slot of the same item's previous record, -1 for none) links
  an item's records into a chain; `history` reads it. It is built only once someone asks
  for a history, by `chain`, which walks the records one by one.

Items that ended may be forgotten (`forget`): they leave ``current`` and ``live``, and
``ended`` counts how they ended, so that the counts stay exact. An id fed again after it was
forgotten starts a new life: ``life_start`` remembers where, so a history never reaches
into the previous life.

Retention: ``keep`` None keeps every record, ``keep=N`` each item's latest N. Records that
fall out (older than N, or of forgotten items) are reclaimed by `compact`, which the
owner calls when `needs_compaction()` says the log doubled since the last compaction, so
compaction costs O(1) per record over a run.

The log is plain data and code: no asyncio, no clock. It is not thread-safe; the tracker
uses it from the event loop only.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from functools import partial
from operator import is_not
from typing import Any, Final, TypeGuard, cast

from antflow_core.model import EMPTY_METADATA, FIRST_ATTEMPT, ItemStatus, StatusEvent

__all__ = ["CODES", "FIELDS", "STATUSES", "StatusLog", "item_key", "to_metadata"]

FIELDS: Final = 7
"""Slots of one record in `StatusLog.flat`."""

STATUSES: Final[tuple[ItemStatus, ...]] = tuple(ItemStatus)
"""Every status, in declaration order."""

CODES: Final[Mapping[ItemStatus | str, int]] = {
    status: code for code, status in enumerate(STATUSES)
}
"""Status (or its string value) -> its index in `STATUSES`."""

_MIN_COMPACTION: Final = 16_384 * FIELDS
"""Never compact a log smaller than this many slots: small logs cost little as they are."""

_UNHASHABLE: Final = object()


def item_key(item_id: Any) -> Hashable:
    """Return the dict key of an item id: the id itself, or a stand-in built from its repr.

    Ids are normally hashable (ints, strings); an unhashable id (a list given as a dict
    item's ``"id"``) is tracked by its ``repr()``.
    """
    try:
        hash(item_id)
    except TypeError:
        return (_UNHASHABLE, repr(item_id))
    return item_id  # type: ignore[no-any-return]


def to_metadata(meta: Any) -> Mapping[str, Any]:
    """Turn a record's compact ``meta`` back into the event's metadata mapping."""
    if meta is None:
        return EMPTY_METADATA
    if type(meta) is int:
        return {"attempt": meta}
    if meta is FIRST_ATTEMPT:  # written through the status sink: read as the int 1 is
        return {"attempt": 1}
    return meta  # type: ignore[no-any-return]


class StatusLog:
    """Status changes as flat records, indexed on read; see the module docstring.

    Args:
        keep: Records kept per item: None for all of them, N >= 1 for the latest N.
    """

    __slots__ = (
        "_chain_latest",
        "_chained",
        "_compact_at",
        "_current",
        "_ended",
        "_forgets",
        "_indexed",
        "_life_start",
        "_live",
        "_prev",
        "_stale",
        "flat",
        "keep",
    )

    def __init__(self, keep: int | None) -> None:
        self.keep = keep
        self.flat: list[Any] = []
        self._compact_at = _MIN_COMPACTION
        self._stale = False  # whether some records are due to be dropped (forgotten items)
        self._reset_indexes()

    def _reset_indexes(self) -> None:
        # Item key -> slot of the *status* of its latest record (record slot + 2), so that
        # counting reads ``flat[slot]`` in C loops.
        self._current: dict[Hashable, int] = {}
        self._live: Counter[Any] = Counter()  # status -> tracked items now in it
        self._ended: Counter[Any] = Counter()  # status -> forgotten items that ended in it
        self._indexed = 0  # slots indexed
        # (item_id, slots written when it ended): forget those records, not later ones.
        self._forgets: list[tuple[Any, int]] = []
        self._life_start: dict[Hashable, int] = {}
        self._prev: array[int] | None = None  # built by chain() on demand
        self._chain_latest: dict[Hashable, int] = {}
        self._chained = 0  # slots chained

    def __len__(self) -> int:
        """The number of records held."""
        return len(self.flat) // FIELDS

    # ------------------------------------------------------------------------- write

    def forget(self, item_id: Any) -> None:
        """Drop the item's records written so far; its latest status stays counted."""
        self._forgets.append((item_id, len(self.flat)))
        self._stale = True

    def needs_compaction(self) -> bool:
        """Tell whether the log doubled since the last compaction and has records to drop.

        A log that keeps every record of every item it still tracks has nothing to drop:
        compacting it would only copy it.
        """
        return len(self.flat) >= self._compact_at and (self.keep is not None or self._stale)

    def clear(self) -> None:
        """Forget everything: records, indexes and counts."""
        self.flat.clear()
        self._compact_at = _MIN_COMPACTION
        self._reset_indexes()

    # ------------------------------------------------------------------------- index

    def index(self) -> None:
        """Index every record written since the last call, and apply pending `forget`s."""
        self._index_until(len(self.flat))
        forgets = self._forgets
        if not forgets:
            return
        flat = self.flat
        current = self._current
        live = self._live
        ended = self._ended
        life_start = self._life_start
        for item_id, ended_at in forgets:
            key = item_key(item_id)
            # Until the next compaction drops the ended life's records, a history of a
            # later life of this id (fed again) must stop here.
            life_start[key] = ended_at
            latest = current.get(key)
            if latest is None:
                continue
            if latest < ended_at:
                del current[key]
                live[flat[latest]] -= 1
                ended[flat[latest]] += 1  # it stays counted, as it ended
                continue
            # Fed again, and indexed in one go with its previous life: count how that life
            # ended (rare: this scans back for its last record).
            for slot in range(ended_at - FIELDS, -1, -FIELDS):
                if item_key(flat[slot]) == key:
                    ended[flat[slot + 2]] += 1
                    break
        forgets.clear()

    def _index_until(self, end: int) -> None:
        """Index the records up to slot ``end``: each item's latest record, and the counts.

        In C loops: ``current`` is updated in one ``dict.update``. The counts are then
        recounted over every item when the new records outnumber the items (a query after
        a run), or else updated for the items that changed (a query polled during a run).
        """
        start = self._indexed
        if start >= end:
            return
        flat = self.flat
        current = self._current
        status_at = flat.__getitem__
        ids = flat[start:end:FIELDS]
        slots = range(start + 2, end, FIELDS)
        recount = len(ids) >= len(current)
        try:
            if recount:
                # strict=False: the lengths match by construction, and strict zip is slower.
                current.update(zip(ids, slots, strict=False))
            else:
                live = self._live
                items = dict.fromkeys(ids)
                # Counter() counts in C; subtract() takes a mapping of a few statuses.
                live.subtract(Counter(map(status_at, filter(_is_slot, map(current.get, items)))))
                current.update(zip(ids, slots, strict=False))
                live.update(map(status_at, map(current.__getitem__, items)))
        except TypeError:  # an unhashable id: key by key (setting a key again is harmless)
            for slot in slots:
                current[item_key(flat[slot - 2])] = slot
            recount = True
        if recount:
            self._live = Counter(map(status_at, current.values()))
        self._indexed = end

    def chain(self) -> array[int]:
        """Link every record to the same item's previous one; return the links."""
        self.index()
        prev = self._prev
        if prev is None:
            prev = self._prev = array("q")
        flat = self.flat
        latest = self._chain_latest
        get = latest.get
        append = prev.append
        for slot in range(self._chained, len(flat), FIELDS):
            key = flat[slot]
            try:
                append(get(key, -1))
            except TypeError:
                key = item_key(key)
                append(get(key, -1))
            latest[key] = slot
        self._chained = len(flat)
        return prev

    def compact(self) -> None:
        """Rewrite the log with only the records retained, in order; drop the rest."""
        self.index()
        current = self._current
        if self.keep == 1:
            kept = sorted(status_slot - 2 for status_slot in current.values())
        else:
            prev = self.chain()
            life_start = self._life_start
            kept = []
            for key, status_slot in current.items():
                slot = status_slot - 2
                first = life_start.get(key, 0)
                left = -1 if self.keep is None else self.keep  # -1 never reaches 0
                while slot >= first and left:
                    kept.append(slot)
                    slot = prev[slot // FIELDS]
                    left -= 1
            kept.sort()
        flat = self.flat
        moved: dict[int, int] = {}
        new_flat: list[Any] = []
        for slot in kept:
            moved[slot] = len(new_flat)
            new_flat += flat[slot : slot + FIELDS]
        flat[:] = new_flat  # in place: the tracker holds ``flat.extend``
        live, ended = self._live, self._ended
        self._reset_indexes()
        self._live, self._ended = live, ended
        self._current = {key: moved[slot - 2] + 2 for key, slot in current.items()}
        self._indexed = len(flat)
        self._compact_at = max(_MIN_COMPACTION, 2 * len(flat))
        self._stale = False

    # ------------------------------------------------------------------------- read

    def event(self, slot: int) -> StatusEvent:
        """Build the `StatusEvent` of the record at ``slot``."""
        item_id, stage, status, worker, worker_id, timestamp, meta = self.flat[slot : slot + FIELDS]
        return StatusEvent(
            item_id,
            stage,
            STATUSES[CODES[status]],
            worker,
            worker_id,
            timestamp,
            to_metadata(meta),
        )

    def latest(self, item_id: Any) -> int | None:
        """Return the slot of the item's latest record, or None if it is not tracked."""
        self.index()
        status_slot = self._current.get(item_key(item_id))
        return None if status_slot is None else status_slot - 2

    def status_of(self, slot: int) -> int:
        """Return the status code of the record at ``slot``."""
        return CODES[self.flat[slot + 2]]

    def history(self, item_id: Any) -> list[int]:
        """Return the slots of the item's retained records, oldest first."""
        key = item_key(item_id)
        slot = self.latest(key)
        if slot is None:
            return []
        prev = self.chain()
        first = self._life_start.get(key, 0)
        slots: list[int] = []
        left = -1 if self.keep is None else self.keep
        while slot >= first and left:
            slots.append(slot)
            slot = prev[slot // FIELDS]
            left -= 1
        slots.reverse()
        return slots

    def with_status(self, code: int) -> list[int]:
        """Return the slot of the latest record of every tracked item now in status ``code``."""
        self.index()
        flat = self.flat
        codes = CODES
        return [slot - 2 for slot in self._current.values() if codes[flat[slot]] == code]

    def counts(self) -> list[int]:
        """Return how many items are in each status, by status code.

        Every item counts once, by its latest record; a forgotten item by how it ended.
        """
        self.index()
        counts = [0] * len(STATUSES)
        for status, count in (self._live + self._ended).items():
            counts[CODES[status]] += count
        return counts

    def tracked(self) -> int:
        """Return how many items are tracked (not forgotten)."""
        self.index()
        return len(self._current)

    def tracked_ids(self) -> list[Any]:
        """Return the id of every tracked item (not forgotten), in order of first sight."""
        self.index()
        flat = self.flat
        return [flat[slot - 2] for slot in self._current.values()]


_is_slot = cast("Callable[[int | None], TypeGuard[int]]", partial(is_not, None))
"""``slot is not None``, as a C function for ``filter``."""
