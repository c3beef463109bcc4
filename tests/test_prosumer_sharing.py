"""Prosumer energy sharing (seed 000): every backend/solver pair against the published
values, the relaxed variant against INDEX.md's verified facts, prices, the generator."""

from __future__ import annotations

import numpy as np
import pytest

from bench.cases import load_case
from bench.records import CaseSource, Solution, Status, Verdict
from bench.runner import PlannedRun, Selection, execute, plan_runs
from bench.validation import agreement_checks, derived_checks
from gridbench_prosumer_sharing import generator
from gridbench_prosumer_sharing.welfare import pwl_error_bound

NAME = "prosumer_sharing"
SEED_CASE, NO_DEGRADATION = "prosumer_seed_2", "prosumer_seed_2_no_degradation"
DEFAULT_PAIRS = {
    "complementarity": {("cvxpy", "scip"), ("pyomo", "scip")},
    "relaxed": {("cvxpy", "clarabel"), ("cvxpy", "osqp"), ("pyomo", "highs"), ("raw", "highs")},
    "complementarity_pwl": {("pulp", "cbc"), ("pulp", "highs")},
    "relaxed_pwl": {("pulp", "cbc"), ("pulp", "highs")},
}


@pytest.fixture(scope="module")
def formulation(registry):
    return registry.formulations[NAME]


@pytest.fixture(scope="module")
def results(registry, book):
    plan = plan_runs(registry, Selection(formulations=(NAME,)))
    return [execute(run, registry, book, time_limit=60) for run in plan.runs]


def _runs(results, case, variant):
    return [r for r in results if r.case == case and r.variant == variant]


def _reference(book, case, variant, quantity) -> float:
    (ref,) = [r for r in book.for_run(NAME, case, variant) if r.quantity == quantity]
    return ref.value


def test_default_run_uses_each_variants_solvers_on_the_seed_cases(results):
    assert {r.case for r in results} == {SEED_CASE, NO_DEGRADATION}  # generated: not default
    for variant, pairs in DEFAULT_PAIRS.items():
        for case in (SEED_CASE, NO_DEGRADATION):
            assert {(r.backend, r.solver) for r in _runs(results, case, variant)} == pairs
    assert all(r.status is Status.OPTIMAL for r in results), [
        (r.key, r.status, r.message) for r in results if r.status is not Status.OPTIMAL]


def test_complementarity_reproduces_the_published_run_with_every_exact_pair(results):
    for result in _runs(results, SEED_CASE, "complementarity"):
        checks = {c.quantity: c for c in result.checks if c.kind == "reference"}
        assert {"D_1", "D_2", "S_1", "S_2", "E_1", "E_2", "social_welfare"} <= set(checks)
        for name in ("D_1", "D_2", "S_1", "S_2", "E_1", "E_2"):
            assert checks[name].verdict is Verdict.PASS and checks[name].abs_err <= 1e-4
        welfare = checks["social_welfare"]
        assert welfare.expected == 40.016457200532074
        assert welfare.verdict is Verdict.PASS and welfare.rel_err <= 1e-6, result.key


def test_pwl_path_passes_within_its_stated_tolerance(results, book):
    for result in _runs(results, SEED_CASE, "complementarity_pwl"):
        checks = {c.quantity: c for c in result.checks if c.kind == "reference"}
        assert all(c.verdict is Verdict.PASS for c in checks.values()), result.key
        # the welfare is held to the approximation's bound (rel 1e-4), and says so
        assert checks["social_welfare"].tolerance == "rel 0.0001"
        assert "tangent lines" in checks["social_welfare"].note
        assert checks["D_1"].abs_err <= 1e-4


def test_the_two_variants_differ_exactly_as_known(results, book):
    """INDEX.md: without complementarity 48.882 (gamma = 0) with prosumer 1 charging 6 and
    discharging 5 at once; with it the published point, no simultaneous flows."""
    for case in (SEED_CASE, NO_DEGRADATION):
        for result in _runs(results, case, "relaxed"):
            q = result.quantities
            assert q["Qch_1"] == pytest.approx(6, abs=1e-4)
            assert q["Qdis_1"] == pytest.approx(5, abs=1e-4)
            assert q["simultaneous_kwh"] == pytest.approx(5, abs=1e-4)
        for result in _runs(results, case, "complementarity"):
            assert result.quantities["simultaneous_kwh"] == pytest.approx(0, abs=1e-6)
            assert result.quantities["Qdis_1"] == pytest.approx(0, abs=1e-6)
    for result in _runs(results, NO_DEGRADATION, "relaxed"):
        assert _reference(book, NO_DEGRADATION, "relaxed", "social_welfare") == 48.882
        assert abs(result.quantities["social_welfare"] - 48.882) <= 5e-4
    for result in _runs(results, SEED_CASE, "complementarity"):
        q = result.quantities
        assert (q["D_1"], q["D_2"]) == pytest.approx((100, 140), abs=1e-4)
        assert (q["S_1"], q["S_2"]) == pytest.approx((91, 150), abs=1e-4)
        assert (q["E_1"], q["E_2"]) == pytest.approx((15, -15), abs=1e-4)
    # every reference check of every run passes (none is vacuous: each run has some)
    for result in results:
        references = [c for c in result.checks if c.kind == "reference"]
        assert references and all(c.verdict is Verdict.PASS for c in references), result.key


def test_gamma_costs_exactly_its_throughput(results, book):
    derived = derived_checks(results, book)
    assert len(derived) == sum(len(pairs) for pairs in DEFAULT_PAIRS.values())
    assert all(d.check.verdict is Verdict.PASS for d in derived)
    agreement = agreement_checks(results, {NAME: __import__("gridbench_prosumer_sharing")
                                           .FORMULATION})
    assert agreement and all(a.check.verdict is Verdict.PASS for a in agreement)


def test_every_solution_passes_the_independent_checks(results):
    for result in results:
        names = {c.quantity for c in result.checks if c.kind == "solution"}
        assert {"demand_limits", "prosumer_balance", "sharing_balance", "state_of_charge",
                "objective_recomputed"} <= names
        if result.variant.startswith("complementarity"):
            assert "complementarity" in names
        assert all(c.verdict is Verdict.PASS for c in result.checks if c.kind == "solution")


def test_market_clearing_price_and_payments(results):
    """The sharing balance's dual from CVXPY, Pyomo/HiGHS and PuLP (CBC and HiGHS, whose
    signs differ in PuLP) is the price the marginal cost of prosumer 1's supply sets."""
    priced = [r for r in results if r.variant in ("relaxed", "relaxed_pwl")]
    assert {(r.backend, r.solver) for r in priced} == (
        DEFAULT_PAIRS["relaxed"] | DEFAULT_PAIRS["relaxed_pwl"])
    for result in priced:
        q = result.quantities
        assert "price_kkt" in [c.quantity for c in result.checks]
        assert q["price"] == pytest.approx(q["price_kkt"], rel=1e-5)
        if result.variant == "relaxed":  # interior S_1 = 86: alpha + beta S = 0.03 + 0.02 * 86
            assert q["price"] == pytest.approx(0.03 + 0.02 * q["S_1"], rel=1e-5)
        assert q["payment_1"] == pytest.approx(q["price"] * q["E_1"], rel=1e-9)
        assert q["payment_1"] + q["payment_2"] == pytest.approx(0, abs=1e-6)
        assert q["payment_1"] > 0 > q["payment_2"]  # prosumer 1 buys 15 kWh from prosumer 2
    for result in _runs(results, SEED_CASE, "complementarity"):
        assert "price" not in result.quantities  # no duals from a mixed-integer solve
        assert result.quantities["price_kkt"] == pytest.approx(1.85, rel=1e-5)


def test_pwl_error_is_reported_and_within_its_bound(results, registry, formulation):
    data = load_case(registry.cases[SEED_CASE], formulation).data
    assert data.pwl_segments == 128
    assert pwl_error_bound(data) / 40.016457200532074 < 1e-4  # the default's purpose
    for result in results:
        q = result.quantities
        if result.variant.endswith("_pwl"):
            assert 0 <= q["pwl_welfare_error"] <= q["pwl_error_bound"]
            assert q["model_objective"] - q["social_welfare"] == pytest.approx(
                q["pwl_welfare_error"])
        else:
            assert "pwl_welfare_error" not in q


def test_report_section_prints_the_economics(results, formulation):
    from bench.results import ResultsFile

    file = ResultsFile(None, {})
    for result in results:
        file.add(result)
    text = formulation.report_section(file.document()["runs"])
    assert "price $/kWh (dual)" in text and "+26.2500 -26.2500" in text


def test_independent_checks_catch_bad_solutions(registry, formulation):
    data = load_case(registry.cases[SEED_CASE], formulation).data
    good = {"D": [[100.0], [140.0]], "S": [[86.0], [150.0]], "Qch": [[6.0], [0.0]],
            "Qdis": [[5.0], [5.0]], "E": [[15.0], [-15.0]]}
    values = {k: np.array(v) for k, v in good.items()}

    def failed(variant, objective, **changes):
        solution = Solution({**values, **{k: np.array(v) for k, v in changes.items()}},
                            objective)
        return {c.quantity for c in formulation.verify(data, variant, solution)
                if c.verdict is Verdict.FAIL}

    assert failed("relaxed", 48.87745, price=[1.75]) == set()
    # the relaxed point breaks the complementarity; a wrong-signed price breaks KKT
    assert failed("complementarity", 48.87745) == {"complementarity"}
    assert failed("relaxed", 48.87745, price=[-1.75]) == {"price_kkt"}
    # E no longer matches D + Qch - S - Qdis; the objective no longer matches the point
    assert failed("relaxed", 48.87745, E=[[16.0], [-16.0]]) == {"prosumer_balance"}
    assert failed("relaxed", 48.9, price=[1.75]) == {"objective_recomputed"}
    # prosumer 2 supplies 1 kWh less: balanced per prosumer, but the pool is short
    assert "sharing_balance" in failed("relaxed", 48.87745, E=[[15.0], [-14.0]],
                                       S=[[86.0], [149.0]])
    # beyond a limit
    assert "demand_limits" in failed("relaxed", 48.87745, D=[[101.0], [140.0]],
                                     E=[[16.0], [-15.0]])
    # a battery that holds 3 kWh cannot discharge 5
    short = formulation.case_schema.model_validate(
        {**data.model_dump(), "energy_initial_kwh": [50.0, 3.0]})
    solution = Solution(dict(values), 48.87745)
    assert {c.quantity for c in formulation.verify(short, "relaxed", solution)
            if c.verdict is Verdict.FAIL} == {"state_of_charge"}


def test_generator_is_reproducible_and_valid(formulation):
    raw = generator.generate(4, 6)
    assert raw == generator.generate(4, 6)
    assert raw != generator.generate(4, 6, seed=1)
    data = formulation.case_schema.model_validate(raw["data"])
    assert (data.n_prosumers, data.periods) == (4, 6)
    arrays = data.arrays
    # every period feasible: the pool can supply its minimum demand
    assert np.all(arrays["supply_max"].sum(axis=0) >= arrays["demand_min"].sum(axis=0))
    assert np.all(arrays["energy_final_min"] == arrays["energy_initial"])


def test_generated_case_solves_alike_in_every_backend(registry, book, formulation):
    """A small generated case (4 prosumers x 6 periods), relaxed: CVXPY/Clarabel and
    Pyomo/HiGHS agree, and the state-of-charge checks see the coupled periods."""
    source = CaseSource("prosumer_gen_test", NAME, load=lambda: {
        "case": {**generator.generate(4, 6)["case"], "name": "prosumer_gen_test"},
        "data": generator.generate(4, 6)["data"]}, origin="test")
    case = load_case(source, formulation)
    variant = formulation.variant("relaxed")
    out = {}
    for backend, solver in (("cvxpy", "clarabel"), ("pyomo", "highs")):
        spec = registry.solvers[backend, solver]
        result = execute(PlannedRun(formulation, variant, case, backend, spec), registry, book,
                         60)
        assert result.status is Status.OPTIMAL, result.message
        assert all(c.verdict is Verdict.PASS for c in result.checks), result.checks
        out[backend] = result.quantities
        assert "D_1" not in result.quantities and "price_mean" in result.quantities
    assert out["cvxpy"]["social_welfare"] == pytest.approx(out["pyomo"]["social_welfare"],
                                                           rel=1e-6)


def test_scaling_cases_and_benchmarks_are_registered(registry):
    for n in (10, 100, 1000):
        source = registry.cases[f"prosumer_gen_N{n}_T24"]
        assert source.formulation == NAME and not source.default
    relaxed = registry.benchmarks["prosumer_relaxed_scaling"]
    assert relaxed.cases == tuple(f"prosumer_gen_N{n}_T24" for n in (10, 100, 1000))
    assert set(relaxed.variants) == {"relaxed", "relaxed_pwl"} and not relaxed.series
    series = registry.benchmarks["prosumer_complementarity_series"]
    assert series.series and series.time_limit_s == 60
    assert set(series.variants) == {"complementarity", "complementarity_pwl"}
    sizes = [int(name.split("_N")[1].split("_")[0]) for name in series.cases]
    assert sizes == sorted(sizes) and sizes[-1] == 1000
