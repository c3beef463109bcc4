"""The faster idioms of PuLP and Pyomo (backends pulp_dicts and pyomo_linear) and raw's QP
and bilevel paths: each builds the model its reference backend builds and finds its optimum."""

from __future__ import annotations

import pytest

from bench.records import Status, Verdict
from bench.runner import Selection, execute, plan_runs
from gridbench_unit_commitment.checks import STARTUP_COUPLED
from gridbench_unit_commitment.data import UnitCommitmentData

pytest.importorskip("highspy")

UC = dict(generator_types=["a", "b"], units_available=[3, 2], min_output_mw=[10.0, 5.0],
          max_output_mw=[50.0, 40.0], cost_at_min_per_mwh=[20.0, 30.0],
          marginal_cost_per_mwh=[2.0, 5.0], startup_cost=[100.0, 50.0],
          period_hours=[6.0, 6.0, 12.0], demand_mw=[60.0, 150.0, 90.0], reserve_margin=0.15)


def _run(registry, book, **selection):
    plan = plan_runs(registry, Selection(**selection))
    return [execute(run, registry, book, time_limit=60) for run in plan.runs]


def _agree(results, reference: str, variant_backend: str) -> None:
    by = {(r.backend, r.case, r.variant, r.solver): r for r in results}
    pairs = [key for key in by if key[0] == variant_backend]
    assert pairs
    for key in pairs:
        result, base = by[key], by[(reference, *key[1:])]
        assert result.status is Status.OPTIMAL, (result.key, result.message)
        assert all(c.verdict is Verdict.PASS for c in result.checks), result.key
        assert result.objective == pytest.approx(base.objective, rel=1e-9)
        assert result.model_size == base.model_size, key  # same columns, integers, rows


@pytest.mark.parametrize("formulation", ["unit_commitment", "market_equilibrium"])
def test_the_fast_idioms_build_the_reference_backends_model(registry, book, formulation):
    cases = {"unit_commitment": ("uc_seed_reserve", "uc_seed_noreserve"),
             "market_equilibrium": ("market_small",)}[formulation]
    results = _run(registry, book, formulations=(formulation,), cases=cases, solvers=("highs",),
                   backends=("pulp", "pulp_dicts", "pyomo", "pyomo_linear"))
    _agree(results, "pulp", "pulp_dicts")
    _agree(results, "pyomo", "pyomo_linear")


def _rows(problem) -> dict:
    rows = problem.constraints  # PuLP 3.3 warns on the dict view; PuLP 4 makes it a method
    return {row.name: row for row in (rows() if callable(rows) else rows.values())}


@pytest.mark.parametrize("initial", ["cyclic", [1, 0]])
@pytest.mark.parametrize("periods", [1, 3])
def test_the_start_up_rows_match_lpSum_and_quicksum(initial, periods):
    """The coupling's corner cases: period 1 from data, and one cyclic period (z - z = 0)."""
    from gridbench_pulp import PulpBackend
    from gridbench_pyomo import PyomoBackend
    from gridbench_unit_commitment import (
        pulp_dicts_model,
        pulp_model,
        pyomo_linear_model,
        pyomo_model,
    )

    data = UnitCommitmentData(**{**UC, "period_hours": UC["period_hours"][:periods],
                                 "demand_mw": UC["demand_mw"][:periods],
                                 "initial_units_on": initial})
    pulp_rows = _rows(pulp_model.build(data, STARTUP_COUPLED).native)
    dict_rows = _rows(pulp_dicts_model.build(data, STARTUP_COUPLED).native)
    assert pulp_rows.keys() == dict_rows.keys()
    for name, row in pulp_rows.items():
        other = dict_rows[name]
        assert {v.name: c for v, c in row.items() if c} == {v.name: c for v, c in other.items()
                                                            if c}, name
        assert (row.sense, row.constant) == pytest.approx((other.sense, other.constant)), name
    highs = PulpBackend()
    assert highs.model_size(pulp_model.build(data, STARTUP_COUPLED).native) == \
        highs.model_size(pulp_dicts_model.build(data, STARTUP_COUPLED).native)
    pyomo = PyomoBackend()
    assert pyomo.model_size(pyomo_model.build(data, STARTUP_COUPLED).native) == \
        pyomo.model_size(pyomo_linear_model.build(data, STARTUP_COUPLED).native)


def test_raw_solves_the_prosumer_qp_with_pyomos_welfare_and_price(registry, book):
    results = _run(registry, book, formulations=("prosumer_sharing",), variants=("relaxed",),
                   backends=("raw", "pyomo"), solvers=("highs",))
    by = {(r.backend, r.case): r for r in results}
    raw = [key for key in by if key[0] == "raw"]
    assert len(raw) == 2
    for key in raw:
        result, base = by[key], by[("pyomo", key[1])]
        assert result.status is Status.OPTIMAL, result.message
        assert all(c.verdict is Verdict.PASS for c in result.checks), result.key
        assert result.objective == pytest.approx(base.objective, rel=1e-6)
        assert result.quantities["price"] == pytest.approx(base.quantities["price"], rel=1e-5)
        assert result.quantities["price_kkt_gap"] < 1e-4  # the dual is the KKT price


def test_raw_states_the_bilevel_engines_milp(registry, book):
    """DG contract pricing's reformulations (the follower LP's strong duality and KKT form)
    from the engine's matrices, on the small 34-bus case: pyomo's profit, certified."""
    results = _run(registry, book, formulations=("dg_contract_pricing",), cases=("dg34_small",),
                   variants=("strong_duality", "kkt_bigm", "kkt_sos1"),
                   backends=("raw", "pyomo"), solvers=("highs",))
    by = {(r.backend, r.variant): r for r in results}
    assert by["raw", "kkt_sos1"].status is Status.NOT_APPLICABLE  # no SOS1 in raw HiGHS
    for variant in ("strong_duality", "kkt_bigm"):
        result = by["raw", variant]
        assert result.status is Status.OPTIMAL, result.message
        assert all(c.verdict is Verdict.PASS for c in result.checks), result.key
        assert result.objective == pytest.approx(by["pyomo", variant].objective, rel=1e-6)
