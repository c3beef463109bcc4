"""CVXPY backend adapter: native models are ``cvxpy.Problem`` objects."""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

from bench.api import (
    INFEASIBLE_OR_UNBOUNDED,
    BackendAdapter,
    ModelSize,
    SolveLimits,
    SolverReport,
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


class CvxpyBackend(BackendAdapter):
    name = module = distribution = "cvxpy"
    # CVXPY's status strings; user_limit covers time and iteration limits alike (the
    # message keeps the solver's own word)
    status_map = {
        "optimal": Status.OPTIMAL,
        "optimal_inaccurate": Status.FEASIBLE,
        "infeasible": Status.INFEASIBLE,
        "infeasible_inaccurate": Status.INFEASIBLE,
        "unbounded": Status.UNBOUNDED,
        "unbounded_inaccurate": Status.UNBOUNDED,
        "infeasible_or_unbounded": INFEASIBLE_OR_UNBOUNDED,
        "user_limit": Status.TIME_LIMIT,
    }

    def run_solver(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolverReport:
        import cvxpy as cp

        with warnings.catch_warnings():
            # "infeasible or unbounded, but the solver cannot tell": the base resolves it
            warnings.filterwarnings("ignore", "\\s*The problem is either infeasible or unb",
                                    UserWarning)
            native.solve(solver=solver.native, verbose=limits.solver_output,
                         **_limit_options(solver.native, limits))
        # values exist only when the solver returned an incumbent
        incumbent = native.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE, cp.USER_LIMIT) and \
            native.value is not None and all(v.value is not None for v in native.variables())
        stats = native.solver_stats
        return SolverReport(native.status, str(native.status),
                            objective=float(native.value) if incumbent else None,
                            has_incumbent=incumbent,
                            solver_time_s=stats.solve_time if stats else None,
                            sense="max" if isinstance(native.objective, cp.Maximize) else "min")

    def feasible(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> bool | None:
        import cvxpy as cp

        check = cp.Problem(cp.Minimize(0), native.constraints)
        check.solve(solver=solver.native, **_limit_options(solver.native, limits))
        if check.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            return True
        if check.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
            return False
        return None

    def model_size(self, native: Any) -> ModelSize | None:
        metrics = native.size_metrics
        integers = sum(v.size for v in native.variables()
                       if v.attributes.get("integer") or v.attributes.get("boolean"))
        return ModelSize(int(metrics.num_scalar_variables), int(integers),
                         int(metrics.num_scalar_eq_constr + metrics.num_scalar_leq_constr))
