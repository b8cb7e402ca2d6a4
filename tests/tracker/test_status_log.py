"""StatusLog, the tracker's storage, against a plain model of what it must remember."""

from __future__ import annotations

from typing import Any

import pytest
from antflow_core.model import EMPTY_METADATA, ItemStatus, StatusEvent
from antflow_tracker._log import CODES, STATUSES, StatusLog
from hypothesis import given, settings
from hypothesis import strategies as st

ITEMS: list[Any] = ["a", "b", "c", 1, 2, ["unhashable"]]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("record"), st.sampled_from(ITEMS), st.integers(0, len(STATUSES) - 1)),
        st.tuples(st.just("forget"), st.sampled_from(ITEMS)),
        st.tuples(st.just("compact")),
        st.tuples(st.just("query")),
    ),
    max_size=60,
)


Record = tuple[Any, str, ItemStatus, str, int, float, Any]


def record(item: Any, code: int, at: float) -> Record:
    return (item, "S", STATUSES[code], "S-W0", 0, at, None)


def records_of(log: StatusLog, slots: list[int]) -> list[Record]:
    flat = log.flat
    return [
        (flat[b], flat[b + 1], flat[b + 2], flat[b + 3], flat[b + 4], flat[b + 5], flat[b + 6])
        for b in slots
    ]


@settings(max_examples=150, deadline=None)
@given(ops=operations, keep=st.sampled_from([None, 1, 2, 3]))
def test_the_log_remembers_what_its_retention_promises(
    ops: list[tuple[Any, ...]], keep: int | None
) -> None:
    log = StatusLog(keep)
    live: dict[str, list[Record]] = {}  # repr(item) -> records of its current life
    ended: list[int] = []  # the latest status of every forgotten life
    for step, op in enumerate(ops):
        if op[0] == "record":
            _, item, code = op
            entry = record(item, code, float(step))
            log.flat.extend(entry)
            live.setdefault(repr(item), []).append(entry)
        elif op[0] == "forget":
            # The tracker forgets an item when it ends, in the status it ended in.
            life = live.pop(repr(op[1]), None)
            if life:
                log.forget(op[1])
                ended.append(CODES[life[-1][2]])
        elif op[0] == "compact":
            log.compact()
        else:
            log.index()

    for item in ITEMS:
        life = live.get(repr(item), [])
        latest = log.latest(item)
        assert (records_of(log, [latest]) if latest is not None else []) == life[-1:]
        assert records_of(log, log.history(item)) == (life if keep is None else life[-keep:])
    expected = [0] * len(STATUSES)
    for code in [CODES[life[-1][2]] for life in live.values()] + ended:
        expected[code] += 1
    assert log.counts() == expected
    assert log.tracked() == len(live)
    for code in range(len(STATUSES)):
        assert sorted(map(repr, records_of(log, log.with_status(code)))) == sorted(
            repr(life[-1]) for life in live.values() if life[-1][2] == STATUSES[code]
        )
    log.compact()
    kept = sum(len(life) if keep is None else min(keep, len(life)) for life in live.values())
    assert len(log) == kept


def test_compaction_is_due_when_the_records_double() -> None:
    log = StatusLog(1)
    for i in range(16_383):
        log.flat.extend(record(i % 10, 0, float(i)))
    assert not log.needs_compaction()
    log.flat.extend(record(0, 1, 0.0))
    assert log.needs_compaction()
    log.compact()
    assert len(log) == 10
    assert not log.needs_compaction()
    assert log.counts()[0] == 9
    assert log.counts()[1] == 1


def test_clear_forgets_everything() -> None:
    log = StatusLog(None)
    log.flat.extend(record("a", 2, 1.0))
    assert log.tracked() == 1
    log.clear()
    assert (log.tracked(), log.flat, log.counts()) == (0, [], [0] * len(STATUSES))
    assert log.latest("a") is None


@pytest.mark.parametrize(
    ("meta", "metadata"),
    [
        (None, EMPTY_METADATA),
        (3, {"attempt": 3}),
        ({"error": "boom"}, {"error": "boom"}),
    ],
)
def test_records_turn_back_into_the_events_they_stand_for(meta: Any, metadata: Any) -> None:
    log = StatusLog(None)
    log.flat.extend(("x", "Fetch", "retrying", "Fetch-W1", 1, 5.0, meta))
    event = log.event(0)
    assert event == StatusEvent("x", "Fetch", ItemStatus.RETRYING, "Fetch-W1", 1, 5.0, metadata)
    assert event.status is ItemStatus.RETRYING  # a runtime may give the status as text
