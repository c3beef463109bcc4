"""Helpers for keeping one follower LP in HiGHS and re-costing it per leader decision.

When the leader enters only the follower's costs (``B = 0``, no leader rows) the follower's
feasible set is the same at every grid point, so a grid oracle can keep one HiGHS model and
re-solve it from the previous basis instead of one cold LP per point (about 20x faster on
the DG contract-pricing grids, gridbench_dg_contract_pricing.fast_oracle)."""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from bench.bilevel.problem import BilevelProblem


def highs_lp(A: sp.spmatrix, row_lower, row_upper, lower, upper, cost) -> highspy.Highs:
    """A silent HiGHS instance holding ``min cost.y, row_lower <= A y <= row_upper``."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    csc = sp.csc_matrix(A)
    lp.num_col_, lp.num_row_ = csc.shape[1], csc.shape[0]
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_ = np.asarray(lower, float)
    lp.col_upper_ = np.asarray(upper, float)
    lp.row_lower_ = np.asarray(row_lower, float)
    lp.row_upper_ = np.asarray(row_upper, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr
    lp.a_matrix_.index_ = csc.indices
    lp.a_matrix_.value_ = csc.data
    h.passModel(lp)
    return h


def leader_only_in_costs(problem: BilevelProblem) -> bool:
    return not (problem.B.nnz or problem.Gy.nnz or problem.Gx.nnz)


def follower_row_bounds(problem: BilevelProblem) -> tuple[np.ndarray, np.ndarray]:
    senses = np.asarray(problem.row_sense)
    b = problem.follower_rhs(np.zeros(problem.n_x))
    return np.where(senses == "<=", -np.inf, b), np.where(senses == ">=", np.inf, b)
