"""antflow 0.10's stage callbacks run unchanged.

0.10 calls ``on_success(item_id, result, metadata)`` and ``on_failure(item_id, error,
metadata)``, plain or ``async``. Written as a 0.10 program: imports from
``antflow.pipeline``, callbacks of three arguments.
"""

from __future__ import annotations

from typing import Any

from antflow.pipeline import Pipeline, Stage


async def test_async_on_success_and_plain_on_failure_get_item_id_value_and_metadata() -> None:
    succeeded: list[tuple[Any, Any, dict[str, Any]]] = []
    failed: list[tuple[Any, str, dict[str, Any]]] = []

    async def on_success(item_id: Any, result: Any, metadata: dict[str, Any]) -> None:
        succeeded.append((item_id, result, metadata))

    def on_failure(item_id: Any, error: Exception, metadata: dict[str, Any]) -> None:
        failed.append((item_id, str(error), metadata))

    async def process(x: int) -> int:
        if x == 2:
            raise ValueError("two is not allowed")
        return x * 10

    stage = Stage(
        name="Process",
        workers=2,
        tasks=[process],
        task_attempts=1,
        on_success=on_success,
        on_failure=on_failure,
    )
    pipeline = Pipeline(stages=[stage])
    results = await pipeline.run([{"id": "a", "value": 1, "source": "s3"}, 0, 2])

    assert [r.value for r in results] == [10, 0]
    assert sorted(succeeded, key=lambda call: str(call[0])) == [
        (1, 0, {}),
        ("a", 10, {"source": "s3"}),
    ]
    assert failed == [(2, "two is not allowed", {})]


async def test_plain_on_success_and_async_on_failure_in_a_multi_stage_pipeline() -> None:
    calls: list[str] = []

    def log_success(item_id, result, metadata):  # type: ignore[no-untyped-def]  # 0.10 style
        calls.append(f"{item_id}: {result}")

    async def log_failure(item_id, error, metadata):  # type: ignore[no-untyped-def]
        calls.append(f"{item_id} failed: {type(error).__name__}")

    async def fetch(x: int) -> str:
        if x == 1:
            raise TimeoutError
        return f"page {x}"

    async def save(page: str) -> int:
        return len(page)

    pipeline = Pipeline(
        stages=[
            Stage(
                "Fetch", 2, [fetch], task_attempts=2, task_wait_seconds=0, on_failure=log_failure
            ),
            Stage("Save", 1, [save], on_success=log_success),
        ]
    )
    await pipeline.run(range(3))
    assert sorted(calls) == ["0: 6", "1 failed: TimeoutError", "2: 6"]
