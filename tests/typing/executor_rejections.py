"""Type-level tests of AsyncExecutor: calls a type checker must refuse.

Checked by mypy, never run. Each rejected line carries ``# type: ignore[<code>]`` and the
configuration has ``warn_unused_ignores``: if mypy stopped rejecting a line, its ignore
would be unused and the check would fail.
"""

from __future__ import annotations

from antflow import AsyncExecutor, AsyncFuture


async def fetch(url: str) -> str:
    return url


async def add(a: int, b: int) -> int:
    return a + b


async def arguments_must_fit_the_function() -> None:
    async with AsyncExecutor() as ex:
        ex.submit(fetch, 3)  # type: ignore[call-overload]
        ex.submit(fetch)  # type: ignore[call-overload]
        ex.submit(fetch, "u", verbose=True)  # type: ignore[call-arg]
        ex.map(fetch, [1, 2])  # type: ignore[arg-type]
        ex.map(add, [1], ["x"])  # type: ignore[arg-type]
        ex.map_iter(fetch, [b"raw"])  # type: ignore[arg-type]


async def results_have_the_functions_type() -> None:
    async with AsyncExecutor() as ex:
        wrong: AsyncFuture[int] = ex.submit(fetch, "u")  # type: ignore[call-overload]
        number: int = await ex.submit(fetch, "u")  # type: ignore[call-overload]
        numbers: list[int] = await ex.map(fetch, ["u"])  # type: ignore[arg-type]
        del wrong, number, numbers


async def options_are_checked() -> None:
    async with AsyncExecutor() as ex:
        ex.with_options(retrys=3)  # type: ignore[call-arg]
        ex.with_options(retries="3")  # type: ignore[arg-type]
        ex.map(fetch, ["u"], retry_delay="1s")  # type: ignore[call-overload]
        AsyncExecutor(max_workers=4, attempts=3)  # type: ignore[call-arg]
        AsyncExecutor(rate_limit=500)  # type: ignore[arg-type]
        AsyncExecutor(backoff="linear")  # type: ignore[arg-type]
        ex.with_options(retry_on="TimeoutError")  # type: ignore[arg-type]
        ex.with_options(retry_if=str.upper)  # type: ignore[arg-type]
        ex.with_options(retry_policy={"attempts": 3})  # type: ignore[arg-type]
