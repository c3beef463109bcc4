"""The test that ``--gridbench-bench NAME`` collects (bench/pytest_plugin.py explains how).

One test per planned run of the named benchmarks. pytest-benchmark times the whole run
(build, solve, extract, validate: ``bench.runner.execute``, as ``gridbench bench`` executes
it) ``rounds`` times with ``benchmark.pedantic``; that is the total. The phases the run
itself measures go into ``benchmark.extra_info`` as medians over the rounds.

Each round's peak memory (``bench.worker.MemoryMeter``, reset before the round) is in
``extra_info["peak_memory_mb"]`` too. Unlike ``gridbench bench`` the rounds run in pytest's
own process, with no untimed warm-up: the first round of a pair pays its imports.

A wrong answer fails the test after timing, and is kept out of pytest-benchmark's JSON and
its comparisons (a fast wrong answer is not a result): a status other than optimal (unless
the case expects its time limit, or a reference expects the uncertified answer: exactly
``RunResult.failed``'s rules), or any failed check. The first such round ends the rounds,
as ``gridbench bench`` stops repeating. In a series benchmark a pair that failed one case
is skipped on the larger ones.

Not collected by pytest's default run: no test pattern matches this file's name.
"""

from __future__ import annotations

import os
import statistics
import time

import pytest

from bench.capture import captured_output
from bench.pytest_plugin import INJECT_DELAY_ENV, BenchContext, BenchRun
from bench.records import RunResult, Status, Verdict
from bench.runner import execute
from bench.worker import MemoryMeter

# extra_info key -> RunResult attribute (docs/running.md, "Phase timing")
PHASES = {"build_s": "build_time_s", "handoff_s": "handoff_time_s",
          "solve_s": "solve_time_s", "solver_s": "solver_time_s",
          "extract_s": "extract_time_s", "validate_s": "validate_time_s",
          # the round's peak resident memory above the process's at its start (Linux)
          "peak_memory_mb": "peak_memory_mb"}
# statuses that are neither a result nor a failure: the pair cannot run the case
_NOT_RUN = (Status.NOT_APPLICABLE, Status.UNAVAILABLE)


class _NotAResult(Exception):
    """Raised inside the timed target to end the rounds early."""


def test_bench(benchmark, gridbench_run: BenchRun, gridbench_context: BenchContext,
               request: pytest.FixtureRequest) -> None:
    run, context = gridbench_run, gridbench_context
    # the name runs are compared by (--benchmark-compare): the node id of a source checkout,
    # whether gridbench is installed editable or as a wheel (tox: node id "::test_bench[..]")
    benchmark.fullname = f"bench/pytest_benchmarks.py::{request.node.name}"
    smaller = context.stopped.get(run.series_key)
    if smaller is not None:
        p = run.planned
        pytest.skip(f"series: {p.variant.name} {p.backend}/{p.solver.name} did not finish "
                    f"{smaller}")
    if run.planned.skip_reason:
        pytest.skip(f"not applicable: {run.planned.skip_reason}")
    delay = float(os.environ.get(INJECT_DELAY_ENV) or 0)  # test-only, see bench.pytest_plugin
    results: list[RunResult] = []

    def target() -> RunResult:
        meter = MemoryMeter()  # in this process: the mark reset before each round
        with captured_output(None):  # solver banners and logs stay out of pytest's output
            result = execute(run.planned, context.registry, context.book, run.time_limit_s)
        result.peak_memory_mb = meter.peak_mb()
        if delay:
            time.sleep(delay)
        results.append(result)
        if result.status in _NOT_RUN or problem(result):
            raise _NotAResult
        return result

    try:
        benchmark.pedantic(target, rounds=run.rounds, iterations=1, warmup_rounds=0)
    except _NotAResult:
        pass  # pytest-benchmark marked the benchmark as errored: it is left out of the JSON
    last = results[-1]
    benchmark.extra_info.update(extra_info(run, results))
    if last.status in _NOT_RUN:
        pytest.skip(f"{last.status}: {last.message}")
    if last.status is Status.TIME_LIMIT and not any(
            c.verdict is Verdict.FAIL for c in last.checks if c.kind != "certificate"):
        # slow, not wrong: no timing to keep, and in a series the pair's end (as `gridbench
        # bench` stops a pair there); an answer that is wrong within the limit still fails
        if run.benchmark.series:
            context.stopped[run.series_key] = run.planned.case.name
        pytest.skip(f"time limit ({run.time_limit_s:g} s) reached: no timing kept"
                    + (" and the series ends here for this pair" if run.benchmark.series
                       else ""))
    wrong = problem(last)
    if wrong:
        if run.benchmark.series:
            context.stopped[run.series_key] = run.planned.case.name
        pytest.fail(f"{run.id}: not a result: {wrong}", pytrace=False)


def problem(result: RunResult) -> str | None:
    """Why ``result`` is a wrong answer, or None for a result worth its time."""
    if not result.failed and result.status in (
            Status.OPTIMAL, Status.TIME_LIMIT, Status.UNCERTIFIED):
        # a failed check fails the run; time_limit and uncertified pass only when the case
        # or a reference expects them (RunResult.failed)
        return None
    failed = [c for c in result.checks if c.verdict is Verdict.FAIL]
    parts = [f"status {result.status}" + (f" ({result.message})" if result.message else "")]
    parts += [f"check {c.quantity} failed (expected {c.expected}, got {c.actual})"
              for c in failed]
    return "; ".join(parts)


def extra_info(run: BenchRun, results: list[RunResult]) -> dict:
    last = results[-1]
    info: dict = {"benchmark": run.benchmark.name, "formulation": run.planned.formulation.name,
                  "case": run.planned.case.name, "variant": run.planned.variant.name,
                  "backend": run.planned.backend, "solver": run.planned.solver.name,
                  "rounds": len(results), "time_limit_s": run.time_limit_s}
    for key, attr in PHASES.items():
        values = [v for r in results if (v := getattr(r, attr, None)) is not None]
        info[key] = statistics.median(values) if values else None
    info.update(
        status=str(last.status), objective=last.objective, message=last.message,
        checks_passed=sum(c.verdict is Verdict.PASS for c in last.checks),
        checks_failed=sum(c.verdict is Verdict.FAIL for c in last.checks),
        failed_checks=[c.quantity for c in last.checks if c.verdict is Verdict.FAIL])
    return info
