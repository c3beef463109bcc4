"""Unit commitment (seed 001): every backend/solver pair against the published values."""

from __future__ import annotations

import numpy as np
import pytest

from bench.records import Solution, Status, Verdict
from bench.runner import Selection, execute, plan_runs
from bench.validation import derived_checks

PAIRS = {("pyomo", "highs"), ("pyomo", "scip"), ("pulp", "cbc"), ("pulp", "highs"),
         ("cvxpy", "highs"), ("cvxpy", "scip")}


@pytest.fixture(scope="module")
def uc_results(registry, book):
    plan = plan_runs(registry, Selection(formulations=("unit_commitment",)))
    return [execute(run, registry, book, time_limit=60) for run in plan.runs]


def test_all_six_pairs_both_cases_both_variants_ran(uc_results):
    keys = {(r.backend, r.solver) for r in uc_results}
    assert PAIRS <= keys
    assert {(r.case, r.variant) for r in uc_results} == {
        (c, v) for c in ("uc_seed_reserve", "uc_seed_noreserve")
        for v in ("as_published", "startup_coupled")}
    assert all(r.status is Status.OPTIMAL for r in uc_results), [
        (r.key, r.status, r.message) for r in uc_results if r.status is not Status.OPTIMAL]


def test_as_published_reproduces_every_published_value(uc_results):
    for result in uc_results:
        if result.variant != "as_published":
            continue
        reference_checks = [c for c in result.checks if c.kind == "reference"]
        # five tariffs and the total cost, all compared (not vacuous)
        assert {c.quantity for c in reference_checks} == {
            "total_cost", *(f"tariff_{t}" for t in range(1, 6))}
        for check in reference_checks:
            assert check.verdict is Verdict.PASS, (result.key, check)
            assert check.rel_err <= 1e-6


def test_every_solution_passes_the_independent_checks(uc_results):
    for result in uc_results:
        solution_checks = [c for c in result.checks if c.kind == "solution"]
        assert {"demand", "objective_recomputed", "integrality[z,w]"} <= {
            c.quantity for c in solution_checks}
        assert all(c.verdict is Verdict.PASS for c in solution_checks), result.key


def test_saving_is_checked_across_runs(uc_results, book):
    derived = derived_checks(uc_results, book)
    assert PAIRS <= {(d.backend, d.solver) for d in derived}  # and any other layer installed
    assert all(d.check.verdict is Verdict.PASS for d in derived)


def test_startup_coupling_changes_the_cost_the_same_way_everywhere(uc_results):
    totals = {}
    for r in uc_results:
        totals.setdefault((r.case, r.variant), set()).add(round(r.quantities["total_cost"], 3))
    assert all(len(values) == 1 for values in totals.values()), totals
    for case in ("uc_seed_reserve", "uc_seed_noreserve"):
        (published,) = totals[case, "as_published"]
        (coupled,) = totals[case, "startup_coupled"]
        assert coupled > published  # start-ups now cost something


def test_independent_check_catches_a_bad_solution(registry):
    uc = registry.formulations["unit_commitment"]
    from bench.cases import load_case

    data = load_case(registry.cases["uc_seed_reserve"], uc).data
    z = np.array([[0, 3, 0, 8, 0], [0, 0, 0, 0, 0], [4, 5, 5, 5, 5]], float)
    x = np.minimum(z * np.array(data.max_output_mw)[:, None], 1e9)
    solution = Solution({"z": z, "w": np.zeros_like(z), "x": x * 0.5}, objective=123.0)
    failed = {c.quantity for c in uc.verify(data, "as_published", solution)
              if c.verdict is Verdict.FAIL}
    assert {"demand", "objective_recomputed"} <= failed


def test_variables_pulp_never_used_are_zeros_not_nan(registry, book):
    """With every start-up cost 0, `as_published` leaves the start-up variables in no row and
    not in the objective: PuLP never hands them to the solver and returns None for them.
    They must read as 0 (a valid optimum), not NaN that fails every check."""
    from dataclasses import replace

    plan = plan_runs(registry, Selection(formulations=("unit_commitment",),
                                         cases=("uc_seed_reserve",), variants=("as_published",),
                                         backends=("pulp",), solvers=("cbc",)))
    (planned,) = plan.runs
    data = planned.case.data
    free = type(data).model_validate(data.model_dump() | {
        "startup_cost": [0.0] * len(data.startup_cost)})
    result = execute(replace(planned, case=replace(planned.case, data=free)), registry, book, 60)
    assert result.status is Status.OPTIMAL
    failing = [c for c in result.checks if c.kind == "solution" and c.verdict is not Verdict.PASS]
    assert not failing, failing
