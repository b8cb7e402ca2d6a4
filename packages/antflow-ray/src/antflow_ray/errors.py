"""The exceptions antflow-ray adds to those of `antflow_core.errors`.

Each derives from `antflow_core.errors.AntFlowError` (the stage check from its
`PipelineError`, as `StageValidationError` does) and from the built-in exception a caller
would naturally catch, and its message names what to change.
"""

from __future__ import annotations

from antflow_core.errors import AntFlowError, PipelineError

__all__ = [
    "ActorStartError",
    "ItemNotSerializableError",
    "RemoteTaskError",
    "TaskNotSerializableError",
    "UnsupportedStageOptionError",
    "ValueNotSerializableError",
]


class UnsupportedStageOptionError(PipelineError, ValueError):
    """A `Stage` sets an option that `RayPipeline` cannot honour.

    Raised by the ``RayPipeline`` constructor, before anything starts. The message names
    the stage and the option.
    """


class TaskNotSerializableError(AntFlowError, TypeError):
    """A task (or ``skip_if``) cannot be pickled, so it cannot be sent to a Ray actor.

    Raised by the ``RayPipeline`` constructor, before any item runs. The message names the
    stage, the function and what could not be pickled.
    """


class ActorStartError(AntFlowError, RuntimeError):
    """The Ray actors of a stage could not be created (raised by ``start()``).

    Typically the cluster cannot import the module a task lives in, or the actor asked
    for resources no node has. The cause is chained.
    """


class ItemNotSerializableError(AntFlowError, TypeError):
    """A fed item cannot be pickled, so it cannot be sent to a Ray actor.

    It is not raised: the item fails at the stage it was fed to, with this error in its
    `FailedItem` (and ``attempts`` 0: no task was called). The rest of the feed goes on.
    """


class ValueNotSerializableError(AntFlowError, TypeError):
    """A task returned a value that Ray cannot serialise to pass it on.

    It is not raised: it is the error of that task call, retried like any other failure.
    """


class RemoteTaskError(AntFlowError, RuntimeError):
    """A task raised an exception that cannot be pickled back to the driver.

    It stands in for that exception in a `FailedItem` (and in retry events); its message
    holds the original type, message and the remote traceback.

    Attributes:
        error_type: The class name of the original exception.
    """

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type

    def __reduce__(self) -> tuple[type[RemoteTaskError], tuple[str, str]]:
        return (type(self), (str(self), self.error_type))
