"""Phase timing in every run (issue 16): build, handoff (the layer's part of its solve call),
the solver's own time, extract and validate, in the results file and the benchmark rows."""

from __future__ import annotations

import json

import pytest
from conftest import gridbench


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("phases") / "out.json"
    gridbench("run", "-f", "unit_commitment", "-c", "uc_seed_reserve", "--variant",
              "as_published", "-b", "pyomo", "-b", "pulp", "-b", "cvxpy", "-s", "highs",
              "-s", "cbc", "--json", str(out))
    return {(r["backend"], r["solver"]): r for r in json.loads(out.read_text())["runs"]}


@pytest.mark.parametrize("pair", [("pyomo", "highs"), ("pulp", "highs"), ("cvxpy", "highs")])
def test_handoff_is_the_solve_call_minus_the_solvers_own_time(runs, pair):
    run = runs[pair]
    assert run["status"] == "optimal"
    for field in ("build_time_s", "solve_time_s", "solver_time_s", "handoff_time_s",
                  "extract_time_s", "validate_time_s"):
        assert run[field] is not None and run[field] >= 0.0, field
    assert run["handoff_time_s"] == pytest.approx(run["solve_time_s"] - run["solver_time_s"],
                                                  abs=1e-9)
    assert run["solver_time_s"] <= run["solve_time_s"]


def test_a_subprocess_solver_without_its_own_time_has_no_handoff(runs):
    """PuLP runs CBC as a subprocess and its solutionTime includes writing the model file:
    not the solver's own time, so neither it nor a handoff is reported."""
    run = runs[("pulp", "cbc")]
    assert run["status"] == "optimal"
    assert run["solver_time_s"] is None and run["handoff_time_s"] is None
    assert run["extract_time_s"] is not None and run["validate_time_s"] is not None


def test_the_phases_survive_the_results_file(runs):
    from bench.results import run_from_dict, run_to_dict

    data = runs[("pyomo", "highs")]
    again = run_to_dict(run_from_dict(data))
    for field in ("handoff_time_s", "extract_time_s", "validate_time_s"):
        assert again[field] == data[field]
