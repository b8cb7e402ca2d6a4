"""Run the whole benchmark suite and print one table (``python3 dev.py bench``).

    python bench/run_all.py            # full sizes (a few minutes on 2 cores)
    python bench/run_all.py --smoke    # tiny sizes: checks every benchmark runs (CI)

Every figure is a ratio or a count measured in one run against a baseline on this
machine; docs/performance.md records a run with the machine it ran on.
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import batches
import executor
import latency
import memory
import otel_overhead
import progress_overhead
import rate_limits
import retries
import scaling
import throughput
import tracker_overhead
from benchlib import Row, print_table


def main() -> None:
    """Run every benchmark at full or smoke size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    args = parser.parse_args()
    smoke = args.smoke
    started = time.perf_counter()
    rows: list[Row] = []
    rows += throughput.measure(2_000 if smoke else 100_000, 1 if smoke else 5)
    if importlib.util.find_spec("uvloop") is not None:
        rows += throughput.measure(2_000 if smoke else 100_000, 1 if smoke else 5, "uvloop")
    rows += tracker_overhead.measure(2_000 if smoke else 100_000, 1 if smoke else 5)
    rows += progress_overhead.measure(2_000 if smoke else 100_000, 1 if smoke else 3)
    rows += otel_overhead.measure(300 if smoke else 10_000, 1 if smoke else 3)
    rows += memory.measure([2_000, 20_000] if smoke else [100_000, 1_000_000])
    rows += retries.measure(500 if smoke else 10_000, 1 if smoke else 3)
    rows += scaling.measure(1_000 if smoke else 50_000, 1 if smoke else 2)
    rows += latency.measure(4, 50 if smoke else 1_000)
    rows += rate_limits.measure(2_000 if smoke else 100_000, 1 if smoke else 5, 1 if smoke else 10)
    rows += batches.measure(1_000 if smoke else 20_000, 1 if smoke else 3)
    rows += executor.measure(2_000 if smoke else 100_000, 1 if smoke else 5)
    if importlib.util.find_spec("antflow_ray") is not None:
        # Starts (and stops) a local Ray: a few seconds even at smoke size.
        import ray_scaling

        rows += ray_scaling.measure(
            40 if smoke else 2_000, 1.0 if smoke else 5.0, 40 if smoke else 2_000, 1 if smoke else 3
        )
    print(
        f"antflow benchmarks on {platform.machine()} / Python {platform.python_version()}"
        f" / {platform.system()}{' (smoke sizes)' if smoke else ''}"
    )
    print_table(rows)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
