"""The conformance kit: scenarios and checks any antflow runtime can be held to.

Theory of operation
-------------------
A runtime conforms when, for any pipeline and any pattern of failures, it reports what
the model says must happen. The kit makes that testable in four steps:

1. **Scenarios** (`Scenario`): a pipeline, its items, its feeds and which task calls
   fail, as plain data, drawn from a `random.Random` by a generator
   (`mixed_scenario`, `per_task_scenario`, `per_stage_scenario`, `priority_scenario`,
   `skip_scenario`, for flow control `pull_scenario` and `rate_limit_scenario`, and
   `fan_out_scenario` and `batch_scenario`) within what the runtime `Supports`. A seed
   reproduces a scenario.
2. **Trials** (`build_trial`): the scenario as real `Stage` objects whose tasks record
   each call on a `Probe`, raise the planned faults and mark the value they pass on.
3. **A driver**, the one piece a runtime author writes: it runs the trial on the runtime
   and returns what the runtime reported (`Observed`). `pipeline_driver` drives antflow's
   `Pipeline` and anything with its public surface.
4. **The oracle and the checks**: `expected` walks each item through the model's retry
   table (the outcome of a scenario does not depend on timing), and each check
   (`check_exactly_once`, `check_outcomes`, `check_calls`, `check_priorities`,
   `check_result_order`, `check_stats`, `check_rate_limits`) compares, naming the item at
   fault: ``"item 17 ended twice: as a result ... and as a failure at S1 ..."``.

`check_runtime` (sync drivers) and `check_runtime_async` (async drivers) do all four for
many scenarios and raise `ConformanceError` listing every problem. Everything is
composable: a new feature adds a generator, a check, or both.

The kit imports neither pytest nor hypothesis; a test may wrap a generator with
hypothesis by drawing the seed: ``mixed_scenario(random.Random(seed), supports)``.

Example:
    ```python
    from antflow_core.testing import Supports, check_runtime

    def drive(trial):  # a synchronous runtime of your own
        runtime = MyRuntime(trial.stages)
        for feed in trial.feeds:
            runtime.feed(feed.items, priority=feed.priority)
        trial.release()
        runtime.run()
        return Observed(runtime.results, runtime.failures, runtime.stats())

    print(check_runtime(drive, supports=Supports(target_stage=False)))
    ```
"""

from antflow_core.testing.checks import (
    DEFAULT_CHECKS,
    Case,
    Check,
    check_calls,
    check_exactly_once,
    check_outcomes,
    check_priorities,
    check_rate_limits,
    check_result_order,
    check_stats,
)
from antflow_core.testing.harness import (
    DEFAULT_TIME_LIMIT,
    AsyncDriver,
    ConformanceError,
    DrivablePipeline,
    Driver,
    Report,
    check_runtime,
    check_runtime_async,
    check_scenario,
    check_scenario_async,
    pipeline_driver,
)
from antflow_core.testing.oracle import Expected, ExpectedFailure, ExpectedItem, expected
from antflow_core.testing.probe import HoldNotReleased, LocalProbe, Probe
from antflow_core.testing.scenarios import (
    CHILD_BASE,
    DEFAULT_GENERATORS,
    ERRORS,
    RETRYABLE_ERRORS,
    Fault,
    FeedSpec,
    Generator,
    Scenario,
    StageSpec,
    Supports,
    Unretryable,
    batch_scenario,
    child_number,
    fan_out_scenario,
    mixed_scenario,
    per_stage_scenario,
    per_task_scenario,
    priority_scenario,
    pull_scenario,
    rate_limit_scenario,
    scenarios,
    skip_scenario,
)
from antflow_core.testing.trials import (
    Feed,
    Observed,
    PipelineLike,
    TaskKind,
    Trial,
    build_trial,
    stage_name,
)

__all__ = [
    "CHILD_BASE",
    "DEFAULT_CHECKS",
    "DEFAULT_GENERATORS",
    "DEFAULT_TIME_LIMIT",
    "ERRORS",
    "RETRYABLE_ERRORS",
    "AsyncDriver",
    "Case",
    "Check",
    "ConformanceError",
    "DrivablePipeline",
    "Driver",
    "Expected",
    "ExpectedFailure",
    "ExpectedItem",
    "Fault",
    "Feed",
    "FeedSpec",
    "Generator",
    "HoldNotReleased",
    "LocalProbe",
    "Observed",
    "PipelineLike",
    "Probe",
    "Report",
    "Scenario",
    "StageSpec",
    "Supports",
    "TaskKind",
    "Trial",
    "Unretryable",
    "batch_scenario",
    "build_trial",
    "check_calls",
    "check_exactly_once",
    "check_outcomes",
    "check_priorities",
    "check_rate_limits",
    "check_result_order",
    "check_runtime",
    "check_runtime_async",
    "check_scenario",
    "check_scenario_async",
    "check_stats",
    "child_number",
    "expected",
    "fan_out_scenario",
    "mixed_scenario",
    "per_stage_scenario",
    "per_task_scenario",
    "pipeline_driver",
    "priority_scenario",
    "pull_scenario",
    "rate_limit_scenario",
    "scenarios",
    "skip_scenario",
    "stage_name",
]
