"""What mypy says about the snippets in ``tests/typing/expectations/``, line by line.

Each snippet marks what mypy must report on a line:

* ``# R: <type>``: ``reveal_type(...)`` on that line reveals exactly ``<type>``;
* ``# E[<code>]: <text>``: mypy reports an error with that code whose message contains
  ``<text>``, and nothing else on that line (no notes, no list of overloads).

Nothing may be reported on a line that is not marked. The snippets are excluded from the
main mypy run (they hold deliberate mistakes); this test runs mypy once over all of them,
with the project's configuration, so it reuses the cache of the main run. The errors of
``builder_mistakes.py`` are also held short: the five common builder mistakes must each
read as one line.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = sorted((ROOT / "tests" / "typing" / "expectations").glob("*.py"))
MARK = re.compile(r"#\s*(?P<kind>R|E\[(?P<code>[a-z-]+)\]):\s*(?P<text>.+?)\s*$")
REPORT = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): (?P<severity>error|note): (?P<message>.*)$")
CODE = re.compile(r"\s+\[(?P<code>[a-z-]+)\]$")
MAX_MISTAKE_MESSAGE = 220
"""The longest message one of the five builder mistakes may give, in characters."""

Expected = dict[tuple[str, int], tuple[str, str | None, str]]  # (kind, code, text)
Reported = dict[tuple[str, int], list[tuple[str, str]]]  # (severity, message)


def expectations() -> Expected:
    found: Expected = {}
    for path in SNIPPETS:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            mark = MARK.search(line)
            if mark is not None:
                kind = "R" if mark["kind"] == "R" else "E"
                found[(path.name, number)] = (kind, mark["code"], mark["text"])
    return found


@pytest.fixture(scope="module")
def reported() -> Reported:
    stdout, stderr, _ = api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--no-error-summary",
            "--no-pretty",
            *(str(path.relative_to(ROOT)) for path in SNIPPETS),
        ]
    )
    assert not stderr, stderr
    lines: Reported = defaultdict(list)
    for text in stdout.splitlines():
        report = REPORT.match(text)
        assert report is not None, f"unexpected mypy output: {text}"
        lines[(Path(report["path"]).name, int(report["line"]))].append(
            (report["severity"], report["message"])
        )
    return lines


def test_there_are_snippets_with_expectations() -> None:
    marks = expectations()
    assert {name for name, _ in marks} == {path.name for path in SNIPPETS}
    assert sum(kind == "E" for kind, _, _ in marks.values()) >= 8


def test_each_marked_line_reports_what_it_says(reported: Reported) -> None:
    problems = []
    for where, (kind, code, text) in expectations().items():
        said = reported.get(where, [])
        if kind == "R":
            wanted = [("note", f'Revealed type is "{text}"')]
        else:
            errors = [m for s, m in said if s == "error"]
            match = CODE.search(errors[0]) if len(errors) == 1 else None
            if len(said) == 1 and match is not None and match["code"] == code and text in errors[0]:
                continue
            wanted = [("error", f"... {text} ...  [{code}]")]
        if said != wanted:
            problems.append(f"{where[0]}:{where[1]}: expected {wanted}, mypy said {said}")
    assert not problems, "\n".join(problems)


def test_nothing_is_reported_on_unmarked_lines(reported: Reported) -> None:
    marked = expectations()
    unexpected = {where: said for where, said in reported.items() if where not in marked}
    assert not unexpected


def test_the_five_builder_mistakes_read_as_one_short_line(reported: Reported) -> None:
    mistakes = [w for w in expectations() if w[0] == "builder_mistakes.py"]
    assert len(mistakes) == 5
    for where in mistakes:
        [(severity, message)] = reported[where]
        assert severity == "error"
        assert len(message) <= MAX_MISTAKE_MESSAGE, (where, len(message), message)
