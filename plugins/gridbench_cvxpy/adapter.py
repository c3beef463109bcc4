"""CVXPY backend adapter: native models are ``cvxpy.Problem`` objects."""

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

_VERSION_OF = {"HIGHS": "highspy", "SCIP": "pyscipopt", "CLARABEL": "clarabel", "OSQP": "osqp",
               "SCS": "scs", "GUROBI": "gurobipy", "CPLEX": "cplex", "MOSEK": "mosek",
               "XPRESS": "xpress"}


@cache
def _installed_solvers() -> frozenset[str]:
    if not installed("cvxpy"):
        return frozenset()
    import cvxpy

    return frozenset(cvxpy.installed_solvers())


def solver_available(native: str) -> bool:
    return native in _installed_solvers()


def solver_version(native: str) -> str | None:
    return dist_version(_VERSION_OF.get(native, native.lower()))


def _limit_options(native: str, limits: SolveLimits) -> dict[str, Any]:
    """Each solver names its time limit and MIP gap differently inside CVXPY."""
    seconds, gap, threads = limits.time_limit_s, limits.mip_rel_gap, limits.threads
    match native:
        case "HIGHS":
            options = ({"mip_rel_gap": gap} | ({"time_limit": seconds} if seconds else {})
                       | ({"threads": threads} if threads else {}))
        case "SCIP":
            options = {"scip_params": {"limits/gap": gap}
                       | ({"limits/time": seconds} if seconds else {})}
        case "GUROBI":
            options = ({"MIPGap": gap} | ({"TimeLimit": seconds} if seconds else {})
                       | ({"Threads": threads} if threads else {}))
        case "CPLEX":
            options = {"cplex_params": {"mip.tolerances.mipgap": gap}
                       | ({"timelimit": seconds} if seconds else {})}
        case "MOSEK":
            options = {"mosek_params": {"MSK_DPAR_MIO_TOL_REL_GAP": gap}
                       | ({"MSK_DPAR_OPTIMIZER_MAX_TIME": seconds} if seconds else {})}
        case "XPRESS":
            options = {"miprelstop": gap} | ({"maxtime": -int(seconds)} if seconds else {})
        case "SCS":  # continuous only
            options = {"time_limit_secs": seconds} if seconds else {}
        case _:  # CLARABEL, OSQP: continuous only
            options = {"time_limit": seconds} if seconds else {}
    return options


class CvxpyBackend:
    name = "cvxpy"

    def available(self) -> bool:
        return installed("cvxpy")

    def version(self) -> str | None:
        return dist_version("cvxpy")

    def solve(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolveOutcome:
        import cvxpy as cp

        options = _limit_options(solver.native, limits)
        try:
            native.solve(solver=solver.native, verbose=limits.solver_output, **options)
        except cp.error.SolverError as exc:
            return SolveOutcome(Status.ERROR, None, message=f"SolverError: {exc}")
        status = {
            cp.OPTIMAL: Status.OPTIMAL,
            cp.OPTIMAL_INACCURATE: Status.FEASIBLE,
            cp.INFEASIBLE: Status.INFEASIBLE,
            cp.INFEASIBLE_INACCURATE: Status.INFEASIBLE,
            cp.UNBOUNDED: Status.UNBOUNDED,
            cp.UNBOUNDED_INACCURATE: Status.UNBOUNDED,
            cp.USER_LIMIT: Status.TIME_LIMIT,
        }.get(native.status, Status.ERROR)
        # cvxpy's user_limit covers time and iteration limits alike; the message keeps the
        # solver's own word. Values exist only when the solver returned an incumbent.
        incumbent = status.has_solution and native.value is not None and all(
            v.value is not None for v in native.variables())
        objective = float(native.value) if incumbent else None
        stats = native.solver_stats
        sense = "max" if isinstance(native.objective, cp.Maximize) else "min"
        return SolveOutcome(status, objective, message=str(native.status), sense=sense,
                            solver_time_s=stats.solve_time if stats else None,
                            has_incumbent=incumbent)

    def model_size(self, native: Any) -> ModelSize | None:
        metrics = native.size_metrics
        integers = sum(v.size for v in native.variables()
                       if v.attributes.get("integer") or v.attributes.get("boolean"))
        return ModelSize(int(metrics.num_scalar_variables), int(integers),
                         int(metrics.num_scalar_eq_constr + metrics.num_scalar_leq_constr))
