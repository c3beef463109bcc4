"""gridbench bench's rows: the model size, the proven bound's gap and the nodes (the solver's
branch-and-bound nodes, or what an oracle reports) come from the run itself (issue 14's
location benchmark prints them)."""

from __future__ import annotations

import pytest

from bench.benchmark import BenchRow, _nodes
from bench.records import RunResult, Status


def _row(objective, bound) -> BenchRow:
    return BenchRow("b", "c", "v", "pyomo", "highs", "optimal", 1, 0.1, 0.2, 10, objective,
                    bound=bound)


def test_gap_is_relative_to_the_objective():
    assert _row(200.0, 210.0).gap == pytest.approx(0.05)
    assert _row(200.0, None).gap is None
    assert _row(None, 5.0).gap is None


def test_nodes_are_what_the_run_reports():
    oracle = RunResult("f", "enumeration", "c", "bilevel_oracle", "builtin", Status.OPTIMAL,
                       quantities={"oracle_nodes": 546.0, "oracle_lps": 39394.0})
    milp = RunResult("f", "strong_duality", "c", "pyomo", "highs", Status.OPTIMAL,
                     quantities={"oracle_value": 1.0})
    assert _nodes(oracle) == 546
    assert _nodes(milp) is None
    milp.nodes = 618  # what the solver reported (the backend adapter's SolverReport.nodes)
    assert _nodes(milp) == 618


def test_the_node_count_survives_the_results_file():
    from bench.results import run_from_dict, run_to_dict

    run = RunResult("f", "strong_duality", "c", "pyomo", "highs", Status.TIME_LIMIT,
                    objective=1.0, bound=2.0, nodes=618)
    assert run_from_dict(run_to_dict(run)).nodes == 618


def _timed(backend: str, build: float, handoff: float | None, solver: str = "highs",
           status: str = "optimal") -> BenchRow:
    return BenchRow("b", "c", "v", backend, solver, status, 1, build, 1.0, 10, 1.0,
                    handoff_s=handoff)


def test_a_layers_build_and_handoff_is_a_ratio_to_raws_on_the_same_case_and_solver():
    from bench.benchmark import raw_ratios

    raw = _timed("raw", 0.1, 0.1)
    layer = _timed("cvxpy", 0.1, 0.5)
    other_solver = _timed("pyomo", 0.1, 0.5, solver="scip")  # raw runs HiGHS only
    no_handoff = _timed("pulp", 0.1, None, solver="highs")  # solver reported no own time
    timed_out = _timed("pyomo", 1.0, 1.0, status="time_limit")
    rows = [layer, other_solver, no_handoff, timed_out, raw]
    raw_ratios(rows)
    assert raw.raw_ratio == pytest.approx(1.0)
    assert layer.raw_ratio == pytest.approx(3.0)
    assert other_solver.raw_ratio is None and no_handoff.raw_ratio is None
    assert timed_out.raw_ratio is None


def _allocate_in_a_forked_worker(megabytes: int, queue) -> None:
    from bench.worker import MemoryMeter

    meter = MemoryMeter()
    block = bytearray(megabytes * 2**20)  # zero-filled: every page is touched
    queue.put((meter.peak_mb(), len(block)))


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="Linux only")
def test_the_memory_meter_counts_what_a_forked_run_allocates_not_what_it_inherits():
    import multiprocessing

    inherited = bytearray(64 * 2**20)  # the parent's pages are the worker's start, not its peak
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_allocate_in_a_forked_worker, args=(100, queue))
    child.start()
    peak_mb, _ = queue.get(timeout=60)
    child.join()
    assert 95 <= peak_mb < 100 + 64, peak_mb
    del inherited
