"""The backend adapters share one base (bench.adapter): one status vocabulary, "infeasible
or unbounded" resolved the same way everywhere, solver exceptions kept with their traceback,
and the proven bound in the model's own terms."""

from __future__ import annotations

import pytest
from conftest import in_child_process

from bench.api import BackendAdapter, ProblemClass, SolveLimits, SolverReport, SolverSpec, Status

LIMITS = SolveLimits(time_limit_s=60)


def _spec(backend: str, native: str) -> SolverSpec:
    return SolverSpec("highs", backend, native, frozenset({ProblemClass.MILP}),
                      lambda: True, lambda: "test")


def _pulp(unbounded: bool):
    import pulp

    from gridbench_pulp.adapter import PulpBackend

    model = pulp.LpProblem("t", pulp.LpMinimize)
    x, y = pulp.LpVariable("x", 0), pulp.LpVariable("y", 0, cat="Integer")
    model += -x - y
    model += (x - y >= 0) if unbounded else (x >= 2)
    if not unbounded:
        model += x + y <= 1
    return PulpBackend(), model, _spec("pulp", "HiGHS")


def _pyomo(unbounded: bool):
    import pyomo.environ as pyo

    from gridbench_pyomo.adapter import PyomoBackend

    m = pyo.ConcreteModel()
    m.x = pyo.Var(within=pyo.NonNegativeReals)
    m.y = pyo.Var(within=pyo.NonNegativeIntegers)
    m.cost = pyo.Objective(expr=-m.x - m.y)
    m.c = pyo.Constraint(expr=(m.x - m.y >= 0) if unbounded else (m.x >= 2))
    if not unbounded:
        m.d = pyo.Constraint(expr=m.x + m.y <= 1)
    return PyomoBackend(), m, _spec("pyomo", "highs")


def _cvxpy(unbounded: bool):
    import cvxpy as cp

    from gridbench_cvxpy.adapter import CvxpyBackend

    x, y = cp.Variable(nonneg=True), cp.Variable(nonneg=True, integer=True)
    rows = [x - y >= 0] if unbounded else [x >= 2, x + y <= 1]
    return CvxpyBackend(), cp.Problem(cp.Minimize(-x - y), rows), _spec("cvxpy", "HIGHS")


@pytest.mark.parametrize("unbounded, status", [(True, Status.UNBOUNDED),
                                               (False, Status.INFEASIBLE)])
@pytest.mark.parametrize("make", [_pulp, _pyomo, _cvxpy], ids=["pulp", "pyomo", "cvxpy"])
@in_child_process
def test_infeasible_or_unbounded_is_resolved_in_every_backend(make, unbounded, status):
    """HiGHS's presolve answers "infeasible or unbounded" for the unbounded MILP; PuLP 3.3
    passes that on as "infeasible", Pyomo and CVXPY as the ambiguous word."""
    adapter, model, spec = make(unbounded)
    outcome = adapter.solve(model, spec, LIMITS)
    assert outcome.status is status, outcome.message
    assert outcome.objective is None and not outcome.solution


class _Broken(BackendAdapter):
    name = module = distribution = "broken"
    status_map = {"fine": Status.OPTIMAL}

    def __init__(self, word: str = "", raises: bool = False) -> None:
        self.word, self.raises = word, raises

    def run_solver(self, native, solver, limits):
        if self.raises:
            raise RuntimeError("the solver library crashed")
        return SolverReport(self.word, f"said {self.word}", objective=1.0, has_incumbent=True)

    def feasible(self, native, solver, limits):
        return None

    def model_size(self, native):
        return None


def test_a_solver_exception_is_an_error_outcome_with_its_traceback():
    outcome = _Broken(raises=True).solve(None, _spec("broken", "x"), LIMITS)
    assert outcome.status is Status.ERROR
    assert outcome.message.startswith("highs: RuntimeError: the solver library crashed at ")
    assert "Traceback" in outcome.traceback and "run_solver" in outcome.traceback


def test_a_status_word_outside_the_map_is_an_error_that_keeps_the_word():
    outcome = _Broken("licence expired").solve(None, _spec("broken", "x"), LIMITS)
    assert (outcome.status, outcome.message) == (Status.ERROR, "said licence expired")
    assert _Broken("fine").solve(None, _spec("broken", "x"), LIMITS).status is Status.OPTIMAL


@pytest.mark.parametrize("maximise", [False, True])
@in_child_process
def test_pulp_highs_bound_is_in_the_models_terms(maximise):
    """PuLP hands HiGHS the objective without its constant, negated when maximising."""
    import pulp

    from gridbench_pulp.adapter import PulpBackend

    model = pulp.LpProblem("t", pulp.LpMaximize if maximise else pulp.LpMinimize)
    x = pulp.LpVariable("x", 0, 3.5, cat="Integer")
    model += (1 if maximise else -1) * 2 * x + 100
    outcome = PulpBackend().solve(model, _spec("pulp", "HiGHS"), LIMITS)
    assert outcome.status is Status.OPTIMAL
    assert outcome.objective == pytest.approx(106 if maximise else 94)
    assert outcome.bound == pytest.approx(outcome.objective)


@pytest.mark.parametrize("native", ["highs", "scip_direct"])
@in_child_process
def test_pyomo_reports_the_solvers_node_count(native):
    """A MILP's branch-and-bound nodes reach the run record (benchmarks print them)."""
    import pyomo.environ as pe

    from gridbench_pyomo.adapter import PyomoBackend

    model = pe.ConcreteModel()
    model.x = pe.Var(domain=pe.Integers, bounds=(0, 10))
    model.y = pe.Var(domain=pe.Integers, bounds=(0, 10))
    model.capacity = pe.Constraint(expr=3 * model.x + 5 * model.y <= 17.5)
    model.value = pe.Objective(expr=4 * model.x + 7 * model.y, sense=pe.maximize)
    outcome = PyomoBackend().solve(model, _spec("pyomo", native), LIMITS)
    assert outcome.status is Status.OPTIMAL
    assert outcome.objective == pytest.approx(23)  # x = 4, y = 1
    assert isinstance(outcome.nodes, int) and outcome.nodes >= 1
