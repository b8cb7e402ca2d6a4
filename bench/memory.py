"""Memory: peak RSS of stream() with collect_results=False stays flat in the item count.

Each size runs in a fresh subprocess: it imports antflow, builds the pipeline, reads
its RSS (the baseline), streams N items through 3 stages of 10 workers, and reports the
peak RSS. Flat means the 1,000,000-item peak is within 64 MiB of the baseline and about
equal to the 100,000-item peak.

    python bench/memory.py [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

from benchlib import Row, print_table

CHILD = textwrap.dedent(
    """
    import asyncio, gc, json, sys
    from antflow_core import Pipeline, Stage

    async def noop(x):
        return x

    def status_mib(field):
        # /proc/self/status, not getrusage: ru_maxrss may carry the peak of the process
        # that forked this one, VmHWM is this process's own high-water mark.
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError(f"no {field} in /proc/self/status")

    async def main(n):
        pipeline = Pipeline(
            [Stage(f"S{i}", workers=10, tasks=[noop]) for i in range(3)],
            collect_results=False,
        )
        gc.collect()
        baseline = status_mib("VmRSS")
        count = 0
        async for _ in pipeline.stream(range(n)):
            count += 1
        return {"items": count, "baseline": baseline, "peak": status_mib("VmHWM")}

    print(json.dumps(asyncio.run(main(int(sys.argv[1])))))
    """
)


def peak_for(items: int) -> dict[str, float]:
    """Run one size in a fresh interpreter and return its baseline and peak RSS in MiB."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(items)], check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(out)
    if result["items"] != items:
        raise RuntimeError(f"streamed {result['items']} of {items} items")
    return result


def measure(sizes: list[int]) -> list[Row]:
    """Peak RSS over the baseline for each size, as table rows."""
    rows = []
    runs = {n: peak_for(n) for n in sizes}
    for n, run in runs.items():
        growth = run["peak"] - run["baseline"]
        met = growth <= 64 if n >= 1_000_000 else None
        rows.append(
            Row(
                "memory (stream, no results kept)",
                f"{n:,} items: peak - baseline",
                f"{growth:.1f} MiB (peak {run['peak']:.1f}, baseline {run['baseline']:.1f} MiB)",
                "<= 64 MiB at 1,000,000" if n >= 1_000_000 else "",
                met,
            )
        )
    if len(sizes) >= 2:
        small, large = runs[min(sizes)], runs[max(sizes)]
        extra = (large["peak"] - large["baseline"]) - (small["peak"] - small["baseline"])
        rows.append(
            Row(
                "memory (stream, no results kept)",
                f"growth from {min(sizes):,} to {max(sizes):,} items",
                f"{extra:+.1f} MiB",
                "flat (< 16 MiB)",
                extra < 16,
            )
        )
    return rows


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    print_table(measure(args.sizes))


if __name__ == "__main__":
    main()
