"""Raw backend adapter: the native model is a :class:`RawModel`, the problem in matrix form,
passed to ``highspy.Highs`` as one ``HighsLp`` (constraint matrix column-wise)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from bench.api import (
    INFEASIBLE_OR_UNBOUNDED,
    BackendAdapter,
    ModelSize,
    SolveLimits,
    SolverReport,
    SolverSpec,
    Status,
    captured_output,
)


@dataclass
class RawModel:
    """``sense`` c'x + x'Hx / 2 + offset subject to row_lower <= A x <= row_upper and
    col_lower <= x <= col_upper, x_j integer where ``integrality[j]``. After a solve with a
    solution, ``x`` holds the column values and ``row_dual`` the row duals (objective change
    per unit of a row's bound: HiGHS's own convention for a minimisation)."""

    c: np.ndarray
    A: sp.spmatrix | sp.sparray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray | None = None  # bool per column; None: all continuous
    # the objective's Hessian H (symmetric; None: linear); a maximisation needs H <= 0
    hessian: sp.spmatrix | sp.sparray | None = None
    sense: str = "min"
    offset: float = 0.0
    x: np.ndarray | None = None
    row_dual: np.ndarray | None = None

    @property
    def num_col(self) -> int:
        return int(self.c.shape[0])

    @property
    def num_row(self) -> int:
        return int(self.A.shape[0])

    @property
    def is_mip(self) -> bool:
        return self.integrality is not None and bool(np.any(self.integrality))

    def highs_lp(self, cost: np.ndarray | None = None) -> Any:
        """The model as a ``highspy.HighsLp`` (``cost`` replaces the objective)."""
        import highspy

        A = sp.csc_matrix(self.A)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.num_col, self.num_row
        lp.col_cost_ = np.asarray(self.c if cost is None else cost, float)
        lp.col_lower_ = np.asarray(self.col_lower, float)
        lp.col_upper_ = np.asarray(self.col_upper, float)
        lp.row_lower_ = np.asarray(self.row_lower, float)
        lp.row_upper_ = np.asarray(self.row_upper, float)
        lp.offset_ = float(self.offset) if cost is None else 0.0
        lp.sense_ = highspy.ObjSense.kMaximize if self.sense == "max" else \
            highspy.ObjSense.kMinimize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = A.indptr
        lp.a_matrix_.index_ = A.indices
        lp.a_matrix_.value_ = A.data
        if self.is_mip:
            lp.integrality_ = np.where(np.asarray(self.integrality, bool),
                                       highspy.HighsVarType.kInteger,
                                       highspy.HighsVarType.kContinuous).tolist()
        return lp

    def highs_model(self) -> Any:
        """What ``Highs.passModel`` takes: the ``HighsLp``, or with a Hessian a
        ``HighsModel`` holding it (HiGHS reads the lower triangle, column-wise)."""
        import highspy

        lp = self.highs_lp()
        if self.hessian is None:
            return lp
        lower = sp.csc_matrix(sp.tril(self.hessian))
        hessian = highspy.HighsHessian()
        hessian.dim_ = self.num_col
        hessian.format_ = highspy.HessianFormat.kTriangular
        hessian.start_ = lower.indptr
        hessian.index_ = lower.indices
        hessian.value_ = lower.data
        model = highspy.HighsModel()
        model.lp_ = lp
        model.hessian_ = hessian
        return model


def _highs(limits: SolveLimits, mip: bool) -> Any:
    import highspy

    with captured_output(None):  # the banner a new HiGHS prints before any option
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", bool(limits.solver_output))
    if limits.time_limit_s is not None:
        highs.setOptionValue("time_limit", float(limits.time_limit_s))
    if mip:
        highs.setOptionValue("mip_rel_gap", float(limits.mip_rel_gap))
    if limits.threads is not None:
        highs.setOptionValue("threads", int(limits.threads))
    return highs


def _run(highs: Any) -> None:
    # HiGHS keeps one thread scheduler per process, sized by the first run: release it
    # around each run so another thread count in the same process can start
    highs.resetGlobalScheduler(True)
    try:
        highs.run()
    finally:
        highs.resetGlobalScheduler(True)


class RawBackend(BackendAdapter):
    name = "raw"
    module = distribution = "highspy"
    # HiGHS's model status words (Highs.modelStatusToString)
    status_map = {
        "Optimal": Status.OPTIMAL,
        "Infeasible": Status.INFEASIBLE,
        "Unbounded": Status.UNBOUNDED,
        "Primal infeasible or unbounded": INFEASIBLE_OR_UNBOUNDED,
        "Time limit reached": Status.TIME_LIMIT,
        "Iteration limit reached": Status.FEASIBLE,
        "Solution limit reached": Status.FEASIBLE,
        "Interrupted by user": Status.FEASIBLE,
        "Objective bound": Status.FEASIBLE,
        "Objective target": Status.FEASIBLE,
    }

    def run_solver(self, native: RawModel, solver: SolverSpec,
                   limits: SolveLimits) -> SolverReport:
        mip = native.is_mip
        highs = _highs(limits, mip)
        highs.passModel(native.highs_model())
        _run(highs)
        word = highs.modelStatusToString(highs.getModelStatus())
        info = highs.getInfo()
        incumbent = info.primal_solution_status == 2  # kSolutionStatusFeasible
        native.x = native.row_dual = None
        objective = bound = None
        if incumbent:
            solution = highs.getSolution()
            native.x = np.asarray(solution.col_value, float)
            if not mip and solution.dual_valid:
                native.row_dual = np.asarray(solution.row_dual, float)
            objective = float(info.objective_function_value)
            bound = float(info.mip_dual_bound) if mip else (
                objective if word == "Optimal" else None)
        return SolverReport(word, f"HiGHS: {word}", objective=objective,
                            has_incumbent=incumbent, solver_time_s=float(highs.getRunTime()),
                            bound=bound, sense=native.sense,
                            nodes=int(info.mip_node_count) if mip else None)

    def feasible(self, native: RawModel, solver: SolverSpec,
                 limits: SolveLimits) -> bool | None:
        highs = _highs(limits, native.is_mip)
        highs.passModel(native.highs_lp(cost=np.zeros(native.num_col)))
        _run(highs)
        word = highs.modelStatusToString(highs.getModelStatus())
        if word == "Optimal" or highs.getInfo().primal_solution_status == 2:
            return True
        if word == "Infeasible":
            return False
        return None

    def model_size(self, native: RawModel) -> ModelSize | None:
        integers = int(np.count_nonzero(native.integrality)) if native.is_mip else 0
        return ModelSize(native.num_col, integers, native.num_row)
