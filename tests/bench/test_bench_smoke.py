"""Every benchmark runs (at tiny sizes): the suite cannot rot between full runs.

No timing is asserted here; timings live in bench/ and docs/performance.md.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_suite_runs_every_benchmark_at_smoke_size() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_all.py"), "--smoke"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    # bench/ray_scaling.py runs where antflow-ray is installed (not on every Python).
    ray = ("ray scaling",) if importlib.util.find_spec("antflow_ray") is not None else ()
    for benchmark in (
        *ray,
        "throughput (asyncio)",
        "tracker overhead",
        "progress overhead",
        "telemetry overhead",
        "memory (stream, no results kept)",
        "retries (per_task)",
        "retries (per_stage)",
        "scaling",
        "latency (priority)",
        "rate limits",
        "batches (100 per call)",
        "executor (map)",
    ):
        assert f"| {benchmark} " in out, benchmark
    assert "(smoke sizes)" in out
