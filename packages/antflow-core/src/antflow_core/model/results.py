"""What an item ends as: a `PipelineResult` or a `FailedItem`, and its `returns` Result.

Every item fed to a pipeline ends exactly once. It either leaves the last stage as a
`PipelineResult`, or a stage gives up on it and it becomes a `FailedItem` carrying the
error. `ItemOutcome` joins the two as ``Success(PipelineResult)`` or
``Failure(FailedItem)``, so a caller can match on an outcome instead of catching.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeAlias

from returns.result import Failure, Success
from typing_extensions import TypeVar

from antflow_core.model.payload import NO_METADATA, Payload, _fields_repr

__all__ = [
    "FailedItem",
    "ItemOutcome",
    "PipelineResult",
    "describe_error",
    "failed_outcome",
    "order_by_sequence",
    "succeeded_outcome",
]

T = TypeVar("T", default=Any)
T_co = TypeVar("T_co", covariant=True, default=Any)


@dataclass(frozen=True, slots=True)
class PipelineResult(Generic[T]):
    """An item that went through every stage.

    Attributes:
        id: The item's id (see `Payload.id`).
        value: What the last stage returned for it (or its value, if it skipped that stage).
        sequence_id: Its position in feeding order; ``run()`` returns results sorted by it.
        metadata: The item's metadata: the extra keys of a dict item (see
            `Payload.metadata`), empty otherwise.
    """

    id: Any
    value: T
    sequence_id: int
    metadata: Mapping[str, Any] = field(default_factory=lambda: NO_METADATA, hash=False)

    def __repr__(self) -> str:
        return _fields_repr(self, ("id", "value", "sequence_id"))

    @property
    def error(self) -> None:
        """Always None: a result is an item that succeeded (failures are `FailedItem`)."""
        return None

    @property
    def is_success(self) -> Literal[True]:
        """Always True, as for antflow 0.10 results that ``run()`` returns."""
        return True

    @classmethod
    def from_payload(cls, payload: Payload[T]) -> PipelineResult[T]:
        """Return the result of an item that left the last stage as ``payload``."""
        return cls.of(payload, payload.value)

    @classmethod
    def of(cls, payload: Payload[Any], value: T) -> PipelineResult[T]:
        """Return the result of ``payload``'s item whose last stage returned ``value``."""
        result: PipelineResult[T] = _new(cls)
        _set_id(result, payload.id)
        _set_value(result, value)
        _set_sequence(result, payload.sequence_id)
        _set_metadata(result, payload.metadata)
        return result


# from_payload runs once per item: skip the frozen dataclass's generic __init__.
_new = object.__new__
_set_id = PipelineResult.__dict__["id"].__set__
_set_value = PipelineResult.__dict__["value"].__set__
_set_sequence = PipelineResult.__dict__["sequence_id"].__set__
_set_metadata = PipelineResult.__dict__["metadata"].__set__


@dataclass(frozen=True, slots=True)
class FailedItem(Generic[T_co]):
    """An item that a stage gave up on after all its attempts.

    For a type checker it is ``FailedItem[T]``, ``T`` the type of the failing stage's
    input: a ``Stage[str, int]``'s ``on_failure`` receives a ``FailedItem[str]``. A
    pipeline's `failures` may come from any stage, so they are ``FailedItem[Any]``
    (which a bare ``FailedItem`` means).

    Attributes:
        id: The item's id.
        value: The value the failing stage received (the input to retry it with).
        error: The exception of the last attempt.
        stage: The name of the stage that gave up.
        attempts: How many attempts were made: task attempts with ``per_task``, stage
            attempts with ``per_stage``.
        sequence_id: Its position in feeding order.
        metadata: The item's metadata (see `Payload.metadata`).
    """

    id: Any
    value: T_co
    error: BaseException
    stage: str
    attempts: int
    sequence_id: int
    metadata: Mapping[str, Any] = field(default_factory=lambda: NO_METADATA, hash=False)

    def __repr__(self) -> str:
        return _fields_repr(self, ("id", "value", "error", "stage", "attempts", "sequence_id"))

    @property
    def item_id(self) -> Any:
        """The item's id (`id`), under the name error-summary records use."""
        return self.id

    @property
    def is_success(self) -> Literal[False]:
        """Always False: the item failed."""
        return False

    @property
    def error_type(self) -> str:
        """The class name of the error, e.g. ``"TimeoutError"``."""
        return type(self.error).__name__

    @property
    def error_message(self) -> str:
        """The error as text, the class name when it has no message (see `describe_error`)."""
        return describe_error(self.error)


def describe_error(error: BaseException) -> str:
    """Return an exception as text, without ever raising.

    That is ``str(error)``, or the class name when the exception has no message. An
    exception whose ``__str__`` raises (or returns something that is not a string) is
    described by its class name and what ``str()`` raised, so an error that cannot be
    printed is still just the failure of its item.

    Example:
        ```python
        describe_error(ValueError("bad id"))  # 'bad id'
        describe_error(TimeoutError())  # 'TimeoutError'
        ```
    """
    try:
        text = str(error)
    except BaseException as broken:  # the __str__ of user code, whatever it raises
        return (
            f"{type(error).__name__} (its message cannot be shown: "
            f"str() raised {type(broken).__name__})"
        )
    return text or type(error).__name__


ItemOutcome: TypeAlias = Success[PipelineResult[T]] | Failure[FailedItem[Any]]
"""How an item ended: ``Success(PipelineResult)`` or ``Failure(FailedItem)``.

``ItemOutcome[T]`` for a pipeline whose results are ``T`` (a bare ``ItemOutcome`` is
``ItemOutcome[Any]``). Both are `returns` Results (``Success`` and ``Failure`` subclass
``Result``); written as their union, a ``match`` with a ``case`` for each is exhaustive
to a type checker.
"""


def succeeded_outcome(result: PipelineResult[T]) -> ItemOutcome[T]:
    """Wrap a result as an `ItemOutcome`."""
    return Success(result)


def failed_outcome(failed: FailedItem[Any]) -> ItemOutcome[Any]:
    """Wrap a failure as an `ItemOutcome`."""
    return Failure(failed)


class _Sequenced(Protocol):
    @property
    def sequence_id(self) -> int: ...


S = TypeVar("S", bound=_Sequenced)


def order_by_sequence(items: Iterable[S]) -> list[S]:
    """Return ``items`` sorted by feeding order (``sequence_id``): the order ``run()`` promises."""
    return sorted(items, key=_sequence_key)


def _sequence_key(item: _Sequenced) -> int:
    return item.sequence_id
