"""Each package's README renders on the package index as it reads in the repository.

The long description of a distribution is its README, shown by the index on its own,
away from the repository: a link relative to the repository (``../../README.md``) goes
nowhere there, and a table split by a paragraph shows its last rows as literal pipes.
Each README is rendered here with readme_renderer, the renderer the index and ``twine
check`` use, and the HTML is checked for both.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import readme_renderer.markdown
import workspace

PACKAGES = workspace.packages()
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_RULE = re.compile(r"^\s*\|[\s:|-]+\|\s*$")


class Links(HTMLParser):
    """The ``href`` and ``src`` of every element, and the number of table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.rows += tag == "tr"
        self.targets += [v for k, v in attrs if k in {"href", "src"} and v is not None]


def markdown_table_rows(text: str) -> int:
    """The rows (header included, rule excluded) of the Markdown tables outside code."""
    rows, in_code = 0, False
    for line in text.splitlines():
        if FENCE.match(line):
            in_code = not in_code
        elif not in_code and TABLE_ROW.match(line) and not TABLE_RULE.match(line):
            rows += 1
    return rows


def rendered(package: workspace.Package) -> tuple[str, Links]:
    text = (package.directory / "README.md").read_text(encoding="utf-8")
    html = readme_renderer.markdown.render(text)
    assert html is not None, f"packages/{package.name}/README.md does not render"
    parser = Links()
    parser.feed(html)
    return text, parser


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_link_of_a_readme_works_away_from_the_repository(
    package: workspace.Package,
) -> None:
    _, links = rendered(package)
    relative = [t for t in links.targets if not re.match(r"(https?://|mailto:|#)", t)]
    assert relative == [], (
        f"packages/{package.name}/README.md links relative to the repository: {relative}; "
        f"write absolute URLs under {workspace.settings()['repository']}"
    )


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_every_table_row_of_a_readme_renders_as_a_row(package: workspace.Package) -> None:
    text, links = rendered(package)
    assert links.rows == markdown_table_rows(text), (
        f"packages/{package.name}/README.md: a table row renders as text (a table split "
        "by a paragraph or a blank line?)"
    )


def test_the_checks_catch_a_relative_link_and_a_split_table() -> None:
    text = "See [the guide](../../docs/index.md).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n| 3 | 4 |\n"
    html = readme_renderer.markdown.render(text)
    assert html is not None
    links = Links()
    links.feed(html)
    assert links.targets == ["../../docs/index.md"]
    assert (links.rows, markdown_table_rows(text)) == (2, 3)
