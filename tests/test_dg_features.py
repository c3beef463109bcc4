"""dg_contract_pricing's features as case data: stages (thesis chapter 5: one stage of
factor 1 is chapter 4, the present-value factors weight both levels, the coarse multistage
cases agree across the oracle, strong duality and the hand-written thesis dual, whose
right-hand sides carry xi_e as in (56a-b)), reactive power (chapter 6's PQ network), and the
publication's decisions re-evaluated."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from bench.cases import load_case
from bench.records import Status
from bench.runner import Selection, execute, plan_runs
from gridbench_dg_contract_pricing.data import DGContractData, network_of, problem_from_data


def _case(registry, name):
    return load_case(registry.cases[name], registry.formulations["dg_contract_pricing"]).data


def test_one_stage_of_factor_one_is_the_chapter_4_model(registry):
    year = _case(registry, "dg34_small")
    staged = DGContractData(**(year.model_dump() | {
        "block_level": [], "block_hours": [], "block_price": [],
        "stages": [{"present_value_factor": 1.0, "block_level": year.block_level,
                    "block_hours": year.block_hours, "block_price": year.block_price}]}))
    a, b = problem_from_data(year), problem_from_data(staged)
    for name in ("c0", "C", "A", "B", "b0", "fx", "fy", "Q", "follower_lower",
                 "follower_upper"):
        left, right = getattr(a, name), getattr(b, name)
        left = left.toarray() if hasattr(left, "toarray") else np.asarray(left)
        right = right.toarray() if hasattr(right, "toarray") else np.asarray(right)
        assert np.array_equal(left, right), name


def test_present_value_factors_weight_each_stage(registry):
    data = _case(registry, "dg34_multistage_small")
    net = network_of(data)
    factors = [s.present_value_factor for s in data.stages]
    assert factors == [1.0, 0.9091, 0.8264]
    assert np.allclose(net.weight, np.array(factors)[net.stage] * net.hours)
    assert net.n_block == sum(len(s.block_hours) for s in data.stages)


@pytest.mark.parametrize("change, message", [
    ({"stages": []}, "give either block_level"),
    ({"block_level": [1.0], "block_hours": [8760.0], "block_price": [60.0]},
     "give either block_level"),
])
def test_a_case_has_either_one_year_or_stages(registry, change, message):
    data = _case(registry, "dg34_multistage_small").model_dump() | change
    with pytest.raises(ValidationError, match=message):
        DGContractData(**data)


def test_coarse_multistage_cases_agree_and_add_up(registry, book):
    runs = [("enumeration", "bilevel_oracle", "builtin"), ("strong_duality", "pyomo", "highs"),
            ("thesis_dual", "pyomo", "highs")]
    for case in ("dg34_multistage_small", "dg85_multistage_small"):
        plan = plan_runs(registry, Selection(("dg_contract_pricing",), (), (case,)))
        results = [execute(p, registry, book, 300.0) for p in plan.runs
                   if (p.variant.name, p.backend, p.solver.name) in runs]
        assert len(results) == 3
        for r in results:
            assert r.status is Status.OPTIMAL, (r.variant, r.message)
            q = r.quantities
            stages = [1, 2, 3]
            assert q["profit_total"] == pytest.approx(
                sum(q[f"profit_pv_stage{e}"] for e in stages), rel=1e-9)
            assert q["payment_with_dg"] == pytest.approx(
                sum(q[f"payment_stage{e}"] for e in stages), rel=1e-9)
            assert q["profit_pv_stage2"] == pytest.approx(0.9091 * q["profit_total_stage2"])
        best = results[0].quantities["profit_total"]
        for r in results[1:]:
            assert r.quantities["profit_total"] == pytest.approx(best, rel=1e-6)


def test_a_published_decision_is_re_evaluated_and_never_beats_a_certified_answer(registry):
    """The follower is re-solved at the publication's prices: its leader value is reported
    next to the run's own, and a published decision better than the run's answer is a
    certificate failure (the answer cannot be optimal)."""
    from gridbench_dg_contract_pricing.models import KIT

    data = _case(registry, "dg34_small")
    assert data.published_prices == []  # coarse grids: the thesis's prices do not apply
    oracle, _ = KIT.oracle(data)
    published = data.model_copy(update={"published_prices": list(oracle.x)})
    q = KIT.published_quantities(published, oracle.leader_value)
    assert q["published_decision_feasible"] == 1.0
    assert q["published_decision_value"] == pytest.approx(oracle.leader_value, rel=1e-9)
    assert abs(q["published_decision_gap"]) <= 1e-6 * oracle.leader_value
    [check] = KIT.published_checks(published, oracle.leader_value)
    assert check.verdict.value == "pass"
    [check] = KIT.published_checks(published, oracle.leader_value - 1000.0)  # a worse answer
    assert check.verdict.value == "fail" and check.kind == "certificate"


def test_full_cases_carry_the_thesis_prices(registry):
    prices = {"dg34_scenario_A": [82.0, 79.0], "dg34_scenario_C": [68.0, 76.0],
              "dg85": [64.0, 65.0, 65.0], "dg34_multistage": [76.0, 77.0]}
    for case, expected in prices.items():
        assert _case(registry, case).published_prices == expected


def test_the_pq_model_agrees_across_methods_and_keeps_the_capability_polygon(registry, book):
    runs = [("enumeration", "bilevel_oracle", "builtin"), ("strong_duality", "pyomo", "highs"),
            ("thesis_dual", "pyomo", "highs")]
    plan = plan_runs(registry, Selection(("dg_contract_pricing",),
                                         ("enumeration", "strong_duality", "thesis_dual"),
                                         ("dg34_pq_small",)))
    results = {(p.variant.name, p.backend, p.solver.name): execute(p, registry, book, 300.0)
               for p in plan.runs if (p.variant.name, p.backend, p.solver.name) in runs}
    oracle, strong = results[runs[0]], results[runs[1]]
    assert oracle.status is Status.OPTIMAL and strong.status is Status.OPTIMAL
    assert strong.quantities["profit_total"] == pytest.approx(
        oracle.quantities["profit_total"], rel=1e-6)
    assert strong.quantities["certified"] == 1.0
    thesis = results[runs[2]]  # chapter 6's printed dual, by hand (thesis_dual_pq.py)
    assert thesis.status is Status.OPTIMAL and thesis.quantities["certified"] == 1.0
    assert thesis.quantities["profit_total"] == pytest.approx(
        oracle.quantities["profit_total"], rel=1e-6)
    # every DG on or inside the polygon: |Q| <= P tan(acos 0.92)
    q = oracle.quantities
    tan_phi = np.tan(np.arccos(0.92))
    for dg in ("gd1", "gd2"):
        active, reactive = q[f"active_energy_{dg}_kwh"], q[f"reactive_energy_{dg}_kvarh"]
        assert abs(reactive) <= tan_phi * active + 1e-6


def test_without_dg_the_pq_follower_is_feasible(registry):
    """On the full case: the coarse one's four P^2 + Q^2 blocks overstate the losses, and with
    the calibrated scenario-A loads its no-DG peak block cannot hold 9.45 kV."""
    from bench.api import solve_follower

    data = _case(registry, "dg34_scenario_A_pq")
    problem = problem_from_data(data, with_dg=False)
    result = solve_follower(problem, np.full(problem.n_x, data.price_min))
    assert result.status == "optimal"


def test_chapter_6s_printed_rows_give_wrong_answers(registry):
    """Two printed rows of chapter 6 cannot be what was solved: (82n) with the minimum output
    switches every DG off (here: no feasible answer left); (83) with mu-underline breaks
    strong duality and lets the MILP claim a profit the follower would never allow (the
    readings give the oracle's optimum)."""
    from bench.api import solve_follower
    from bench.records import SolveLimits
    from gridbench_dg_contract_pricing.models import KIT
    from gridbench_dg_contract_pricing.thesis_dual_pq import build_thesis_dual_pq

    data = _case(registry, "dg34_pq_small")
    backend, solver = registry.backends["pyomo"], registry.solvers[("pyomo", "highs")]

    def solve(printed: frozenset[str]):
        built = build_thesis_dual_pq(data, KIT.problem(data), True, printed)
        return backend.solve(built.native, solver, SolveLimits(time_limit_s=120))

    def profit(printed: frozenset[str]) -> float:
        outcome = solve(printed)
        assert outcome.status is Status.OPTIMAL
        return outcome.objective

    optimum = KIT.oracle(data)[0].leader_value  # the exact oracle's, not a typed number
    assert profit(frozenset()) == pytest.approx(optimum, rel=1e-6)
    # every DG off: this coarse case cannot serve its peak block without DG (see the no-DG
    # test), so no follower answer is left at all
    without_dg = solve_follower(problem_from_data(data, with_dg=False),
                                np.full(len(data.dg_names), data.price_min))
    assert without_dg.status == "infeasible"
    assert solve(frozenset({"82n"})).status is Status.INFEASIBLE
    assert profit(frozenset({"83mu"})) > 2 * optimum  # strong duality broken (docs)
