"""Every Python block of the documentation compiles, and every complete program runs.

The blocks are the fenced ```` ```python ```` blocks of ``docs/**/*.md``, of the root
``README.md`` and of the umbrella package's README (``packages/antflow/README.md``).
Blocks nested in admonitions or tabs count too. A line ``--8<-- "path"`` in a block (the
snippets syntax the site uses to include a file, such as an example script) is replaced
by that file, as the site shows it.

The rules, so the documentation cannot drift from the code:

* **Every block compiles** (top-level ``await`` allowed, as in a notebook or the asyncio
  REPL).
* **A block that defines every name it uses is a complete program**, and is run with
  this interpreter in a fresh process, from an empty directory; it must exit with status
  0 within the timeout. "Defines" means imports, assigns, or declares with ``def`` or
  ``class``; builtins count as defined. A block that uses a name it does not define (a
  fragment such as ``Stage("Fetch", workers=10, tasks=[fetch])``), or that uses top-level
  ``await``, is only compiled.
* A block that calls ``asyncio.run(`` or tests ``__name__ == "__main__"`` says it is a
  program: it must be complete by the rule above, so a typo cannot quietly turn a
  program into a fragment that is never run.
* **Expected output**: a ```` ```text title="Output" ```` block right after a program is
  what the program must print on standard output, exactly (trailing spaces ignored).
* **Opting out**: a program that must not run here (it would serve forever, or needs a
  network) starts with the line ``# docs: not run: <reason>``. The marker is visible in
  the rendered page, needs a reason, and is counted below. Use it rarely.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import subprocess
import symtable
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [
        *(ROOT / "docs").rglob("*.md"),
        ROOT / "README.md",
        ROOT / "packages" / "antflow" / "README.md",
    ]
)
NOT_RUN = re.compile(r"#\s*docs:\s*not run:\s*(?P<reason>\S.*)")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
SNIPPET = re.compile(r'^(?P<indent>[ \t]*)--8<--\s+"(?P<path>[^"]+)"\s*$')
TIMEOUT = 60
MAX_PARALLEL = 6  # the programs mostly sleep: more processes than cores is fine


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, from 1
    language: str
    info: str
    source: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def fenced_blocks(page: Path) -> Iterator[Block]:
    """Yield the fenced blocks of a Markdown page, dedented, snippets expanded."""
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence, info = opening["indent"], opening["fence"], opening["info"].strip()
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            closing = FENCE.match(lines[end])
            if (
                closing is not None
                and closing["fence"].startswith(fence[0] * len(fence))
                and not closing["info"].strip()
            ):
                break
            body.append(lines[end][len(indent) :] if lines[end].startswith(indent) else "")
            end += 1
        else:
            raise AssertionError(f"{page.relative_to(ROOT)}:{index + 1}: unclosed code fence")
        language = info.split(maxsplit=1)[0].lower() if info else ""
        yield Block(page, index + 1, language, info, expand_snippets("\n".join(body)) + "\n")
        index = end + 1


def expand_snippets(source: str) -> str:
    out: list[str] = []
    for line in source.splitlines():
        include = SNIPPET.match(line)
        if include is None:
            out.append(line)
            continue
        text = (ROOT / include["path"]).read_text(encoding="utf-8")
        out.extend(include["indent"] + part for part in text.splitlines())
    return "\n".join(out)


def undefined_names(source: str) -> set[str]:
    """The global names ``source`` reads but never binds (builtins excepted)."""
    module = symtable.symtable(source, "<block>", "exec")
    bound = {s.get_name() for s in module.get_symbols() if s.is_assigned() or s.is_imported()}
    read: set[str] = set()

    def walk(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (table is module or symbol.is_global()):
                read.add(symbol.get_name())
        for child in table.get_children():
            walk(child)

    walk(module)
    return read - bound - set(dir(builtins))


def uses_top_level_await(source: str) -> bool:
    try:
        compile(source, "<block>", "exec", dont_inherit=True)
    except SyntaxError:
        return True  # it compiled with PyCF_ALLOW_TOP_LEVEL_AWAIT, see test_every_block_compiles
    return False


def claims_to_be_a_program(source: str) -> bool:
    main_guard = re.search(r"__name__\s*==\s*['\"]__main__['\"]", source)
    return "asyncio.run(" in source or main_guard is not None


def is_program(block: Block) -> bool:
    if NOT_RUN.match(block.source.lstrip()):
        return False
    return not uses_top_level_await(block.source) and not undefined_names(block.source)


def is_output(block: Block) -> bool:
    return block.language == "text" and re.search(r'title="Output"', block.info) is not None


def collect() -> tuple[list[Block], list[Block], dict[str, str]]:
    """All Python blocks, the programs among them, and each program's expected output."""
    python: list[Block] = []
    programs: list[Block] = []
    expected: dict[str, str] = {}
    for page in PAGES:
        previous: Block | None = None
        for block in fenced_blocks(page):
            if block.language in {"python", "py"}:
                python.append(block)
                if is_program(block):
                    programs.append(block)
            elif is_output(block):
                message = f'{block.name}: a ```text title="Output"``` block must follow a program'
                assert previous is not None, message
                assert is_program(previous), message
                expected[previous.name] = block.source
            previous = block
    return python, programs, expected


PYTHON_BLOCKS, PROGRAMS, EXPECTED = collect()


def run_program(block: Block, directory: Path) -> subprocess.CompletedProcess[str]:
    script = directory / (re.sub(r"\W+", "_", block.name) + ".py")
    script.write_text(block.source, encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=directory,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def program_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run the selected programs side by side, once; keyed by block name."""
    wanted = {
        id(item.callspec.params["block"])
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_program_runs"
        and hasattr(item, "callspec")
    }
    selected = [block for block in PROGRAMS if id(block) in wanted]
    directory = tmp_path_factory.mktemp("docs-programs")
    # A program that starts Ray takes both cores for seconds: it runs after the others,
    # alone, so it cannot starve a program whose output depends on timing.
    light = [block for block in selected if "antflow_ray" not in block.source]
    with ThreadPoolExecutor(max_workers=MAX_PARALLEL) as pool:
        runs = pool.map(lambda block: run_program(block, directory), light)
        done = {block.name: run for block, run in zip(light, runs, strict=True)}
    for block in selected:
        if block.name not in done:
            done[block.name] = run_program(block, directory)
    return done


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.name)
def test_every_block_compiles(block: Block) -> None:
    compile(block.source, block.name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if claims_to_be_a_program(block.source) and not NOT_RUN.match(block.source.lstrip()):
        assert not uses_top_level_await(block.source), f"{block.name}: top-level await"
        missing = undefined_names(block.source)
        assert not missing, f"{block.name} calls asyncio.run but never defines {sorted(missing)}"


@pytest.mark.parametrize("block", PROGRAMS, ids=lambda b: b.name)
def test_program_runs(
    block: Block, program_runs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    run = program_runs[block.name]
    assert run.returncode == 0, f"{block.name} exited with {run.returncode}:\n{run.stderr}"
    if block.name in EXPECTED:
        printed = [line.rstrip() for line in run.stdout.strip("\n").splitlines()]
        wanted = [line.rstrip() for line in EXPECTED[block.name].strip("\n").splitlines()]
        assert printed == wanted, f"{block.name} printed:\n{run.stdout}"


def test_opt_outs_give_a_reason_and_stay_rare() -> None:
    marked = [b for b in PYTHON_BLOCKS if "docs: not run" in b.source]
    for block in marked:
        assert NOT_RUN.match(block.source.lstrip()), f"{block.name}: the marker needs a reason"
    assert len(marked) <= 2, [b.name for b in marked]


def test_every_guide_page_runs_at_least_one_program() -> None:
    guide = sorted((ROOT / "docs" / "guide").glob("*.md"))
    assert guide
    without = [
        page.name
        for page in guide
        if page.name != "best-practices.md" and not any(b.page == page for b in PROGRAMS)
    ]
    assert not without, f"guide pages with no executed program: {without}"


def test_links_to_examples_point_to_existing_scripts() -> None:
    linked: set[str] = set()
    for page in PAGES:
        linked.update(re.findall(r"examples/([\w-]+\.py)", page.read_text(encoding="utf-8")))
    assert linked
    missing = sorted(name for name in linked if not (ROOT / "examples" / name).is_file())
    assert not missing, f"the docs link to examples that do not exist: {missing}"
