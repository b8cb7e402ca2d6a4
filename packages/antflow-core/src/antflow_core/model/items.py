"""What a pipeline is fed, for type checkers: `KeyedItem`, `Items` and the value types.

A pipeline is ``Pipeline[InT, OutT]``: its first stage takes ``InT`` values and its last
stage returns ``OutT`` values. Both type variables default to ``Any`` (typing-extensions'
TypeVar defaults), so a pipeline whose types are not known, or written before they were,
is ``Pipeline[Any, Any]`` and accepts anything, as it always did.

An item is fed either as its value (an ``InT``) or as a dict that gives it its own id,
``{"id": "user_1", "value": ...}``, and maybe metadata: the pipeline unwraps such a dict
(see `prepare_payload`). `Item` is either form; `Items` is what ``run()`` and ``stream()``
accept: items in an iterable or an async iterable.

A checker sees a dict item as a `KeyedItem` when it can (a dict literal with ``"id"`` and
``"value"`` keys, or a variable annotated so), and then checks its ``value``. A dict it
cannot read that way (one with metadata keys, since mypy does not yet read TypedDicts
open to extra keys, or a ``dict[str, ...]`` built elsewhere) is accepted as any
``Mapping[str, Any]``, as the pipeline accepts it: what matters at run time is its
``"value"`` key.

Nothing here exists for the runtime: these are annotations, and checking them costs
nothing per item.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Generic, NotRequired, TypeAlias

from typing_extensions import TypedDict, TypeVar

__all__ = ["InT", "Item", "Items", "KeyedItem", "OutT", "T"]

T = TypeVar("T", default=Any)
"""An item's value type (``Any`` when not given)."""

InT = TypeVar("InT", default=Any)
"""What a pipeline's (or a stage's) first task takes: the type of the items' values."""

OutT = TypeVar("OutT", default=Any)
"""What a pipeline's (or a stage's) last task returns: the type of its results' ``value``."""


class KeyedItem(TypedDict, Generic[T]):
    """An item that carries its own id: ``{"id": "user_1", "value": {"name": "Alice"}}``.

    The pipeline's first task receives ``value``; results, failures and events carry
    ``id`` (without one, the item's position is its id).

    A dict item may carry more keys, its metadata (``{"id": 3, "value": "a.txt",
    "bucket": "logs"}``). mypy does not yet read TypedDicts open to extra keys (PEP 728),
    so such a dict is not a `KeyedItem` to it; it is accepted all the same, as a
    ``Mapping[str, Any]`` (see `Item`).

    Attributes:
        id: The item's id, used in results, failures and status events.
        value: The value the first task receives.
    """

    id: NotRequired[Any]
    value: T


Item: TypeAlias = T | KeyedItem[T] | Mapping[str, Any]
"""One item for a pipeline whose first task takes ``T``: a ``T`` value, or a dict that
gives it an id (and metadata), checked as a `KeyedItem` where the checker can."""

Items: TypeAlias = Iterable[Item[T]] | AsyncIterable[Item[T]]
"""Items for a pipeline whose first task takes ``T``: `Item` values in an iterable or an
async iterable."""
