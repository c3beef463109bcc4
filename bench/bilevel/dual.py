"""The follower's dual, derived automatically for every bound type and row sense.

The follower LP is first put in a *stacked* minimisation form: its rows and its finite
variable bounds become one system ``Abar y (sense_k) beta_k(x)``, with ``sign`` = +1 for a
minimising follower and -1 for a maximising one (``min sign * c(x).y``)::

    row i of A y <= b(x)       -> kind -1, dual d_k <= 0
    row i of A y >= b(x)       -> kind +1, dual d_k >= 0
    row i of A y == b(x)       -> kind  0, dual d_k free
    y_j >= l_j  (l_j finite)   -> kind +1, dual d_k >= 0
    y_j <= u_j  (u_j finite)   -> kind -1, dual d_k <= 0
    y_j == f_j  (l_j == u_j)   -> kind  0, dual d_k free
    free y_j                   -> no row

The dual is then ``max beta(x).d  s.t.  Abar' d = sign * c(x)`` with those signs; its
variables are the sensitivities of the follower's optimal (min-form) value to each
right-hand side, exactly what HiGHS reports as marginals (the thesis writes the same dual
with w <= 0 for its <= rows, eqs. 10-11 and 38-39). Strong duality (eq. 17) reads
``sign * c(x).y = beta(x).d``; complementarity pairs every inequality entry's slack with its
dual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from bench.bilevel.problem import EQ, GE, LE, BilevelProblem

ROW, LOWER, UPPER, FIXED = 0, 1, 2, 3
_ORIGIN = {ROW: "row", LOWER: "lower bound", UPPER: "upper bound", FIXED: "fixed value"}
_KIND = {LE: -1, GE: 1, EQ: 0}


@dataclass(frozen=True)
class StackedFollower:
    """The follower in min form with its finite bounds as rows (see the module doc)."""

    sign: float
    cost0: np.ndarray  # sign * c0
    cost_x: sp.csr_matrix  # sign * C
    A: sp.csr_matrix  # K x n_y
    beta0: np.ndarray  # K
    beta_x: sp.csr_matrix  # K x n_x
    kind: np.ndarray  # K: -1 (<=), +1 (>=), 0 (==)
    origin: np.ndarray  # K: ROW, LOWER, UPPER, FIXED
    source: np.ndarray  # K: follower row index or follower variable index
    names: tuple[str, ...]  # K: what each entry is, for messages

    @property
    def n_duals(self) -> int:
        return len(self.beta0)

    @property
    def pairs(self) -> np.ndarray:
        """Entries with a complementarity pair (the inequalities)."""
        return np.flatnonzero(self.kind != 0)

    def cost(self, x: np.ndarray) -> np.ndarray:
        return self.cost0 + self.cost_x @ x

    def rhs(self, x: np.ndarray) -> np.ndarray:
        return self.beta0 + self.beta_x @ x

    def slack(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Non-negative at a feasible point for inequality entries (0 for equalities)."""
        residual = self.A @ y - self.rhs(x)
        return np.where(self.kind == -1, -residual, residual)

    def dual_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        lower = np.where(self.kind == -1, -np.inf, np.where(self.kind == 1, 0.0, -np.inf))
        upper = np.where(self.kind == -1, 0.0, np.inf)
        return lower, upper

    def dual_objective(self, x: np.ndarray, d: np.ndarray) -> float:
        return float(self.rhs(x) @ d)

    def dual_residual(self, x: np.ndarray, d: np.ndarray) -> np.ndarray:
        return self.A.T @ d - self.cost(x)

    def dual_name(self, k: int) -> str:
        return f"dual of {self.names[k]}"


def stack_follower(problem: BilevelProblem) -> StackedFollower:
    """The stacked min-form follower of ``problem`` (rows first, then bounds)."""
    n_y, n_x = problem.n_y, problem.n_x
    lo, hi = problem.follower_lower, problem.follower_upper
    fixed = np.flatnonzero(np.isfinite(lo) & (lo == hi))
    lower = np.flatnonzero(np.isfinite(lo) & (lo != hi))
    upper = np.flatnonzero(np.isfinite(hi) & (lo != hi))
    eye = sp.identity(n_y, format="csr")
    A = sp.vstack([problem.A, eye[lower], eye[upper], eye[fixed]]).tocsr()
    beta0 = np.concatenate([problem.b0, lo[lower], hi[upper], lo[fixed]])
    n_bounds = len(lower) + len(upper) + len(fixed)
    beta_x = sp.vstack([problem.B, sp.csr_matrix((n_bounds, n_x))]).tocsr()
    kind = np.concatenate([[_KIND[s] for s in problem.row_sense],
                           np.ones(len(lower)), -np.ones(len(upper)), np.zeros(len(fixed))])
    origin = np.concatenate([np.full(problem.n_rows, ROW), np.full(len(lower), LOWER),
                             np.full(len(upper), UPPER), np.full(len(fixed), FIXED)])
    source = np.concatenate([np.arange(problem.n_rows), lower, upper, fixed])
    names = tuple(
        [f"row {name}" for name in problem.row_names]
        + [f"{_ORIGIN[o]} of {problem.follower_names[j]}"
           for o, j in zip(origin[problem.n_rows:], source[problem.n_rows:], strict=True)])
    sign = 1.0 if problem.follower_sense == "min" else -1.0
    return StackedFollower(sign, sign * problem.c0, (sign * problem.C).tocsr(), A, beta0,
                           beta_x, kind.astype(np.int8), origin.astype(np.int8),
                           source.astype(np.int64), names)


def follower_components(st: StackedFollower, n_y: int) -> tuple[np.ndarray, np.ndarray]:
    """Which independent part of the follower each variable and each stacked dual entry
    belongs to: the connected components of the bipartite graph of ``Abar`` (an entry without
    follower variables gets the label -1). For a fixed leader decision the follower LP is the
    sum of these LPs (e.g. one per load block), and so is its duality gap."""
    from scipy.sparse.csgraph import connected_components

    A = st.A.tocoo()
    K = A.shape[0]
    graph = sp.coo_matrix((np.ones(A.nnz), (A.row, K + A.col)), shape=(K + n_y, K + n_y))
    _, labels = connected_components(graph, directed=False)
    dual_part = np.where(np.diff(st.A.indptr) == 0, -1, labels[:K])
    return labels[K:], dual_part


# --------------------------------------------------------------------------- follower LP


@dataclass
class FollowerSolution:
    """The follower's LP at a fixed leader decision, solved by HiGHS (scipy)."""

    status: str  # optimal | infeasible | unbounded | error
    y: np.ndarray | None = None
    value: float | None = None  # min-form optimal value: sign * c(x).y
    duals: np.ndarray | None = None  # stacked order, from HiGHS's marginals
    message: str = ""


def _linprog_status(code: int) -> str:
    return {0: "optimal", 2: "infeasible", 3: "unbounded"}.get(code, "error")


def follower_lp_arrays(problem: BilevelProblem, x: np.ndarray, relax: float = 0.0):
    """(c, A_ub, b_ub, A_eq, b_eq, bounds, ub_rows, ub_sign, eq_rows) for linprog, min form.

    ``relax`` > 0 widens every row by that much (an equality becomes two inequalities, so
    ``ub_rows`` may name a row twice): the follower at a leader decision that is off by a
    tolerance, as the certificate re-solves it (bench.bilevel.tolerances)."""
    sign = 1.0 if problem.follower_sense == "min" else -1.0
    c = sign * problem.follower_cost(x)
    b = problem.follower_rhs(x)
    senses = np.asarray(problem.row_sense)
    if relax > 0:
        eq = np.flatnonzero(senses == EQ)
        rows = np.flatnonzero(senses != EQ)
        ub_rows = np.concatenate([rows, eq, eq])
        ub_sign = np.concatenate([np.where(senses[rows] == LE, 1.0, -1.0),
                                  np.ones(len(eq)), -np.ones(len(eq))])
        eq_rows = np.zeros(0, np.int64)
    else:
        ub_rows = np.flatnonzero(senses != EQ)
        ub_sign = np.where(senses[ub_rows] == LE, 1.0, -1.0)
        eq_rows = np.flatnonzero(senses == EQ)
    A_ub = sp.diags(ub_sign) @ problem.A[ub_rows] if len(ub_rows) else None
    b_ub = ub_sign * b[ub_rows] + relax if len(ub_rows) else None
    A_eq = problem.A[eq_rows] if len(eq_rows) else None
    b_eq = b[eq_rows] if len(eq_rows) else None
    bounds = np.column_stack([problem.follower_lower, problem.follower_upper])
    return c, A_ub, b_ub, A_eq, b_eq, bounds, ub_rows, ub_sign, eq_rows


def solve_follower(problem: BilevelProblem, x: np.ndarray,
                   stacked: StackedFollower | None = None, relax: float = 0.0
                   ) -> FollowerSolution:
    """Solve the follower at ``x`` (rows widened by ``relax``, see follower_lp_arrays); the
    duals are mapped into the stacked order."""
    stacked = stacked or stack_follower(problem)
    c, A_ub, b_ub, A_eq, b_eq, bounds, ub_rows, ub_sign, eq_rows = follower_lp_arrays(
        problem, x, relax)
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds,
                  method="highs")
    status = _linprog_status(res.status)
    if status != "optimal":
        return FollowerSolution(status, message=res.message)
    d = np.zeros(stacked.n_duals)
    n_rows = problem.n_rows
    row_dual = np.zeros(n_rows)
    if len(ub_rows):  # an equality split in two (relax) adds its two halves' duals
        np.add.at(row_dual, ub_rows, ub_sign * res.ineqlin.marginals)
    if len(eq_rows):
        row_dual[eq_rows] = res.eqlin.marginals
    d[:n_rows] = row_dual
    bound_part = slice(n_rows, None)
    origin, source = stacked.origin[bound_part], stacked.source[bound_part]
    lower_m, upper_m = res.lower.marginals, res.upper.marginals
    d[bound_part] = np.where(origin == LOWER, lower_m[source],
                             np.where(origin == UPPER, upper_m[source],
                                      lower_m[source] + upper_m[source]))
    return FollowerSolution(status, res.x, float(res.fun), d)


def solve_dual(problem: BilevelProblem, x: np.ndarray,
               stacked: StackedFollower | None = None) -> FollowerSolution:
    """Solve the automatically derived dual LP at ``x`` (max beta(x).d, Abar'd = c(x))."""
    stacked = stacked or stack_follower(problem)
    lower, upper = stacked.dual_bounds()
    res = linprog(-stacked.rhs(x), A_eq=stacked.A.T.tocsr(), b_eq=stacked.cost(x),
                  bounds=np.column_stack([lower, upper]), method="highs")
    status = _linprog_status(res.status)
    if status != "optimal":
        return FollowerSolution(status, message=res.message)
    return FollowerSolution(status, None, float(-res.fun), res.x)
