"""Payloads and queue entries: how an item is wrapped while it travels.

An item fed to a pipeline becomes a `Payload`: its id (taken from the item or
given by its position), its current value, the sequence id that orders results
and breaks ties between equal priorities, and its metadata (the other keys of a dict
item, carried along untouched to its result and its callbacks). In a stage's queue the
payload sits in a `QueueEntry` together with its priority and attempt number.

Queues compare plain ``(priority, sequence_id)`` keys: the runtime stores
``(priority, sequence_id, (payload, attempt))`` tuples, which is what
`QueueEntry.to_heap_item` returns. An item is in one place at a time, so two entries
of one queue never share a key and the payload itself is never compared.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Generic, TypeAlias, overload

from typing_extensions import TypeVar

if TYPE_CHECKING:
    from antflow_core.model.items import KeyedItem

__all__ = [
    "NO_METADATA",
    "HeapItem",
    "ItemMetadata",
    "Payload",
    "QueueEntry",
    "coerce_payload",
    "item_metadata",
    "prepare_payload",
]

T = TypeVar("T", default=Any)
U = TypeVar("U")


class ItemMetadata(dict[str, Any]):
    """An item's metadata: a dict that cannot be changed.

    It is a `dict` (``isinstance(metadata, dict)`` holds, it compares equal to a dict
    with the same keys and serializes like one) whose mutating methods raise `TypeError`:
    an item's metadata belongs to its `Payload`, `PipelineResult` and `FailedItem`, which
    are immutable. ``dict(metadata)`` or ``metadata.copy()`` gives a copy to change.
    """

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            "an item's metadata is read-only (results are immutable): change a copy, "
            "e.g. metadata = dict(result.metadata)"
        )

    __setitem__ = __delitem__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only
    __ior__ = _read_only

    def __reduce__(self) -> tuple[type[ItemMetadata], tuple[dict[str, Any]]]:
        # Rebuilt through __init__: unpickling must not set items one by one.
        return (ItemMetadata, (dict(self),))

    def __repr__(self) -> str:
        return dict.__repr__(self)


NO_METADATA: Final[Mapping[str, Any]] = ItemMetadata()
"""The metadata of an item that has none (every item that is not a dict with extra keys)."""

_RESERVED_KEYS: Final = frozenset({"id", "value", "_sequence_id"})


@dataclass(frozen=True, slots=True)
class Payload(Generic[T]):
    """An item on its way through the pipeline.

    Attributes:
        id: The item's id: the ``"id"`` of a dict item, otherwise its position in
            everything fed to the pipeline (its index, for a single run).
        value: The item's current value: the input at the first stage, then each stage's output.
        sequence_id: Position in feeding order; results are returned in this order and
            items of equal priority are processed first-in, first-out by it.
        metadata: The keys of a dict item other than ``"id"`` and ``"value"`` (for
            ``{"id": 7, "value": x, "source": "s3"}``: ``{"source": "s3"}``), as a
            read-only dict (`ItemMetadata`); empty for any other item. It travels with the
            item, unchanged, to its `PipelineResult` and to stage callbacks.
    """

    id: Any
    value: T
    sequence_id: int
    metadata: Mapping[str, Any] = field(default_factory=lambda: NO_METADATA, hash=False)

    def __repr__(self) -> str:
        return _fields_repr(self, ("id", "value", "sequence_id"))

    def with_value(self, value: U) -> Payload[U]:
        """Return the same item carrying a new value (a stage's output)."""
        new: Payload[U] = _new_payload(Payload)
        _set_id(new, self.id)
        _set_value(new, value)
        _set_sequence(new, self.sequence_id)
        _set_metadata(new, self.metadata)
        return new

    def to_dict(self) -> dict[str, Any]:
        """Return the payload in the guide's dict form: ``{"id", "value", "_sequence_id"}``.

        Its metadata keys come along, so feeding the dict again gives the same item.
        """
        return {
            **self.metadata,
            "id": self.id,
            "value": self.value,
            "_sequence_id": self.sequence_id,
        }


# with_value runs once per item per stage and prepare_payload once per item: these skip
# the frozen dataclass's generic __init__ (about half the cost), keeping it frozen.
_new_payload = object.__new__
_set_id = Payload.__dict__["id"].__set__
_set_value = Payload.__dict__["value"].__set__
_set_sequence = Payload.__dict__["sequence_id"].__set__
_set_metadata = Payload.__dict__["metadata"].__set__


def _fields_repr(obj: Any, names: tuple[str, ...]) -> str:
    """Return ``Class(name=value, ...)``, with ``metadata=`` only when the metadata is not empty.

    The repr of the classes that carry an item's metadata: most items have none, and their
    repr stays as short as it was before metadata existed.
    """
    parts = [f"{name}={getattr(obj, name)!r}" for name in names]
    if obj.metadata:
        parts.append(f"metadata={dict(obj.metadata)!r}")
    return f"{type(obj).__name__}({', '.join(parts)})"


def item_metadata(item: Mapping[Any, Any]) -> Mapping[str, Any]:
    """Return the metadata of a dict item, read-only: its keys but the reserved ones.

    The reserved keys are ``"id"``, ``"value"`` and ``"_sequence_id"``. A dict without a
    ``"value"`` key is itself the item's value and has no metadata.
    """
    if "value" not in item or len(item) <= 1 + ("id" in item):
        return NO_METADATA
    extra = ItemMetadata({k: v for k, v in item.items() if k not in _RESERVED_KEYS})
    return extra if extra else NO_METADATA


# Types that are never mappings, tested before the (slower) isinstance check on the ABC.
_NOT_MAPPINGS: frozenset[type] = frozenset({int, str, float, bytes, tuple, list, type(None)})


@overload
def prepare_payload(
    item: KeyedItem[U], sequence_id: int, position: int | None = None
) -> Payload[U]: ...


@overload
def prepare_payload(item: U, sequence_id: int, position: int | None = None) -> Payload[U]: ...


def prepare_payload(item: object, sequence_id: int, position: int | None = None) -> Payload[Any]:
    """Wrap a fed item into a `Payload`.

    A mapping with an ``"id"`` key gives that id, otherwise the item's ``position`` is its
    id (its ``sequence_id`` when no position is given: the two are the same unless a
    fan-out stage makes children, which take sequence ids too). A mapping with a
    ``"value"`` key gives that value and its other keys are the payload's metadata;
    otherwise the item itself is the value.

    For a type checker, a `KeyedItem` of ``U`` gives a ``Payload[U]`` and any other item
    of type ``U`` a ``Payload[U]``. (A dict typed ``dict[str, ...]`` that has a
    ``"value"`` key is unwrapped all the same: the checker cannot see the key.)

    Example:
        ```python
        prepare_payload({"id": "user_1", "value": {"name": "Alice"}}, 0)
        # Payload(id='user_1', value={'name': 'Alice'}, sequence_id=0)
        prepare_payload({"id": 3, "value": "a.txt", "bucket": "logs"}, 1).metadata
        # {'bucket': 'logs'}
        prepare_payload("http://a", 7)  # Payload(id=7, value='http://a', sequence_id=7)
        ```
    """
    payload: Payload[Any] = _new_payload(Payload)
    ident = sequence_id if position is None else position
    if type(item) is dict or (type(item) not in _NOT_MAPPINGS and isinstance(item, Mapping)):
        _set_id(payload, item.get("id", ident))
        _set_value(payload, item.get("value", item))
        _set_metadata(payload, item_metadata(item))
    else:
        _set_id(payload, ident)
        _set_value(payload, item)
        _set_metadata(payload, NO_METADATA)
    _set_sequence(payload, sequence_id)
    return payload


def coerce_payload(prepared: object, sequence_id: int) -> Payload[Any]:
    """Accept what a ``_prepare_payload`` override returns and give a `Payload`.

    A `Payload` passes through. A mapping in the guide's form (``"id"``, ``"value"`` and
    optionally ``"_sequence_id"``) is converted; a missing ``"_sequence_id"`` takes
    ``sequence_id``, and any other key becomes metadata.

    Raises:
        TypeError: If ``prepared`` is neither, with what the override must return.
    """
    if isinstance(prepared, Payload):
        return prepared
    if isinstance(prepared, Mapping) and "id" in prepared and "value" in prepared:
        seq = prepared.get("_sequence_id", sequence_id)
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise TypeError(f"_prepare_payload returned a non-integer _sequence_id: {seq!r}")
        return Payload(prepared["id"], prepared["value"], seq, item_metadata(prepared))
    raise TypeError(
        "_prepare_payload must return a Payload or a dict with 'id' and 'value' keys "
        f"(and optionally '_sequence_id'), got {prepared!r}"
    )


HeapItem: TypeAlias = tuple[int, int, tuple[Payload[Any], int]]
"""What a stage queue holds: ``(priority, sequence_id, (payload, attempt))``."""


@functools.total_ordering
@dataclass(frozen=True, slots=True, eq=False)
class QueueEntry:
    """An item waiting in a stage's queue, ordered by priority, then sequence id.

    Attributes:
        priority: Lower is served first; the default is 100.
        sequence_id: Breaks ties between equal priorities, first-in first-out.
        payload: The item.
        attempt: The stage attempt this entry is for, from 1; a ``per_stage`` retry
            re-queues the item with ``attempt + 1``.
    """

    priority: int
    sequence_id: int
    payload: Payload[Any]
    attempt: int = 1

    @property
    def sort_key(self) -> tuple[int, int]:
        """The key queues order by: ``(priority, sequence_id)``."""
        return (self.priority, self.sequence_id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueueEntry):
            return NotImplemented
        return (self.sort_key, self.payload, self.attempt) == (
            other.sort_key,
            other.payload,
            other.attempt,
        )

    def __lt__(self, other: QueueEntry) -> bool:
        return self.sort_key < other.sort_key

    def __hash__(self) -> int:
        return hash((self.priority, self.sequence_id, self.attempt))

    def to_heap_item(self) -> HeapItem:
        """Return the plain tuple the runtime's heaps store."""
        return (self.priority, self.sequence_id, (self.payload, self.attempt))

    @classmethod
    def from_heap_item(cls, item: HeapItem) -> QueueEntry:
        """Rebuild an entry from a heap tuple, for inspecting a queue."""
        priority, sequence_id, (payload, attempt) = item
        return cls(priority, sequence_id, payload, attempt)
