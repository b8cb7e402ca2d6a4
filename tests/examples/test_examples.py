"""Every script in ``examples/`` runs as a user runs it and does what its docstring says.

Each example is started as ``python examples/<name>.py`` (with this interpreter, output
piped) and must exit with status 0 within the timeout. Its output is then checked for
the lines that show it worked: not only that it printed something, but the numbers the
example exists to demonstrate (at most 2 uploads at once, priorities served in order,
bounded queues...). A new example needs an entry in ``CHECKS``; the test fails until it
has one.

The examples run side by side (they mostly sleep), once per session.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(path.name for path in (ROOT / "examples").glob("*.py"))
TIMEOUT = 60


def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found is not None, f"no line matches {pattern!r} in:\n{text}"
    return int(found.group(1))


def all_numbers(pattern: str, text: str) -> list[int]:
    return [int(n) for n in re.findall(pattern, text)]


def check_async_executor(out: str) -> None:
    assert "crawled 198 of 200 pages, 20 at a time" in out
    assert "most requests at once: 20" in out  # max_workers holds
    assert "retried and recovered: 8 pages [7, 32, 57, 82, 107, 132, 157, 182]" in out
    assert (
        "failed for good after 1 attempt(s), a 404 is not retried: HTTPError('404 on page-13') "
        "HTTPError('404 on page-113')" in out
    )
    assert "sizes of pages 20-29, in input order: [133, 134, 135, 136" in out
    assert "fastest mirror: mirror-b; cancelled: 2" in out
    ahead = number(r"streamed 1000 ids, at most (\d+) calls ahead of the consumer", out)
    assert ahead <= 40, out


def check_backpressure(out: str) -> None:
    bounded = number(r"default limits .*: at most (\d+) items in flight", out)
    unbounded = number(r"unbounded queues: at most (\d+) items in flight", out)
    # 4 + 2 workers, queues of 40 and 20: never more than 66 items inside
    assert bounded <= 66, out
    assert unbounded > 200, out


def check_batch_jobs(out: str) -> None:
    assert out.count("200/200 downloaded, most jobs in flight: 50,") == 2, out
    pull = number(r"pull stage  : .* waiting in front of Batch: (\d+)", out)
    queued = number(r"queued stage: .* waiting in front of Batch: (\d+)", out)
    assert pull == 0, out  # a pull stage has no queue: nothing prepared waits for it
    assert queued > 0, out


def check_batch_insert(out: str) -> None:
    assert "230 rows inserted with 6 calls" in out
    assert "batch sizes: [50, 50, 50, 50, 50, 30] (one failed and was retried)" in out
    assert "row ids: True" in out
    assert "Insert stats: 230 completed, 50 retried" in out  # rows, not batches
    assert "tracker: 230 rows completed" in out


def check_crawler(out: str) -> None:
    assert "crawled 500 pages: 499 saved, 1 failed" in out
    assert "/page/137: HTTP 404 after 1 attempt" in out  # a 404 is not retried
    assert "each page fetched once: True; /page/42 twice (one retry)" in out
    assert "each page saved once: True" in out
    assert "1 fed + 998 made by fan-out = 499 results + 1 failed + 499 expanded" in out


def check_custom_runtime(out: str) -> None:
    assert out.count("same outcomes as antflow's asyncio Pipeline: True") == 2, out
    assert "#2 failed at Price after 2 attempts: ConnectionError" in out
    assert "conformance kit: passed 100 scenarios" in out


def check_etl(out: str) -> None:
    assert "ETL: 60 records, 57 through, 3 failed" in out
    assert "loaded into the warehouse: 53" in out
    assert "tracker: 53 completed, 4 skipped, 3 failed" in out
    assert "errors by type: {'ValueError': 3}" in out


def check_interactive_feeding(out: str) -> None:
    assert re.search(r"checkpoint-1\s+indexed: example\.org old 1", out), out
    assert re.search(r"8\s+indexed: example\.org live 2", out), out
    # the two checkpoint items skipped Download: 7 downloaded, 9 indexed
    assert "9 indexed; 7 downloaded, 9 through Index" in out


def check_openai_batch_limits(out: str) -> None:
    assert all_numbers(r"most uploads at once:\s+(\d+)", out) == [2, 2], out
    two_stages, one_stage = all_numbers(r"most active jobs at the API:\s+(\d+)", out)
    unwatched = all_numbers(r"most active jobs nobody polled:\s+(\d+)", out)
    assert two_stages > 50, out  # the queue slot and blocked uploaders add jobs
    assert one_stage == 50, out
    assert unwatched[0] > 0, out
    assert unwatched[1] == 0, out
    assert out.count("70/70 jobs done") == 2, out


def check_otel_console(out: str) -> None:
    assert "crawled 7 pages, 1 failed (tracker)" in out
    spans = re.findall(r"^span trace=(\w+) (\S+(?: \S+)?)\s+[\d.]+ ms  (.*)$", out, re.MULTILINE)
    items = {details.split()[0]: trace for trace, name, details in spans if name == "antflow.item"}
    assert sorted(items) == sorted(
        f"item.id={page}"
        for page in ["home", "about", "flaky", "broken", "skip", "blog", "docs", "faq"]
    ), out
    assert len(set(items.values())) == 8, "one trace per item"
    # the user's GET span is in its item's trace, 8 pages + 1 retry + 1 failed retry
    gets = [trace for trace, name, _ in spans if name.startswith("GET ")]
    assert len(gets) == 10, out
    assert set(gets) == set(items.values()), out
    assert "item.id=flaky attempt=1 outcome=retried error.type=ConnectionError" in out
    assert "item.id=flaky attempt=2 outcome=completed" in out
    assert re.search(r"antflow.item +[\d.]+ ms  item.id=broken outcome=failed", out), out
    assert re.search(r"antflow.stage Parse +[\d.]+ ms  item.id=skip outcome=skipped", out), out
    assert "metric antflow.items.completed{antflow.stage='Fetch'} 7" in out
    assert "metric antflow.items.completed{antflow.stage='Parse'} 6" in out
    assert "metric antflow.items.retried{antflow.stage='Fetch'} 2" in out
    assert "metric antflow.items.skipped{antflow.stage='Parse'} 1" in out
    assert "metric antflow.items.in_flight{} 0" in out


def check_priorities(out: str) -> None:
    served = re.findall(r"^\s+\d+\. (\S+)$", out, flags=re.MULTILINE)
    assert served == [
        "first",
        "vip-1",
        "vip-2",
        "ticket-1",
        "ticket-2",
        "maint-1",
        "maint-2",
        "maint-3",
    ], out


def check_quickstart(out: str) -> None:
    assert "300 pages through Fetch -> Process -> Save" in out
    assert "failed for good: 3" in out
    assert "processed 297, failed 3, in flight 0" in out


def check_ray_pipeline(out: str) -> None:
    assert "40 documents: 36 stored, 4 refused" in out
    assert re.search(r"first: [0-9a-f]{12} report 1$", out, flags=re.MULTILINE), out
    assert "refused: [0, 10, 20, 30]" in out
    assert "PermissionError after 2 attempts: refused to store 'secret plan 0'" in out
    assert "retries at Store: 4" in out
    assert "tracker: 36 completed, 4 failed" in out
    assert "actors per stage: {'Fingerprint': 2, 'Store': 1}" in out


def check_rich_callback_dashboard(out: str) -> None:
    assert re.search(r"orders: 80 items in [\d.]+s .*: 74 succeeded, 6 failed", out), out


def check_rich_polling_dashboard(out: str) -> None:
    assert re.search(r"batches: 60 items in [\d.]+s .*: 58 succeeded, 2 failed", out), out


def check_streaming(out: str) -> None:
    assert "stream(): 19 thumbnails" in out
    assert "pipeline.failures: [13]" in out
    assert "stream_outcomes(): 19 succeeded, 1 failed" in out


def check_worker_tracking(out: str) -> None:
    assert "22 geocoded, 2 failed" in out
    assert "order-0 was handled by Geocode-W0" in out
    done = all_numbers(r"Geocode-W\d: (\d+) done", out)
    assert len(done) == 3, out
    assert sum(done) == 22, out
    assert "idle after the run: 3 of 3 workers" in out


CHECKS: dict[str, Callable[[str], None]] = {
    "async_executor.py": check_async_executor,
    "backpressure.py": check_backpressure,
    "batch_jobs.py": check_batch_jobs,
    "batch_insert.py": check_batch_insert,
    "crawler.py": check_crawler,
    "custom_runtime.py": check_custom_runtime,
    "etl.py": check_etl,
    "interactive_feeding.py": check_interactive_feeding,
    "openai_batch_limits.py": check_openai_batch_limits,
    "otel_console.py": check_otel_console,
    "priorities.py": check_priorities,
    "quickstart.py": check_quickstart,
    "ray_pipeline.py": check_ray_pipeline,
    "rich_callback_dashboard.py": check_rich_callback_dashboard,
    "rich_polling_dashboard.py": check_rich_polling_dashboard,
    "streaming.py": check_streaming,
    "worker_tracking.py": check_worker_tracking,
}


# Examples run after the others, one at a time: starting a local Ray and its CPU-bound
# actors takes both cores for seconds, which would starve the examples that measure
# concurrency (openai_batch_limits.py counts jobs active at once).
ALONE = frozenset({"ray_pipeline.py"})


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def example_runs(request: pytest.FixtureRequest) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run the selected examples side by side, once."""
    wanted = [
        str(item.callspec.params["name"])
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_example_runs"
        and hasattr(item, "callspec")
    ]
    light = [name for name in wanted if name not in ALONE]
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = dict(zip(light, pool.map(run_example, light), strict=True))
    runs.update((name, run_example(name)) for name in wanted if name in ALONE)
    return runs


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs(name: str, example_runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert name in CHECKS, f"examples/{name} has no entry in CHECKS: say what its output shows"
    run = example_runs[name]
    assert run.returncode == 0, f"examples/{name} exited with {run.returncode}:\n{run.stderr}"
    assert "\x1b[" not in run.stdout, "piped output must be plain text"
    CHECKS[name](run.stdout)


def test_every_check_has_an_example() -> None:
    assert sorted(CHECKS) == EXAMPLES
