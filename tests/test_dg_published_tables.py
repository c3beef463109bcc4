"""dg_contract_pricing: the published Tables 2-7 (self-consistency without a solver), the
reconstructed cases (calibration), and every reformulation on coarse test cases against the
exact oracle and the hand-written thesis dual."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import gridbench

from bench.cases import load_case
from bench.records import Status, Verdict
from bench.runner import Selection, execute, plan_runs
from gridbench_dg_contract_pricing.published import (
    LOPEZ,
    check_published_tables,
    load_published,
)

FULL_CASES = ("dg34_scenario_A", "dg34_scenario_B", "dg34_scenario_C", "dg85")
SMALL_CASES = ("dg34_small", "dg85_small")
# (variant, backend, solver) run by the tests on the coarse cases
TEST_RUNS = {("strong_duality", "pyomo", "highs"), ("kkt_bigm", "pyomo", "highs"),
             ("thesis_dual", "pyomo", "highs"), ("thesis_dual_as_printed", "pyomo", "highs"),
             ("enumeration", "bilevel_oracle", "builtin")}


def test_published_tables_break_exactly_one_identity():
    findings = check_published_tables()
    assert len(findings) == 27
    broken = [(f.where, f.identity) for f in findings if not f.holds]
    # Table 7's text prints 167,801.84 / 4,526,245.27 = 3.7073 % as "3,70%" (truncated)
    assert broken == [("Table 7 text (line before the table)",
                       "saving % = Economia / Sem GD (text '3,70%')")]


def test_reference_file_holds_the_printed_tables(book):
    published = load_published()
    assert published[("dg34_scenario_A", "")]["profit_gd2"].value == 106569.16
    assert published[("dg34_scenario_B", LOPEZ)]["saving"].value == 101234.00
    assert published[("dg85", "")]["capacity_factor_gd2"].half == 0.005  # Table 6: 0.01 %
    refs = [r for r in book.references if r.formulation == "dg_contract_pricing"]
    assert {r.source for r in refs} == {"", LOPEZ}
    assert all(r.fidelity.value == "reconstructed" and r.fidelity_note for r in refs)


def test_cases_are_labelled_and_calibrated(registry):
    from gridbench_dg_contract_pricing.models import payment_without_dg

    formulation = registry.formulations["dg_contract_pricing"]
    published = load_published()
    for name in FULL_CASES:
        case = load_case(registry.cases[name], formulation)
        assert case.fidelity.value == "reconstructed"
        assert any(a.startswith("CALIBRATED") for a in case.assumptions), name
        assert len(case.data.line_from) == case.data.n_buses - 1  # radial
        target = published[(name, "")]["payment_without_dg"].value
        assert payment_without_dg(case.data) == pytest.approx(target, rel=1e-6)


@pytest.fixture(scope="module")
def small_results(registry, book):
    plan = plan_runs(registry, Selection(formulations=("dg_contract_pricing",),
                                         cases=SMALL_CASES))
    runs = [r for r in plan.runs if (r.variant.name, r.backend, r.solver.name) in TEST_RUNS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [execute(run, registry, book, time_limit=60) for run in runs]


def test_every_reformulation_agrees_with_oracle_and_thesis_dual(small_results):
    assert {(r.case, r.variant) for r in small_results} == {
        (c, v) for c in SMALL_CASES for v, _, _ in TEST_RUNS}
    for case in SMALL_CASES:
        runs = [r for r in small_results if r.case == case]
        (oracle,) = [r for r in runs if r.variant == "enumeration"]
        for r in runs:
            assert r.status is Status.OPTIMAL, (r.key, r.status, r.message)
            assert r.quantities["certified"] == 1.0, r.key
            assert all(c.verdict is Verdict.PASS for c in r.checks
                       if c.kind != "reference"), r.key
            assert r.quantities["profit_total"] == pytest.approx(
                oracle.quantities["profit_total"], rel=1e-6), r.key
            assert r.quantities["saving"] == pytest.approx(
                r.quantities["payment_without_dg"] - r.quantities["payment_with_dg"])


def test_thesis_quantities_are_consistent(small_results):
    for r in small_results:
        q = r.quantities
        dgs = [k.removeprefix("price_") for k in q if k.startswith("price_")]
        total = 0.0
        for dg in dgs:
            cost = 60.0 if r.case.startswith("dg34") else 55.0
            energy = q[f"capacity_factor_{dg}"] / 100 * 1.5 * 8760
            assert q[f"profit_{dg}"] == pytest.approx((q[f"price_{dg}"] - cost) * energy,
                                                      rel=1e-9, abs=1e-6)
            total += q[f"profit_{dg}"]
        assert q["profit_total"] == pytest.approx(total, rel=1e-12)
        assert np.isclose(q["profit_total"], q["leader_objective"], rtol=1e-6)


def test_commands(tmp_path):
    done = gridbench("dg-published-check")
    assert done.returncode == 0, done.stderr
    assert "27 identities checked, 1 broken beyond rounding" in done.stdout
    png = tmp_path / "v.png"
    done = gridbench("dg-voltage", "dg34_small", "--png", str(png))
    assert done.returncode == 0, done.stderr
    assert png.stat().st_size > 1000


def test_warm_oracle_matches_the_engine_oracle(registry):
    from bench.bilevel.oracle import solve_exact
    from gridbench_dg_contract_pricing.fast_oracle import warm_enumeration
    from gridbench_dg_contract_pricing.models import KIT

    formulation = registry.formulations["dg_contract_pricing"]
    for name in SMALL_CASES:
        problem = KIT.problem(load_case(registry.cases[name], formulation).data)
        engine, warm = solve_exact(problem), warm_enumeration(problem)
        assert warm.leader_value == pytest.approx(engine.leader_value, rel=1e-7), name
        assert np.array_equal(warm.x, engine.x), name


def test_full_cases_default_run_is_the_oracle_and_the_pairs_that_finish(registry):
    """On the full grids the default run is the oracle plus strong_duality and thesis_dual on
    Pyomo/HiGHS (measured to finish, see the docs); naming a variant plans every pair."""
    from bench.runner import Selection, plan_runs

    full = ("dg34_scenario_A", "dg34_scenario_B", "dg34_scenario_C", "dg85")
    plan = plan_runs(registry, Selection(formulations=("dg_contract_pricing",)))
    for case in full:
        assert {(r.variant.name, r.backend, r.solver.name) for r in plan.runs
                if r.case.name == case} == {
            ("enumeration", "bilevel_oracle", "builtin"), ("strong_duality", "pyomo", "highs"),
            ("thesis_dual", "pyomo", "highs")}, case
    assert {"strong_duality", "kkt_bigm", "thesis_dual", "thesis_dual_as_printed"} <= {
        r.variant.name for r in plan.runs if r.case.name == "dg34_small"}
    named = plan_runs(registry, Selection(formulations=("dg_contract_pricing",),
                                          cases=("dg34_scenario_A",),
                                          variants=("kkt_bigm",)))
    assert named.runs and {r.variant.name for r in named.runs} == {"kkt_bigm"}
    assert {r.backend for r in named.runs} == {"pyomo", "pulp", "cvxpy"}


def test_strong_duality_is_stated_per_load_block(registry):
    """The follower separates by load block: the engine states one strong-duality row per
    block (tighter LP relaxation, same integer solutions); a one-part follower keeps one."""
    from bench.bilevel.dual import follower_components, stack_follower
    from bench.bilevel.reformulate import reformulate
    from gridbench_dg_contract_pricing.models import KIT

    data = load_case(registry.cases["dg34_small"],
                     registry.formulations["dg_contract_pricing"]).data
    problem = KIT.problem(data)
    y_part, _ = follower_components(stack_follower(problem), problem.n_y)
    assert len(set(y_part)) == len(data.block_level) == 3
    model = reformulate(problem, "strong_duality")
    assert len(model.row_blocks["strong_duality"]) == 3
    assert any("independent LPs" in note for note in model.notes)
