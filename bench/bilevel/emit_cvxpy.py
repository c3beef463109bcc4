"""Emit a :class:`SingleLevelModel` as a CVXPY problem: one variable per (block, kind),
sparse matrices times variables, vectorised rows. CVXPY has no SOS1 constraints, so a
model with SOS1 sets is not applicable here."""

from __future__ import annotations

import numpy as np

from bench.bilevel.problem import BilevelError
from bench.bilevel.reformulate import BIN, INT, SingleLevelModel
from bench.errors import NotApplicable


def to_cvxpy(model: SingleLevelModel):
    """(cvxpy.Problem, extract) where ``extract()`` returns the model's variable vector."""
    import cvxpy as cp

    if model.row_bilinear is not None or model.objective_bilinear is not None:
        raise BilevelError("CVXPY states convex models only (DCP): a bilinear model needs a "
                           "backend/solver with the 'bilinear' feature")

    if model.sos1:
        raise NotApplicable("CVXPY has no SOS1 constraints: kkt_sos1 cannot be stated "
                            "(use Pyomo with SCIP, or PuLP with CBC)")
    variables = []
    for name, idx, kind in model.groups():
        lo, hi = model.lower[idx], model.upper[idx]
        if kind == BIN:
            var = cp.Variable(len(idx), name=name, boolean=True)
        else:
            var = cp.Variable(len(idx), name=name, integer=kind == INT, bounds=[lo, hi])
        variables.append((idx, var))
    A = model.A.tocsc()

    def affine(matrix, rows=None):
        """sum over variable groups of matrix[rows, group] @ group variable."""
        sub = matrix if rows is None else matrix[rows]
        return sum(sub[:, idx] @ var for idx, var in variables)

    lo, hi = model.row_lower, model.row_upper
    equal = np.flatnonzero(lo == hi)
    upper = np.flatnonzero(np.isfinite(hi) & (lo != hi))
    lower = np.flatnonzero(np.isfinite(lo) & (lo != hi))
    A_rows = A.tocsr()
    constraints = []
    if len(equal):
        constraints.append(affine(A_rows, equal) == hi[equal])
    if len(upper):
        constraints.append(affine(A_rows, upper) <= hi[upper])
    if len(lower):
        constraints.append(affine(A_rows, lower) >= lo[lower])
    objective = sum(model.c[idx] @ var for idx, var in variables) + model.c0
    sense = cp.Minimize if model.sense == "min" else cp.Maximize
    problem = cp.Problem(sense(objective), constraints)

    def extract() -> np.ndarray:
        v = np.full(model.n_vars, np.nan)
        for idx, var in variables:
            if var.value is not None:
                v[idx] = np.asarray(var.value).ravel()
        return v

    return problem, extract

