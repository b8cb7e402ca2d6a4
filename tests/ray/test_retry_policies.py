"""RayPipeline follows a stage's retry policy: which errors retry, and how long it waits.

The decisions are the model's, taken on the driver as for the asyncio runtime: a 404
fails after one attempt while a 503 is retried (``retry_if``), a `PermanentError` gives
up at once, and exponential waits are what the stage's `RetryPolicy` says. Fan-out and
batch stages are refused by name.
"""

from __future__ import annotations

from typing import Any

import pytest
import ray
from antflow_core import PermanentError, Stage
from antflow_core.model import RetryStrategy
from antflow_ray import RayPipeline, UnsupportedStageOptionError


class HTTPError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return (HTTPError, (self.status,))


def server_error(exc: BaseException) -> bool:
    return isinstance(exc, HTTPError) and exc.status >= 500


def shared_ledger() -> Any:
    """The session's `Ledger` actor, from inside a task (Ray's handles are untyped)."""
    return ray.get_actor("ledger")


async def fetch(path: str) -> str:
    calls = await shared_ledger().enter.remote(path)
    if path == "/missing":
        raise HTTPError(404)
    if path == "/busy" and calls < 3:
        raise HTTPError(503)
    if path == "/gone":
        raise PermanentError("gone for good")
    return f"page {path}"


@pytest.mark.parametrize("retry", ["per_task", "per_stage"])
async def test_a_404_fails_at_once_while_a_503_is_retried_on_ray(
    retry: RetryStrategy, ledger: Any
) -> None:
    stage = Stage(
        "Fetch",
        workers=2,
        tasks=[fetch],
        retry=retry,
        task_attempts=4,
        stage_attempts=4,
        task_wait_seconds=0.001,
        backoff="exponential",
        max_wait_seconds=0.004,
        retry_if=server_error,
    )
    pipeline = RayPipeline([stage])
    results = await pipeline.run(["/missing", "/busy", "/gone", "/ok"])
    assert [r.value for r in results] == ["page /busy", "page /ok"]
    failed = {f.value: (type(f.error).__name__, f.attempts) for f in pipeline.failures}
    assert failed == {"/missing": ("HTTPError", 1), "/gone": ("PermanentError", 1)}
    calls = (await ledger.snapshot.remote())["calls"]
    assert calls == {"/missing": 1, "/busy": 3, "/gone": 1, "/ok": 1}


def test_fan_out_and_batch_stages_are_refused_by_name() -> None:
    for options in ({"fan_out": True}, {"batch_size": 10}):
        with pytest.raises(UnsupportedStageOptionError, match="which RayPipeline does not"):
            RayPipeline([Stage("S", tasks=[abs], **options)])
