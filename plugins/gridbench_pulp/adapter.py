"""PuLP backend adapter: native models are ``LpProblem`` objects."""

from __future__ import annotations

import time
import warnings
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

_VERSION_OF = {"PULP_CBC_CMD": "pulp", "HiGHS": "highspy", "SCIP_PY": "pyscipopt",
               "GUROBI": "gurobipy", "CPLEX_PY": "cplex", "XPRESS_PY": "xpress"}


def _engine(native: str, **options: Any) -> Any:
    import pulp

    with warnings.catch_warnings():
        # PuLP 3.x warns that PULP_CBC_CMD (its bundled CBC) goes away in PuLP 4; we pin
        # pulp<4 for exactly that binary (pyproject.toml)
        warnings.filterwarnings("ignore", "PULP_CBC_CMD is deprecated", DeprecationWarning)
        return pulp.getSolver(native, **options)


@cache
def solver_available(native: str) -> bool:
    if not installed("pulp"):
        return False
    try:
        return bool(_engine(native, msg=False).available())
    except Exception:
        return False


def solver_version(native: str) -> str | None:
    if native == "PULP_CBC_CMD":
        return f"bundled with PuLP {dist_version('pulp')}"
    return dist_version(_VERSION_OF.get(native, native))


# Dual-sign rules per solver, so that every formulation reads one convention (CBC's: the
# dual is the objective's change per unit of right-hand side). PuLP 3.3's HiGHS interface
# minimises the negated objective of a maximisation and passes HiGHS's row duals through,
# so their sign is the opposite (found by the prosumer model's independent price check).
_FLIP_DUALS_WHEN_MAXIMISING = {"HiGHS"}


def _normalise_duals(native: Any, solver: SolverSpec) -> None:
    import pulp

    if solver.native in _FLIP_DUALS_WHEN_MAXIMISING and native.sense == pulp.LpMaximize:
        for constraint in native.constraints.values():
            if constraint.pi is not None:
                constraint.pi = -constraint.pi


# PuLP engines that take a ``threads`` option (SCIP through PySCIPOpt runs one thread)
_THREADED = {"PULP_CBC_CMD", "HiGHS", "GUROBI", "CPLEX_PY", "XPRESS_PY"}


class PulpBackend:
    name = "pulp"

    def available(self) -> bool:
        return installed("pulp")

    def version(self) -> str | None:
        return dist_version("pulp")

    def solve(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolveOutcome:
        import pulp

        time_limit = limits.time_limit_s
        options: dict[str, Any] = {"msg": limits.solver_output, "gapRel": limits.mip_rel_gap}
        if time_limit is not None:
            options["timeLimit"] = time_limit
        if limits.threads is not None and solver.native in _THREADED:
            options["threads"] = limits.threads
        engine = _engine(solver.native, **options)
        start = time.perf_counter()
        native.solve(engine)
        elapsed = time.perf_counter() - start
        _normalise_duals(native, solver)
        status, sol = native.status, native.sol_status
        if sol == pulp.LpSolutionOptimal:
            outcome = Status.OPTIMAL
        elif sol == pulp.LpSolutionIntegerFeasible:
            hit_limit = time_limit is not None and elapsed >= 0.95 * time_limit
            outcome = Status.TIME_LIMIT if hit_limit else Status.FEASIBLE
        elif status == pulp.LpStatusInfeasible or sol == pulp.LpSolutionInfeasible:
            outcome = Status.INFEASIBLE
        elif status == pulp.LpStatusUnbounded or sol == pulp.LpSolutionUnbounded:
            outcome = Status.UNBOUNDED
        elif time_limit is not None and elapsed >= 0.95 * time_limit:
            outcome = Status.TIME_LIMIT
        else:
            outcome = Status.ERROR
        # values are meaningful only for an optimal or integer-feasible solution; an LP cut
        # off by the time limit leaves arbitrary values behind
        incumbent = sol in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
        objective = pulp.value(native.objective) if incumbent else None
        return SolveOutcome(outcome, objective,
                            message=f"{pulp.LpStatus[status]}/{pulp.LpSolution[sol]}",
                            solver_time_s=getattr(native, "solutionTime", None),
                            has_incumbent=incumbent,
                            sense="max" if native.sense == pulp.LpMaximize else "min")

    def model_size(self, native: Any) -> ModelSize | None:
        variables = native.variables()
        return ModelSize(len(variables), sum(v.cat == "Integer" for v in variables),
                         native.numConstraints())
