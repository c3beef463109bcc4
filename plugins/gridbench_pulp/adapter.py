"""PuLP backend adapter: native models are ``LpProblem`` objects."""

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


# solvers whose duals PuLP passes through with the opposite sign in a maximisation
_FLIP_DUALS_WHEN_MAXIMISING = {"HiGHS"}


# PuLP engines that take a ``threads`` option (SCIP through PySCIPOpt runs one thread)
_THREADED = {"PULP_CBC_CMD", "HiGHS", "GUROBI", "CPLEX_PY", "XPRESS_PY"}


def _highs_status(native: Any) -> str | None:
    """HiGHS's own model status: PuLP 3.3 reports HiGHS's "unbounded or infeasible" as
    infeasible, and a time limit without an incumbent as an integer-feasible solution."""
    model = getattr(native, "solverModel", None)
    if model is None:
        return None
    return model.modelStatusToString(model.getModelStatus())


def _bound(native: Any, solver: SolverSpec, objective: float | None) -> float | None:
    """The proven bound on the objective where PuLP's engine exposes it (HiGHS, SCIP), in
    the model's own terms: PuLP hands the solver the objective without its constant, and
    HiGHS the negated objective of a maximisation."""
    import pulp

    model = getattr(native, "solverModel", None)
    if model is None:
        return None
    constant = float(native.objective.constant) if native.objective is not None else 0.0
    if solver.native == "HiGHS":
        if not native.isMIP():
            return objective  # an LP's optimum is its own bound (dual objective = primal)
        bound = float(model.getInfo().mip_dual_bound)
        return (-bound if native.sense == pulp.LpMaximize else bound) + constant
    if solver.native == "SCIP_PY":
        return float(model.getDualbound()) + constant
    return None


class PulpBackend(BackendAdapter):
    name = module = distribution = "pulp"
    infers_time_limit = True  # PuLP's status has no "time limit": the elapsed time tells
    # PuLP's solution status words (pulp.LpSolution), then HiGHS's own (see _highs_status)
    status_map = {
        "Optimal Solution Found": Status.OPTIMAL,
        "Solution Found": Status.FEASIBLE,
        "No Solution Exists": Status.INFEASIBLE,
        "Solution is Unbounded": Status.UNBOUNDED,
        "Infeasible": Status.INFEASIBLE,
        "Unbounded": Status.UNBOUNDED,
        "Primal infeasible or unbounded": INFEASIBLE_OR_UNBOUNDED,
        "Time limit reached": Status.TIME_LIMIT,
    }

    def _engine(self, solver: SolverSpec, limits: SolveLimits) -> Any:
        options: dict[str, Any] = {"msg": limits.solver_output, "gapRel": limits.mip_rel_gap}
        if limits.time_limit_s is not None:
            options["timeLimit"] = limits.time_limit_s
        if limits.threads is not None and solver.native in _THREADED:
            options["threads"] = limits.threads
        return _engine(solver.native, **options)

    def run_solver(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolverReport:
        import pulp

        native.solve(self._engine(solver, limits))
        status, sol = native.status, native.sol_status
        # values are meaningful only for an optimal or integer-feasible solution; an LP cut
        # off by the time limit leaves arbitrary values behind
        incumbent = sol in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
        word = pulp.LpSolution[sol] if sol != pulp.LpSolutionNoSolutionFound else \
            pulp.LpStatus[status]
        highs = _highs_status(native) if solver.native == "HiGHS" else None
        if highs in ("Primal infeasible or unbounded", "Time limit reached"):
            word = highs
            incumbent = incumbent and highs == "Time limit reached" and \
                native.solverModel.getInfo().primal_solution_status == 2
        objective = pulp.value(native.objective) if incumbent else None
        message = f"{pulp.LpStatus[status]}/{pulp.LpSolution[sol]}"
        return SolverReport(word, message + (f" (HiGHS: {highs})" if highs else ""),
                            objective=objective, has_incumbent=incumbent,
                            solver_time_s=_solver_time(native, solver),
                            sense="max" if native.sense == pulp.LpMaximize else "min",
                            bound=_bound(native, solver, objective) if incumbent else None)

    def feasible(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> bool | None:
        import pulp

        objective, sense = native.objective, native.sense
        native.setObjective(pulp.LpAffineExpression())
        try:
            native.solve(self._engine(solver, limits))
        finally:
            native.objective, native.sense = objective, sense
        if native.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            return True
        if native.status == pulp.LpStatusInfeasible:
            return False
        return None

    def normalise_duals(self, native: Any, solver: SolverSpec) -> None:
        """Dual-sign rules per solver, so that every formulation reads one convention
        (CBC's: the dual is the objective's change per unit of right-hand side). PuLP 3.3's
        HiGHS interface minimises the negated objective of a maximisation and passes
        HiGHS's row duals through, so their sign is the opposite (found by the prosumer
        model's independent price check)."""
        import pulp

        if solver.native in _FLIP_DUALS_WHEN_MAXIMISING and native.sense == pulp.LpMaximize:
            # PuLP 3.3 warns on the dict view and PuLP 4 makes constraints() a list
            rows = native.constraints
            for constraint in rows() if callable(rows) else rows.values():
                if constraint.pi is not None:
                    constraint.pi = -constraint.pi

    def model_size(self, native: Any) -> ModelSize | None:
        variables = native.variables()
        return ModelSize(len(variables), sum(v.cat == "Integer" for v in variables),
                         native.numConstraints())


class PulpDictsBackend(PulpBackend):
    """PuLP's adapter for the models written with dict-built expressions: the same
    ``LpProblem`` objects, so the same solve, status and dual rules."""

    name = "pulp_dicts"


def _solver_time(native: Any, solver: SolverSpec) -> float | None:
    """HiGHS's own run time (PuLP keeps the ``highspy.Highs`` object it solved with);
    None for the solvers PuLP runs as a subprocess (CBC, SCIP): PuLP's ``solutionTime``
    also counts writing the model file and reading the answer back, the layer's handoff,
    so it is not the solver's own time."""
    model = getattr(native, "solverModel", None)
    if solver.native == "HiGHS" and model is not None and hasattr(model, "getRunTime"):
        return float(model.getRunTime())
    return None
