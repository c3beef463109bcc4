"""Market equilibrium (seed 003): every backend/solver pair against the enumeration oracle.

The seed has no data and no published numbers, so the evidence is independent: the optimum
by enumerating every viability pattern with scipy's LP solver, each CVaR by sorting, and the
big-M checked after the solve. The default cases run in full here (about 15 s).
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from bench.cases import load_case
from bench.records import Solution, Status, Verdict
from bench.references import ReferenceBook
from bench.results import run_to_dict
from bench.runner import PlannedRun, Selection, execute, plan_runs
from bench.validation import agreement_checks
from gridbench_market_equilibrium.data import (
    MarketData,
    cvar_lower,
    cvar_upper,
    demand_risk_cost,
    plant_npv,
)
from gridbench_market_equilibrium.generator import GeneratorParameters, generate_arrays
from gridbench_market_equilibrium.oracle import (
    PatternLP,
    all_patterns,
    enumerate_patterns,
    lower_bounds,
)

PAIRS = {("pyomo", "highs"), ("pyomo", "scip"), ("pulp", "cbc"), ("pulp", "highs"),
         ("cvxpy", "highs"), ("cvxpy", "scip")}
CASES = {"market_small", "market_medium", "market_small_risk_neutral"}


@pytest.fixture(scope="module")
def formulation(registry):
    return registry.formulations["market_equilibrium"]


@pytest.fixture(scope="module")
def book():
    """No published values for this seed (reference_results/market_equilibrium.toml is
    deliberately absent): an empty book, independent of other formulations' files."""
    return ReferenceBook([], [])


@pytest.fixture(scope="module")
def me_results(registry, book):
    # the pairs above only: other installed layers have their own tests
    plan = plan_runs(registry, Selection(formulations=("market_equilibrium",),
                                         backends=tuple(sorted({b for b, _ in PAIRS}))))
    return [execute(run, registry, book, time_limit=120) for run in plan.runs]


def case_data(registry, formulation, name: str) -> MarketData:
    return load_case(registry.cases[name], formulation).data


def generated(**changes) -> MarketData:
    return MarketData.model_validate(generate_arrays(GeneratorParameters(**changes)))


# ------------------------------------------------------------------ the default run


def test_every_pair_solves_every_default_case(me_results):
    assert {(r.backend, r.solver) for r in me_results} == PAIRS
    assert {r.case for r in me_results} == CASES
    assert all(r.status is Status.OPTIMAL for r in me_results), [
        (r.key, r.status, r.message) for r in me_results if r.status is not Status.OPTIMAL]
    assert not any(r.failed for r in me_results)


def test_milp_optimum_equals_enumeration_everywhere(me_results):
    for result in me_results:
        checks = {c.quantity: c for c in result.checks}
        for name in ("enumeration_optimum", "enumeration_risk_premium"):
            assert checks[name].kind == "solution"
            assert checks[name].verdict is Verdict.PASS, (result.key, checks[name])
        assert checks["enumeration_optimum"].abs_err <= 1e-6 * abs(
            checks["enumeration_optimum"].expected)
        assert "4096 patterns" in checks["enumeration_optimum"].note or result.case != (
            "market_medium")


def test_linear_cvar_matches_sorting_and_big_m_is_reported(me_results):
    for result in me_results:
        checks = {c.quantity: c for c in result.checks}
        for name in ("big_M[chosen: M(1-x_i)]", "big_M[valid: VPL_i(0)+M>=0, all i]"):
            assert checks[name].kind == "certificate"
            assert checks[name].verdict is Verdict.PASS, (result.key, checks[name])
        if result.case == "market_small_risk_neutral":  # CVaR has weight 0 there
            assert checks["cvar_demand[linear>=sorted]"].verdict is Verdict.PASS
            continue
        cvar = checks["cvar_demand[linear=sorted]"]
        assert cvar.kind == "certificate" and cvar.verdict is Verdict.PASS, (result.key, cvar)
        assert cvar.abs_err <= 1e-6 * abs(cvar.expected)
        for name in ("participation[VPL_i+phi_i>=0, chosen]", "ru_constraints",
                     "cvar_plants[linear<=sorted, chosen]", "objective_recomputed"):
            assert checks[name].verdict is Verdict.PASS, (result.key, checks[name])


def test_backends_agree_on_the_demand_cost(me_results, registry):
    agreement = agreement_checks(me_results, registry.formulations)
    assert len(agreement) == len(CASES) * (len(PAIRS) - 1)
    assert all(a.check.verdict is Verdict.PASS for a in agreement)


def test_report_section_lists_every_case(me_results, formulation):
    text = formulation.report_section([run_to_dict(r) for r in me_results])
    for case in CASES:
        assert case in text
    assert "6/6 pairs agree" in text and "market-sensitivity" in text


# ------------------------------------------------------------------ theory


def test_risk_neutral_theory(me_results, registry, formulation):
    """lambda_d = lambda_g = 1: the contract price is the mean spot price, so E[B] = 0 and
    Q changes neither the demand's expected cost nor any plant's expected NPV. Theory: the
    optimal cost is d E[P] (buying at spot in expectation), no side payment is worth making,
    and Q is indeterminate (every Q gives the same cost)."""
    data = case_data(registry, formulation, "market_small_risk_neutral")
    spot = data.demand_mw * data.scenario_terms.spot_cost.mean()
    assert abs(data.scenario_terms.contract.mean()) < 1e-12 * spot
    expected_npv = data.scenario_terms.plant_margin.mean(axis=1)
    for result in (r for r in me_results if r.case == "market_small_risk_neutral"):
        q = result.quantities
        assert q["demand_cost"] == pytest.approx(spot, rel=1e-9)
        assert q["expected_demand_cost"] == pytest.approx(spot, rel=1e-9)
        assert q["side_payments_total"] == pytest.approx(0.0, abs=1e-6)
    for total in (0.0, 0.5 * data.demand_mw, data.demand_mw, 3 * data.demand_mw):
        assert demand_risk_cost(data, total) == pytest.approx(spot, rel=1e-12)
    contracted = np.full(data.n_plants, data.demand_mw)
    assert plant_npv(data, contracted) == pytest.approx(expected_npv, rel=1e-9, abs=1e-9)
    # the risk-averse twin pays a positive premium and hedges fully
    averse = [r for r in me_results if r.case == "market_small"]
    assert all(r.quantities["risk_premium"] > 1.0 for r in averse)
    assert all(r.quantities["hedge_ratio"] == pytest.approx(1.0, rel=1e-6) for r in averse)


# ------------------------------------------------------------------ the oracle itself


def test_sorting_cvar_equals_the_rockafellar_uryasev_lp():
    from scipy.optimize import linprog

    rng = np.random.default_rng(5)
    outcomes = rng.normal(100, 30, 50)
    for alpha in (0.9, 0.95, 0.97):  # 5, 2.5 and 1.5 scenarios in the tail
        n = outcomes.size
        # upper tail: min zeta + sum v / ((1-a) n), v >= x - zeta, v >= 0
        cost = np.concatenate([[1.0], np.full(n, 1 / ((1 - alpha) * n))])
        upper = linprog(cost, A_ub=np.hstack([-np.ones((n, 1)), -np.eye(n)]), b_ub=-outcomes,
                        bounds=[(None, None)] + [(0, None)] * n, method="highs")
        assert cvar_upper(outcomes, alpha) == pytest.approx(upper.fun, rel=1e-9)
        # lower tail: max eta - sum w / ((1-a) n), w >= eta - x, w >= 0
        lower = linprog(-cost * np.concatenate([[1.0], -np.ones(n)]),
                        A_ub=np.hstack([np.ones((n, 1)), -np.eye(n)]), b_ub=outcomes,
                        bounds=[(None, None)] + [(0, None)] * n, method="highs")
        assert cvar_lower(outcomes, alpha) == pytest.approx(-lower.fun, rel=1e-9)


def test_pruned_enumeration_equals_full_enumeration_and_bounds_are_valid():
    data = generated(seed=3, n_plants=8)
    full = enumerate_patterns(data, prune=False, keep_objectives=True)
    pruned = enumerate_patterns(data, prune=True)
    assert full.lps_solved == 256 and pruned.lps_solved + pruned.pruned == 256
    assert pruned.best.objective == pytest.approx(full.best.objective, rel=1e-9)
    patterns = all_patterns(8)
    bounds = lower_bounds(data, patterns.astype(float))
    objectives = np.array([full.objectives[tuple(p.tolist())] for p in patterns])
    assert np.all(bounds <= objectives + 1e-7 * np.abs(objectives))


def test_pattern_lp_agrees_with_the_sorted_objective():
    """For the oracle's best pattern, recompute Phi + sum phi by sorting from its Q, phi."""
    data = generated(seed=2, n_plants=5)
    best = enumerate_patterns(data).best
    recomputed = demand_risk_cost(data, best.contracted.sum()) + best.side_payments.sum()
    assert best.objective == pytest.approx(recomputed, rel=1e-8)
    npv = plant_npv(data, best.contracted)
    assert np.all(npv[best.viable] + best.side_payments[best.viable] >= -1e-6)
    assert PatternLP(data).solve(np.zeros(5, bool)).objective == pytest.approx(
        demand_risk_cost(data, 0.0))


# ------------------------------------------------------------------ the checks catch errors


def test_too_small_big_m_is_caught(registry, book, formulation):
    """M below max(-VPL_i(0)) forces payments to unchosen plants: the certificate and the
    enumeration (M infinite) both see it."""
    from dataclasses import replace

    case = load_case(registry.cases["market_small"], formulation)
    small_m = case.data.model_copy(update={"big_m": 1.0})
    small_m = MarketData.model_validate(small_m.model_dump())
    planned = PlannedRun(formulation, formulation.variants[0],
                         replace(case, name="market_small_tiny_m", data=small_m), "pyomo",
                         registry.solvers["pyomo", "highs"])
    result = execute(planned, registry, book, time_limit=60)
    failed = {c.quantity for c in result.checks if c.verdict is Verdict.FAIL}
    assert "big_M[valid: VPL_i(0)+M>=0, all i]" in failed
    assert "enumeration_optimum" in failed
    assert result.failed


def test_independent_checks_catch_a_bad_solution(registry, formulation):
    data = case_data(registry, formulation, "market_small")
    n, s = data.n_plants, data.n_scenarios
    x = np.array([0, 1, 1, 0], float)
    contracted = np.array([0, 40.0, 80.0, 0])
    values = {"x": x, "Q_i": contracted, "phi": np.zeros(n), "GF": np.array(0.0),
              "Q": np.array(contracted.sum()), "zeta": np.array(0.0), "v": np.zeros(s),
              "eta": np.zeros(n), "w": np.zeros((n, s))}
    checks = formulation.verify(data, "ru_milp", Solution(values, objective=150.0))
    failed = {c.quantity for c in checks if c.verdict is Verdict.FAIL}
    assert {"participation[VPL_i+phi_i>=0, chosen]", "objective_recomputed",
            "cvar_demand[linear=sorted]", "definitions[GF,Q]"} <= failed


# ------------------------------------------------------------------ generator and commands


def test_generator_is_reproducible_and_nested():
    small = generate_arrays(GeneratorParameters(seed=1, n_plants=4))
    assert small == generate_arrays(GeneratorParameters(seed=1, n_plants=4))
    medium = generate_arrays(GeneratorParameters(seed=1, n_plants=12))
    assert medium["spot_price_per_mwh"] == small["spot_price_per_mwh"]
    assert medium["generation_mw"][:4] == small["generation_mw"]
    assert medium["plant_kinds"][:6] == ["hydro", "wind", "thermal"] * 2
    data = MarketData.model_validate(small)
    assert (data.n_plants, data.n_periods, data.n_scenarios) == (4, 12, 50)
    # the generator's premise: most plants are not viable on their own (VPL_i(0) < 0)
    assert (plant_npv(data, np.zeros(4)) < 0).sum() >= 2


def test_cases_are_labelled_reconstructed(registry, formulation):
    for name in CASES:
        case = load_case(registry.cases[name], formulation)
        assert case.fidelity == "reconstructed"
        assert any("synthetic" in a for a in case.assumptions)
    scaling = [c for c in registry.cases.values()
               if c.formulation == "market_equilibrium" and not c.default]
    assert len(scaling) >= 4
    assert registry.benchmarks["market_scaling"].series


def test_sensitivity_command_and_oracle_command():
    from gridbench_market_equilibrium.commands import (
        market_oracle,
        market_sensitivity,
        sensitivity_rows,
    )

    rows = sensitivity_rows("market_small", [0.5, 1.0], [0.9])
    assert [r["status"] for r in rows] == ["optimal", "optimal"]
    assert not any(r["failed_checks"] for r in rows)
    assert rows[0]["demand_cost"] > rows[1]["demand_cost"]  # risk aversion costs
    out = CliRunner().invoke(market_sensitivity, ["--lambdas", "1", "--alphas", "0.95"])
    assert out.exit_code == 0, out.output
    assert "all pass" in out.output
    out = CliRunner().invoke(market_oracle, ["-c", "market_small"])
    assert out.exit_code == 0 and "market_small" in out.output
