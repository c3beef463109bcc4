"""``gridbench bench``: repeated timing of a benchmark's runs, build and solve apart.

Timings on a shared 2-core machine are noisy, so a benchmark reports the median over
repeats and, per case and variant, each pair's total time as a ratio to the fastest pair
of the same run of the command: compare ratios, not seconds across machines.

Every attempt runs in a forked worker of its own, as a run of ``gridbench run`` does: the
worker measures the run's peak memory (:class:`bench.worker.MemoryMeter`), a hung or
crashing solve ends only its attempt, and the timings are taken inside the worker exactly
as in-process; in a series, after an untimed warm-up run of the same pair on its first
(smallest) case (see :func:`_attempt`). Where the ``raw`` backend (numpy/scipy matrices
straight into HiGHS) ran the same case, variant and solver, each layer's build + handoff
is also given as a ratio to raw's: how far the layer is from the fastest possible model
build (issue 16).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

from bench.capture import captured_output
from bench.errors import InputError
from bench.executor import LocalPool
from bench.records import Benchmark, RunResult, SolveLimits, Status
from bench.references import ReferenceBook
from bench.registry import Registry
from bench.runner import PlannedRun, Selection, execute, plan_runs
from bench.worker import RunTask, WorkerLimits, wall_limit_s

RAW_BACKEND = "raw"  # plugins/gridbench_raw: the limit the layers are measured against


@dataclass
class BenchRow:
    benchmark: str
    case: str
    variant: str
    backend: str
    solver: str
    status: str
    repeats: int
    build_s: float | None
    solve_s: float | None
    variables: int | None
    objective: float | None
    ratio: float | None = None  # total time / fastest pair's total, same case and variant
    constraints: int | None = None
    integers: int | None = None  # integer and binary variables
    bound: float | None = None  # the solver's proven bound (best bound of a MIP)
    # nodes: the solver's branch-and-bound nodes, or an oracle's sets or subproblems solved
    nodes: int | None = None
    message: str = ""  # why a run did not finish optimal
    # phases (medians like build_s and solve_s; docs/running.md "Phase timing"): the part
    # of the solve call that is the layer's (None when the solver reports no own time),
    # the solver's own time, reading the solution, the checks
    handoff_s: float | None = None
    solver_s: float | None = None
    extract_s: float | None = None
    validate_s: float | None = None
    # the run's peak resident memory above its worker's at the start (median, MB)
    peak_memory_mb: float | None = None
    time_limit_s: float | None = None  # the solve time limit every attempt had
    # (build + handoff) / raw's (build + handoff), same case, variant and solver
    raw_ratio: float | None = None

    @property
    def gap(self) -> float | None:
        """Relative gap between the objective and the proven bound."""
        if self.objective is None or self.bound is None:
            return None
        return abs(self.objective - self.bound) / max(1e-9, abs(self.objective))

    @property
    def total_s(self) -> float | None:
        if self.build_s is None or self.solve_s is None:
            return None
        return self.build_s + self.solve_s

    @property
    def layer_s(self) -> float | None:
        """Build + handoff: the modelling layer's whole share of a run."""
        if self.build_s is None or self.handoff_s is None:
            return None
        return self.build_s + self.handoff_s


def run_benchmark(benchmark: Benchmark, registry: Registry, book: ReferenceBook,
                  repeat: int | None = None, time_limit: float | None = None,
                  on_row: Callable[[BenchRow], None] = lambda row: None,
                  isolate: bool = True) -> list[BenchRow]:
    """Run every planned run of ``benchmark`` ``repeat`` times; ``isolate=False`` runs the
    attempts in this process (no peak memory, no watchdog)."""
    repeat = repeat or benchmark.repeat
    time_limit = time_limit or benchmark.time_limit_s
    plan = plan_runs(registry, Selection(
        formulations=(benchmark.formulation,), variants=benchmark.variants,
        cases=benchmark.cases, backends=benchmark.backends, solvers=benchmark.solvers))
    order = {name: i for i, name in enumerate(benchmark.cases)}
    runs = sorted(plan.runs, key=lambda r: order.get(r.case.name, len(order)))
    stopped: set[tuple[str, str, str]] = set()
    # a series starts with its smallest case: each pair's run there warms a fresh worker up
    # (other benchmarks have no cheap case to warm up on, and time their runs cold)
    warmups: dict[tuple[str, str, str], PlannedRun] = {}
    for planned in runs if benchmark.series else ():
        warmups.setdefault((planned.variant.name, planned.backend, planned.solver.name), planned)
    pool = _local_pool() if isolate else None
    rows = []
    for planned in runs:
        pair = (planned.variant.name, planned.backend, planned.solver.name)
        if pair in stopped:
            continue
        attempts: list[RunResult] = []
        for _ in range(repeat):
            result = _attempt(planned, registry, book, time_limit, pool, warmups.get(pair))
            attempts.append(result)
            if result.status is not Status.OPTIMAL:
                break  # a failed or timed-out size is not worth repeating
        last = attempts[-1]
        good = [a for a in attempts if a.status is Status.OPTIMAL]
        phases = {name: _median(good or [last], field) for name, field in (
            ("handoff_s", "handoff_time_s"), ("solver_s", "solver_time_s"),
            ("extract_s", "extract_time_s"), ("validate_s", "validate_time_s"))}
        row = BenchRow(
            benchmark.name, planned.case.name, planned.variant.name, planned.backend,
            planned.solver.name, str(last.status), len(attempts),
            statistics.median(a.build_time_s for a in good) if good else last.build_time_s,
            statistics.median(a.solve_time_s for a in good) if good else last.solve_time_s,
            last.model_size.variables if last.model_size else None, last.objective,
            constraints=last.model_size.constraints if last.model_size else None,
            integers=last.model_size.integer_variables if last.model_size else None,
            bound=last.bound, nodes=_nodes(last), message=last.message,
            peak_memory_mb=_median(good or [last], "peak_memory_mb"),
            time_limit_s=time_limit, **phases)
        rows.append(row)
        on_row(row)
        if benchmark.series and last.status is not Status.OPTIMAL:
            stopped.add(pair)
    _ratios(rows)
    raw_ratios(rows)
    return rows


def _local_pool() -> LocalPool | None:
    try:
        return LocalPool(1)
    except InputError:  # no fork on this platform: time in this process, without the memory
        return None


def _attempt(planned: PlannedRun, registry: Registry, book: ReferenceBook,
             time_limit: float | None, pool: LocalPool | None,
             warmup: PlannedRun | None = None) -> RunResult:
    """One timed run: in a forked worker of ``pool`` (with the run's watchdog), or in this
    process without a pool.

    A fresh worker would time the process's one-time costs too (lazy imports inside the
    layer and the solver library, first-call caches; linopy's first build in a process
    takes about 0.6 s more than the next), so it first runs ``warmup``, untimed: the same
    variant, backend and solver on a series' first (smallest) case."""
    if pool is None:
        with captured_output(None):  # solver banners and logs never reach the table
            return execute(planned, registry, book, time_limit)
    limits = SolveLimits(time_limit_s=time_limit)
    task = RunTask(0, planned, limits, WorkerLimits(wall_limit_s(time_limit), None),
                   warmup=warmup)
    results: list[RunResult] = []
    pool.run([task], registry, book, on_result=lambda _task, r: results.append(r))
    return results[0]


def _median(results: list[RunResult], field: str) -> float | None:
    values = [getattr(r, field) for r in results if getattr(r, field) is not None]
    return statistics.median(values) if values else None


def _nodes(result: RunResult) -> int | None:
    """The solver's branch-and-bound nodes, else what an oracle counts (``*_nodes``)."""
    if result.nodes is not None:
        return result.nodes
    counts = [v for k, v in result.quantities.items() if k.endswith("_nodes")]
    return int(sum(counts)) if counts else None


def _ratios(rows: list[BenchRow]) -> None:
    fastest: dict[tuple[str, str], float] = {}
    for row in rows:
        if row.status == Status.OPTIMAL and row.total_s:
            key = (row.case, row.variant)
            fastest[key] = min(fastest.get(key, row.total_s), row.total_s)
    for row in rows:
        best = fastest.get((row.case, row.variant))
        if best and row.total_s and row.status == Status.OPTIMAL:
            row.ratio = row.total_s / best


def raw_ratios(rows: list[BenchRow]) -> None:
    """Each optimal row's build + handoff as a ratio to the raw backend's, where raw solved
    the same case and variant with the same solver (raw's own row gets 1)."""
    floor: dict[tuple[str, str, str], float] = {}
    for row in rows:
        if row.backend == RAW_BACKEND and row.status == Status.OPTIMAL and row.layer_s:
            floor[(row.case, row.variant, row.solver)] = row.layer_s
    for row in rows:
        raw = floor.get((row.case, row.variant, row.solver))
        if raw and row.layer_s is not None and row.status == Status.OPTIMAL:
            row.raw_ratio = row.layer_s / raw


def largest_solved(rows: list[BenchRow], cases: tuple[str, ...]) -> dict[tuple[str, str, str], str]:
    """For a series: the largest case each variant/backend/solver solved to optimality."""
    order = {name: i for i, name in enumerate(cases)}
    best: dict[tuple[str, str, str], str] = {}
    for row in rows:
        key = (row.variant, row.backend, row.solver)
        if row.status == Status.OPTIMAL and order[row.case] >= order.get(best.get(key, ""), -1):
            best[key] = row.case
    return best
