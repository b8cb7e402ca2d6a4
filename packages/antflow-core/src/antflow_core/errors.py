"""The exceptions antflow raises, shared by the model and the runtime.

Every error antflow raises for bad input derives from `AntFlowError` and also
from the built-in exception a caller would naturally catch (`ValueError`,
`RuntimeError`, `ImportError`), so existing ``except`` clauses keep working.
Each message names what was wrong and what to change.

The hierarchy is antflow 0.10's, extended::

    AntFlowError
    ├── PipelineError                    a pipeline or its stages were misused
    │   ├── StageValidationError         (also a ValueError)
    │   ├── UnknownStageError            (also a ValueError)
    │   ├── PipelineStateError           (also a RuntimeError)
    │   ├── FeedError                    (also a RuntimeError)
    │   └── PipelineCrashedError         (also a RuntimeError)
    ├── ExecutorShutdownError            (also a RuntimeError)
    ├── TaskTimeoutError                 (also a TimeoutError)
    ├── TaskReturnedCoroutineError       (also a TypeError)
    ├── FanOutError                      (also a PermanentError and a TypeError)
    ├── BatchResultError                 (also a PermanentError and a ValueError)
    └── ExtensionNotInstalledError       (also an ImportError)

    PermanentError                       raised by a task: give up on the item now

``AntflowError`` is another name of `AntFlowError`. `PermanentError` is not an
`AntFlowError`: a task raises it, not antflow (antflow's own `FanOutError` and
`BatchResultError` are both).
"""

from __future__ import annotations

__all__ = [
    "AntFlowError",
    "AntflowError",
    "BatchResultError",
    "ExecutorShutdownError",
    "ExtensionNotInstalledError",
    "FanOutError",
    "FeedError",
    "PermanentError",
    "PipelineCrashedError",
    "PipelineError",
    "PipelineStateError",
    "StageValidationError",
    "TaskReturnedCoroutineError",
    "TaskTimeoutError",
    "UnknownStageError",
]


class AntFlowError(Exception):
    """Base class of every error antflow raises on its own account (antflow 0.10's name)."""


AntflowError = AntFlowError
"""Another name of `AntFlowError`."""


class PipelineError(AntFlowError):
    """A pipeline, its stages or its lifecycle were used in a way that cannot work.

    The base of the errors about a pipeline's configuration and state, as in antflow 0.10:
    ``except PipelineError`` catches `StageValidationError`, `UnknownStageError`,
    `PipelineStateError`, `FeedError` and `PipelineCrashedError`.
    """


class StageValidationError(PipelineError, ValueError):
    """A `Stage` or a list of stages is invalid.

    Raised at construction (``Stage(...)``, ``Pipeline(stages=...)`` or a builder's
    ``add(...)``), never later at run time. The message lists every problem found
    and how to fix each one.
    """


class UnknownStageError(PipelineError, ValueError):
    """A stage name, such as ``feed(..., target_stage=name)``, names no stage of the pipeline.

    The message says the stage was "not found" and lists the pipeline's stages.
    """


class PipelineStateError(PipelineError, RuntimeError):
    """The pipeline is not in a state that allows the call.

    For example ``feed()`` before ``start()`` or after ``shutdown()``.
    """


class FeedError(PipelineError, RuntimeError):
    """The items iterable raised while it was being fed.

    Every item read before the error was fed and still ends as a result or a failure;
    ``fed_count`` says how many that was. The iterable's own exception is the
    ``__cause__``.
    """

    def __init__(self, message: str, *, fed_count: int) -> None:
        super().__init__(message)
        self.fed_count = fed_count


class PipelineCrashedError(PipelineError, RuntimeError):
    """A worker died of an error that is not the fault of an item.

    This means a bug in antflow or in a custom subclass; the original exception
    is the ``__cause__``. The pipeline shuts down and reports the items that had
    not finished.
    """


class TaskTimeoutError(AntFlowError, TimeoutError):
    """A task call took longer than its stage's ``task_timeout``.

    It counts as a failed attempt and is retried like any other failure.
    """


class TaskReturnedCoroutineError(AntFlowError, TypeError):
    """An ``async`` task returned a coroutine instead of a value: an ``await`` is missing.

    It fails the attempt like any other error (and is retried like one); the coroutine is
    closed so Python does not warn that it was never awaited.
    """


class PermanentError(Exception):
    """Raise it from a task to give up on the item now: it is never retried.

    Whatever the stage's ``retry``, ``task_attempts``, ``retry_on`` or ``retry_if`` say,
    the item fails at once, after the attempts made so far, with this error (chain the
    cause with ``raise PermanentError("HTTP 404") from exc`` to keep it)::

        async def fetch(url: str) -> bytes:
            response = await client.get(url)
            if response.status_code == 404:
                raise PermanentError(f"{url}: not found")  # retrying cannot help
            response.raise_for_status()  # a 503 raises an error that is retried
            return response.content

    Subclass it for your own errors that no retry can fix.
    """


class FanOutError(AntFlowError, PermanentError, TypeError):
    """A task of a ``fan_out=True`` stage returned something that is not an iterable of items.

    A fan-out stage's task returns an iterable (a list, a generator, an async generator,
    any async iterable) whose elements become the items that go on; a string, bytes, a
    mapping or a number cannot be meant. The item fails at once, never retried.
    """


class BatchResultError(AntFlowError, PermanentError, ValueError):
    """A batch stage's task did not return one result per value of its batch.

    A task of a stage with ``batch_size`` receives a list of values and must return a
    sequence (a list, a tuple) of as many results, in the same order. Every item of the
    batch fails with this error, never retried: calling again would not fix the task.
    """


class ExecutorShutdownError(AntFlowError, RuntimeError):
    """A call was submitted to an `AsyncExecutor` after its shutdown.

    Raised by ``submit()``, ``map()`` and ``map_iter()`` once ``shutdown()`` was called
    or the executor's ``async with`` block ended; the message says what to do instead.
    """


class ExtensionNotInstalledError(AntFlowError, ImportError):
    """A feature lives in an antflow package that is not installed.

    The message names the package to ``pip install``.
    """
