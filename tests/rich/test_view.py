"""The numbers a display shows: done, rate, ETA, and the plain lines built from them."""

from __future__ import annotations

import pytest
from antflow_core.model import (
    DashboardSnapshot,
    ErrorSummary,
    FailureRecord,
    StageCounts,
    compute_pipeline_stats,
    summarize_errors,
)
from antflow_rich import (
    ProgressView,
    format_duration,
    format_error_types,
    format_rate,
    progress_line,
    summary_line,
)


def snapshot(
    *,
    processed: int,
    failed: int,
    fed: int,
    elapsed: float,
    unfinished: int = 0,
    retried: tuple[int, int] = (0, 0),
) -> DashboardSnapshot:
    stats = compute_pipeline_stats(
        ["Fetch", "Save"],
        [StageCounts(retried=retried[0]), StageCounts(retried=retried[1])],
        fed=fed,
        processed=processed,
        failed=failed,
        unfinished=unfinished,
    )
    return DashboardSnapshot(
        timestamp=1000.0 + elapsed,
        stats=stats,
        worker_states={},
        worker_metrics={},
        error_summary=ErrorSummary(total_failed=failed),
        started_at=1000.0,
        stage_names=("Fetch", "Save"),
    )


def test_view_reads_counts_rate_and_eta_from_the_snapshot() -> None:
    view = ProgressView.from_snapshot(
        snapshot(processed=450, failed=50, fed=600, elapsed=10.0, retried=(7, 2)), total=1000
    )
    assert (view.succeeded, view.failed, view.done, view.in_flight, view.fed) == (
        450,
        50,
        500,
        100,
        600,
    )
    assert view.retries == 9
    assert view.rate == pytest.approx(50.0)  # 500 ended in 10 s
    assert view.fraction == pytest.approx(0.5)
    assert view.remaining == 500
    assert view.eta == pytest.approx(10.0)  # 500 left at 50/s


def test_unknown_total_has_no_fraction_and_no_eta_but_a_rate() -> None:
    view = ProgressView.from_snapshot(snapshot(processed=30, failed=0, fed=40, elapsed=3.0), None)
    assert view.fraction is None
    assert view.remaining is None
    assert view.eta is None
    assert view.rate == pytest.approx(10.0)


def test_eta_is_unknown_until_something_ends_and_zero_once_all_did() -> None:
    nothing_yet = ProgressView.from_snapshot(snapshot(processed=0, failed=0, fed=5, elapsed=2), 10)
    assert nothing_yet.rate == 0.0
    assert nothing_yet.eta is None
    all_done = ProgressView.from_snapshot(snapshot(processed=8, failed=2, fed=10, elapsed=2), 10)
    assert all_done.eta == 0.0
    assert all_done.fraction == 1.0


def test_no_time_elapsed_gives_a_zero_rate_not_a_division_error() -> None:
    view = ProgressView.from_snapshot(snapshot(processed=3, failed=0, fed=3, elapsed=0.0), 10)
    assert view.rate == 0.0
    assert view.eta is None


def test_an_empty_run_is_complete() -> None:
    view = ProgressView.from_snapshot(snapshot(processed=0, failed=0, fed=0, elapsed=0.1), 0)
    assert view.fraction == 1.0
    assert view.eta == 0.0


def test_more_items_than_the_total_caps_the_fraction() -> None:
    view = ProgressView.from_snapshot(snapshot(processed=12, failed=0, fed=12, elapsed=1), 10)
    assert view.fraction == 1.0
    assert view.remaining == 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "--"),
        (0.0, "0.0s"),
        (0.44, "0.4s"),
        (12.34, "12.3s"),
        (59.94, "59.9s"),
        (245.0, "4m05s"),
        (7389.0, "2h03m09s"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_rate_drops_decimals_for_large_rates() -> None:
    assert format_rate(8.46) == "8.5 items/s"
    assert format_rate(12345.6) == "12,346 items/s"


def test_error_types_are_ranked_by_count_and_capped() -> None:
    errors = ErrorSummary(
        total_failed=13,
        errors_by_type={"KeyError": 1, "ValueError": 7, "TimeoutError": 3, "OSError": 2},
    )
    assert format_error_types(errors) == "ValueError: 7, TimeoutError: 3, OSError: 2, +1 more"
    assert format_error_types(errors, limit=1) == "ValueError: 7, +3 more"


def test_progress_line_with_a_known_total() -> None:
    view = ProgressView.from_snapshot(snapshot(processed=497, failed=3, fed=512, elapsed=10), 1000)
    assert progress_line(view) == (
        "antflow: 500/1,000 (50%) | 50.0 items/s | ETA 10.0s | 3 failed | 12 in flight"
    )


def test_progress_line_with_an_unknown_total() -> None:
    view = ProgressView.from_snapshot(snapshot(processed=40, failed=0, fed=42, elapsed=4), None)
    assert progress_line(view, "crawl") == (
        "crawl: 40 done | 10.0 items/s | elapsed 4.0s | 0 failed | 2 in flight"
    )


def test_summary_line_counts_successes_failures_and_error_types() -> None:
    records = [
        FailureRecord(i, "bad", "ValueError" if i % 3 else "TimeoutError", "Fetch", 3, 1.0)
        for i in range(10)
    ]
    view = ProgressView.from_snapshot(
        snapshot(processed=990, failed=10, fed=1000, elapsed=2.5), 1000
    )
    assert summary_line(view, summarize_errors(records)) == (
        "antflow: 1,000 items in 2.5s (400.0 items/s): 990 succeeded, 10 failed "
        "(ValueError: 6, TimeoutError: 4)"
    )


def test_summary_line_of_a_run_stopped_early_says_how_far_it_got() -> None:
    view = ProgressView.from_snapshot(
        snapshot(processed=500, failed=0, fed=520, unfinished=20, elapsed=5), 1000
    )
    assert summary_line(view, ErrorSummary(total_failed=0)) == (
        "antflow: 500 of 1,000 items in 5.0s (100.0 items/s): 500 succeeded, 0 failed, "
        "20 unfinished"
    )


def test_items_that_fan_out_count_as_done_and_their_children_add_to_the_total() -> None:
    from antflow_rich.view import stage_progress

    stats = compute_pipeline_stats(
        ["Split", "Save"],
        [StageCounts(completed=0, expanded=4, spawned=10), StageCounts(completed=7)],
        fed=5,
        processed=7,
        failed=0,
        expanded=4,
        spawned=10,
    )
    shot = DashboardSnapshot(
        timestamp=1002.0,
        stats=stats,
        worker_states={},
        worker_metrics={},
        error_summary=ErrorSummary(total_failed=0),
        started_at=1000.0,
        stage_names=("Split", "Save"),
    )
    view = ProgressView.from_snapshot(shot, total=5)
    # 5 fed + 10 children; 4 expanded + 7 results ended; 4 still in flight.
    assert (view.total, view.done, view.in_flight) == (15, 11, 4)
    split, save = stage_progress(shot, total=5)
    assert (split.through, split.expected) == (4, 5)
    assert (save.through, save.expected) == (7, None)  # how many children come: unknown
