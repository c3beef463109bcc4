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
