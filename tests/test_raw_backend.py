"""The raw reference backend (gridbench_raw): matrices straight into HiGHS."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from bench.records import SolveLimits, Status, Verdict
from bench.runner import Selection, execute, plan_runs
from gridbench_raw import RawBackend, RawModel
from gridbench_unit_commitment.data import UnitCommitmentData
from gridbench_unit_commitment.generator import VARIABLES_PER_CELL, generate_arrays
from gridbench_unit_commitment.raw_model import build

pytest.importorskip("highspy")


@pytest.fixture(scope="module")
def uc_runs(registry, book):
    plan = plan_runs(registry, Selection(formulations=("unit_commitment",),
                                         backends=("raw", "pulp"), solvers=("highs",)))
    return [execute(run, registry, book, time_limit=60) for run in plan.runs]


def test_raw_matches_pulp_highs_on_every_unit_commitment_case(uc_runs):
    by_pair = {(r.backend, r.case, r.variant): r for r in uc_runs}
    raw = [r for r in uc_runs if r.backend == "raw"]
    assert {(r.case, r.variant) for r in raw} == {
        (c, v) for c in ("uc_seed_reserve", "uc_seed_noreserve")
        for v in ("as_published", "startup_coupled")}
    for result in raw:
        assert result.status is Status.OPTIMAL, (result.key, result.message)
        assert result.checks and all(c.verdict is Verdict.PASS for c in result.checks), [
            c for c in result.checks if c.verdict is not Verdict.PASS]
        pulp = by_pair["pulp", result.case, result.variant]
        assert result.objective == pytest.approx(pulp.objective, rel=1e-6)
        assert result.model_size.variables == pulp.model_size.variables
        assert result.model_size.constraints == pulp.model_size.constraints
        assert result.solver_time_s is not None and result.handoff_time_s is not None


def _tiny(row_lower: float, integer: bool = False, sense: str = "min") -> RawModel:
    # x + y >= row_lower, 0 <= x, y <= 1, objective x + 2y
    return RawModel(c=np.array([1.0, 2.0]), A=sp.csr_matrix(np.array([[1.0, 1.0]])),
                    row_lower=np.array([row_lower]), row_upper=np.array([np.inf]),
                    col_lower=np.zeros(2), col_upper=np.ones(2),
                    integrality=np.array([integer, integer]), sense=sense)


def _solve(model: RawModel):
    backend = RawBackend()
    return backend.solve(model, None, SolveLimits(time_limit_s=10))


def test_statuses_are_mapped():
    assert _solve(_tiny(3.0)).status is Status.INFEASIBLE
    assert _solve(_tiny(3.0, integer=True)).status is Status.INFEASIBLE
    lp = _tiny(1.5)
    outcome = _solve(lp)
    assert outcome.status is Status.OPTIMAL and outcome.objective == pytest.approx(2.0)
    assert lp.row_dual[0] == pytest.approx(2.0)  # objective change per unit of rhs
    mip = _tiny(1.5, integer=True)
    outcome = _solve(mip)
    assert outcome.status is Status.OPTIMAL and outcome.objective == pytest.approx(3.0)
    assert outcome.bound == pytest.approx(3.0) and outcome.nodes is not None
    assert _solve(_tiny(1.5, sense="max")).objective == pytest.approx(3.0)
    # HiGHS's duals already mean the objective's change per unit of rhs when maximising
    cap = RawModel(c=np.array([1.0, 2.0]), A=sp.csr_matrix(np.array([[1.0, 1.0]])),
                   row_lower=np.array([-np.inf]), row_upper=np.array([1.5]),
                   col_lower=np.zeros(2), col_upper=np.ones(2), sense="max")
    assert _solve(cap).objective == pytest.approx(2.5)
    assert cap.row_dual[0] == pytest.approx(1.0)
    unbounded = RawModel(c=np.array([-1.0]), A=sp.csr_matrix((0, 1)), row_lower=np.zeros(0),
                         row_upper=np.zeros(0), col_lower=np.zeros(1),
                         col_upper=np.full(1, np.inf))
    assert _solve(unbounded).status is Status.UNBOUNDED


@pytest.mark.parametrize(("types", "periods"), [(10, 34), (20, 167), (40, 834)])
def test_generator_sizes_scale_as_declared(types, periods):
    from gridbench_unit_commitment import SCALING
    from gridbench_unit_commitment.generator import ScaledParameters

    p = ScaledParameters(types, periods)
    assert p in SCALING
    model = build(UnitCommitmentData(**generate_arrays(p)), "as_published").native
    assert model.num_col == p.variables == VARIABLES_PER_CELL * types * periods
    # output_min, output_max, units_available per (type, period); demand and reserve per period
    assert model.num_row == 3 * types * periods + 2 * periods
    assert RawBackend().model_size(model).integer_variables == 2 * types * periods


def test_series_spans_1e3_to_1e6_variables():
    from gridbench_unit_commitment import SCALING

    sizes = [p.variables for p in SCALING]
    assert sizes == sorted(sizes) and sizes[0] <= 2e3 and sizes[-1] >= 1e6


def test_raw_matches_pulp_highs_on_the_market_equilibrium_cases(registry, book):
    plan = plan_runs(registry, Selection(formulations=("market_equilibrium",),
                                         backends=("raw", "pulp"), solvers=("highs",),
                                         cases=("market_small", "market_small_risk_neutral")))
    runs = {(r.backend, r.case): r for r in (execute(run, registry, book, time_limit=60)
                                               for run in plan.runs)}
    assert {case for backend, case in runs if backend == "raw"} == {
        "market_small", "market_small_risk_neutral"}
    for (backend, case), result in runs.items():
        if backend != "raw":
            continue
        assert result.status is Status.OPTIMAL, (result.key, result.message)
        assert all(c.verdict is Verdict.PASS for c in result.checks), result.key
        assert result.objective == pytest.approx(runs["pulp", case].objective, rel=1e-6)
