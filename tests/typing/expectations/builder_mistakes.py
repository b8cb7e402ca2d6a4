"""The five common builder mistakes: each must give one short error that says what to change.

``tests/checkers/test_type_expectations.py`` checks the code and message of each and that
mypy says nothing more on its line (no list of overloads): before the overloads were
rewritten, the string task printed 126 lines (110 KB).
"""

from __future__ import annotations

from antflow import Pipeline


async def fetch(url: str) -> bytes:
    return url.encode()


def describe(n: int) -> str:
    return str(n)


async def shout(text: str) -> str:
    return text.upper()


def add(a: int, b: int) -> int:
    return a + b


async def mistakes() -> None:
    start = Pipeline.create().add("Fetch", fetch)  # outputs bytes
    # 1. A stage whose task does not take the previous stage's output.
    start.add("Describe", describe)  # E[arg-type]: incompatible type "Callable[[int], str]"; expected "Callable[[bytes], TaskOutput]"
    # 2. Two tasks of one stage that do not chain (fetch returns bytes, shout takes str).
    Pipeline.create().add("Both", fetch, shout)  # E[misc]: Cannot infer value of type parameter "Task1Output" of "add"
    # 3. A function of two arguments.
    Pipeline.create().add("Add", add)  # E[arg-type]: incompatible type "Callable[[int, int], int]"; expected "Callable[[int], TaskOutput]"
    # 4. A string instead of the function.
    start.add("Y", "fetch")  # E[arg-type]: incompatible type "str"; expected "Sequence[Callable[..., Any]]"
    # 5. Items of the wrong type.
    await start.run([1])  # E[list-item]: List item 0 has incompatible type "int"; expected "str | KeyedItem[str] | Mapping[str, Any]"
