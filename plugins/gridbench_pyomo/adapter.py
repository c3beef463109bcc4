"""Pyomo backend adapter: native models are ``ConcreteModel`` objects."""

from __future__ import annotations

from functools import cache
from typing import Any

from bench.api import (
    ModelSize,
    SolveLimits,
    SolveOutcome,
    SolverSpec,
    Status,
    dist_version,
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


class PyomoBackend:
    name = "pyomo"

    def available(self) -> bool:
        return installed("pyomo")

    def version(self) -> str | None:
        return dist_version("pyomo")

    def solve(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolveOutcome:
        from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

        opt = _factory()(solver.native)
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
        results = opt.solve(native, **options)
        term, sol = results.termination_condition, results.solution_status
        has_solution = sol in (SolutionStatus.optimal, SolutionStatus.feasible)
        if term == TerminationCondition.convergenceCriteriaSatisfied and has_solution:
            status = Status.OPTIMAL if sol == SolutionStatus.optimal else Status.FEASIBLE
        elif term == TerminationCondition.maxTimeLimit:
            status = Status.TIME_LIMIT
        elif term in (TerminationCondition.provenInfeasible,
                      TerminationCondition.locallyInfeasible):
            status = Status.INFEASIBLE
        elif term in (TerminationCondition.unbounded,
                      TerminationCondition.infeasibleOrUnbounded):
            status = Status.UNBOUNDED
        elif has_solution:
            status = Status.FEASIBLE
        else:
            status = Status.ERROR
        message = f"{term.name}/{sol.name}"
        if has_solution:
            results.solution_loader.load_vars()
            message += _import_duals(native, results)
        objective = results.incumbent_objective if has_solution else None
        return SolveOutcome(status, objective, message=message, has_incumbent=has_solution,
                            sense=_sense(native))

    def model_size(self, native: Any) -> ModelSize | None:
        from pyomo.environ import Constraint, Var

        variables = list(native.component_data_objects(Var, active=True, descend_into=True))
        constraints = sum(1 for _ in native.component_data_objects(Constraint, active=True))
        return ModelSize(len(variables), sum(v.is_integer() or v.is_binary() for v in variables),
                         constraints)
