"""Pyomo backend adapter: native models are ``ConcreteModel`` objects."""

from __future__ import annotations

from functools import cache
from math import isfinite
from typing import Any

from bench.api import (
    INFEASIBLE_OR_UNBOUNDED,
    BackendAdapter,
    ModelSize,
    SolveLimits,
    SolverReport,
    SolverSpec,
    Status,
    installed,
)

_QUIET = {"scip_direct": {"display/verblevel": 0}, "highs": {"output_flag": False}}


def _factory():
    """Pyomo's solver factory; ``pyomo.environ`` must be imported first to register solvers."""
    import pyomo.environ  # noqa: F401
    from pyomo.contrib.solver.common.factory import SolverFactory

    return SolverFactory


@cache
def solver_available(native: str) -> bool:
    if not installed("pyomo"):
        return False
    try:
        return bool(_factory()(native).available())
    except Exception:
        return False


def solver_version(native: str) -> str | None:
    if not solver_available(native):
        return None
    version = _factory()(native).version()
    return ".".join(map(str, version)) if version else None


def _import_duals(model: Any, results: Any) -> str:
    """Fill ``model.dual`` when the formulation declared it (Pyomo's idiom for duals)."""
    from pyomo.environ import Suffix

    suffix = getattr(model, "dual", None)
    if not isinstance(suffix, Suffix) or not suffix.import_enabled():
        return ""
    try:
        suffix.update(results.solution_loader.get_duals())
    except NotImplementedError:
        return "; this solver interface returns no duals"
    return ""


def _sense(model: Any) -> str | None:
    from pyomo.environ import Objective, maximize

    objectives = list(model.component_data_objects(Objective, active=True))
    if len(objectives) != 1:
        return None
    return "max" if objectives[0].sense == maximize else "min"


def _node_count(results: Any) -> int | None:
    """Branch-and-bound nodes, under the name each Pyomo solver interface stores them."""
    extra = dict(results.extra_info.items())  # a ConfigDict: .get gives declared entries
    for name in ("mip_node_count", "NNodes"):  # HiGHS, SCIP
        count = extra.get(name)
        if isinstance(count, int | float) and count >= 0:
            return int(count)
    return None


class PyomoBackend(BackendAdapter):
    name = module = distribution = "pyomo"
    # Pyomo's termination conditions (pyomo.contrib.solver), by name
    status_map = {
        "convergenceCriteriaSatisfied": Status.OPTIMAL,
        "convergenceCriteriaSatisfied/feasible": Status.FEASIBLE,
        "stopped with an incumbent": Status.FEASIBLE,  # iteration limit, interrupted, ...
        "maxTimeLimit": Status.TIME_LIMIT,
        "provenInfeasible": Status.INFEASIBLE,
        "locallyInfeasible": Status.INFEASIBLE,
        "unbounded": Status.UNBOUNDED,
        "infeasibleOrUnbounded": INFEASIBLE_OR_UNBOUNDED,
    }

    def _options(self, solver: SolverSpec, limits: SolveLimits) -> dict[str, Any]:
        options: dict[str, Any] = {"load_solutions": False,
                                   "raise_exception_on_nonoptimal_result": False,
                                   "rel_gap": limits.mip_rel_gap}
        if limits.time_limit_s is not None:
            options["time_limit"] = limits.time_limit_s
        if limits.threads is not None:
            options["threads"] = limits.threads
        if limits.solver_output:
            options["tee"] = True  # into the run's log: fds 1 and 2 point there
        elif solver.native in _QUIET:
            # with its default log SCIP can fill the pipe Pyomo captures output through and
            # block the solve
            options["solver_options"] = dict(_QUIET[solver.native])
        return options

    def run_solver(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolverReport:
        from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

        results = _factory()(solver.native).solve(native, **self._options(solver, limits))
        term, sol = results.termination_condition, results.solution_status
        has_solution = sol in (SolutionStatus.optimal, SolutionStatus.feasible)
        word = term.name
        if term == TerminationCondition.convergenceCriteriaSatisfied:
            if sol != SolutionStatus.optimal:
                word += "/feasible" if has_solution else "/noSolution"
        elif has_solution and word not in self.status_map:
            word = "stopped with an incumbent"
        message = f"{term.name}/{sol.name}"
        if has_solution:
            results.solution_loader.load_vars()
            message += _import_duals(native, results)
        bound = results.objective_bound
        return SolverReport(word, message, solver_time_s=_solver_time(results),
                            objective=results.incumbent_objective if has_solution else None,
                            has_incumbent=has_solution, sense=_sense(native),
                            bound=float(bound) if bound is not None and isfinite(bound) else None,
                            nodes=_node_count(results))

    def feasible(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> bool | None:
        from pyomo.contrib.solver.common.results import TerminationCondition
        from pyomo.environ import Objective

        objectives = list(native.component_data_objects(Objective, active=True))
        for objective in objectives:
            objective.deactivate()
        native.add_component("_gridbench_feasibility", Objective(expr=0.0))
        try:
            results = _factory()(solver.native).solve(native, **self._options(solver, limits))
        finally:
            native.del_component("_gridbench_feasibility")
            for objective in objectives:
                objective.activate()
        term = results.termination_condition
        if term == TerminationCondition.convergenceCriteriaSatisfied:
            return True
        if term in (TerminationCondition.provenInfeasible,
                    TerminationCondition.locallyInfeasible):
            return False
        return None

    def model_size(self, native: Any) -> ModelSize | None:
        from pyomo.environ import Constraint, Var

        variables = list(native.component_data_objects(Var, active=True, descend_into=True))
        constraints = sum(1 for _ in native.component_data_objects(Constraint, active=True))
        return ModelSize(len(variables), sum(v.is_integer() or v.is_binary() for v in variables),
                         constraints)


class PyomoLinearBackend(PyomoBackend):
    """Pyomo's adapter for the models written with ``LinearExpression``s: the same
    ``ConcreteModel`` objects, so the same solve and status rules."""

    name = "pyomo_linear"


def _solver_time(results: Any) -> float | None:
    """The solver's own run time as Pyomo's solver interface records it (``highs_time``,
    ``scip_time``, ``gurobi_time``...: the time inside the solver's solve call, without
    Pyomo's translation), or None when the interface records none."""
    timing = dict(results.timing_info.items()) if results.timing_info is not None else {}
    own = [value for key, value in timing.items()
           if key.endswith("_time") and key != "wall_time" and isinstance(value, float)]
    return own[0] if own else None
