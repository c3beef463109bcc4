"""linopy backend adapter: native models are ``linopy.Model`` objects.

How the model reaches the solver: ``Model.solve(solver_name="highs", io_api="direct")``.
linopy's default for HiGHS is ``io_api="lp"`` (write an LP file, HiGHS reads it back);
``"direct"`` builds a ``highspy.Highs`` from linopy's sparse matrices in memory
(``Highs._build_solver_model``: ``addVars``, ``changeColsIntegrality``, ``addRows`` in CSR
form), with no file and no names, the fastest path linopy documents. After the solve
``Model.solver_model`` is that ``highspy.Highs`` object, so the adapter reads HiGHS's own
model status, run time (``getRunTime``: the solver's own time, ``solver_time_s``), MIP dual
bound and node count from it, as the PuLP adapter does for its HiGHS engine.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import numpy as np

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

_MODULE_OF = {"highs": "highspy"}
# HiGHS's primal_solution_status: 2 is a feasible point (an incumbent at a limit)
_FEASIBLE_POINT = 2


@cache
def solver_available(native: str) -> bool:
    if not (installed("linopy") and installed(_MODULE_OF.get(native, native))):
        return False
    try:
        import linopy

        return native in linopy.available_solvers
    except Exception:
        return False


def solver_version(native: str) -> str | None:
    return dist_version(_MODULE_OF.get(native, native))


def _options(limits: SolveLimits) -> dict[str, Any]:
    options: dict[str, Any] = {"output_flag": limits.solver_output,
                               "mip_rel_gap": limits.mip_rel_gap}
    if limits.time_limit_s is not None:
        options["time_limit"] = float(limits.time_limit_s)
    if limits.threads is not None:
        options["threads"] = int(limits.threads)
    return options


def _check_solver(solver: SolverSpec) -> None:
    if solver.native != "highs":
        raise ValueError(f"the linopy adapter drives HiGHS only, not {solver.native}")


class LinopyBackend(BackendAdapter):
    name = module = distribution = "linopy"
    # HiGHS's own model status words (modelStatusToString), read from Model.solver_model
    status_map = {
        "Optimal": Status.OPTIMAL,
        "Infeasible": Status.INFEASIBLE,
        "Unbounded": Status.UNBOUNDED,
        "Primal infeasible or unbounded": INFEASIBLE_OR_UNBOUNDED,
        "Time limit reached": Status.TIME_LIMIT,
    }

    def _solve(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> Any:
        # linopy logs every solve at INFO; gridbench's own output stays its own
        logging.getLogger("linopy").setLevel(logging.WARNING)
        _check_solver(solver)
        native.solve(solver_name="highs", io_api="direct", progress=False, **_options(limits))
        return native.solver_model

    def run_solver(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolverReport:
        highs = self._solve(native, solver, limits)
        word = highs.modelStatusToString(highs.getModelStatus())
        info = highs.getInfo()
        incumbent = word == "Optimal" or (
            word == "Time limit reached" and info.primal_solution_status == _FEASIBLE_POINT)
        sense = native.objective.sense
        objective = float(native.objective.value) if incumbent else None
        mip = bool(len(native.integers) or len(native.binaries))
        bound = None
        if incumbent:
            # linopy passes the objective without its constant; HiGHS's bound is in the
            # model's own sense (the sense is set natively, not by negation)
            bound = float(info.mip_dual_bound) + _constant(native) if mip else objective
        return SolverReport(word, f"{native.termination_condition} (HiGHS: {word})",
                            objective=objective, has_incumbent=incumbent,
                            solver_time_s=float(highs.getRunTime()), sense=sense, bound=bound,
                            nodes=int(info.mip_node_count) if mip else None)

    def feasible(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> bool | None:
        """Re-run the ``highspy.Highs`` linopy built with zero costs, then put them back."""
        _check_solver(solver)
        highs = native.solver_model
        if highs is None:
            return None
        costs = np.asarray(highs.getLp().col_cost_, dtype=float)
        columns = np.arange(costs.size, dtype=np.int32)
        highs.changeColsCost(costs.size, columns, np.zeros_like(costs))
        try:
            highs.clearSolver()
            highs.run()
            word = highs.modelStatusToString(highs.getModelStatus())
        finally:
            highs.changeColsCost(costs.size, columns, costs)
        if word == "Optimal":
            return True
        if word == "Infeasible":
            return False
        return None

    def model_size(self, native: Any) -> ModelSize | None:
        vtypes = native.matrices.vtypes
        return ModelSize(int(native.nvars), int(np.isin(vtypes, ("I", "B")).sum()),
                         int(native.ncons))


def _constant(native: Any) -> float:
    constant = getattr(native.objective.expression, "const", 0.0)
    try:
        return float(constant)
    except (TypeError, ValueError):
        return 0.0
