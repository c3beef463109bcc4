"""The exact oracle: optimistic bilevel optima without big-Ms, from LPs only (scipy/HiGHS).

* Gridded / integer leaders: **enumeration**. For every leader grid point solve the follower
  LP (its optimal value v*(x)), then a second LP for the optimistic tie-break: the best
  leader objective over the follower's optimal face {y feasible, sign*c(x).y <= v*(x)} and
  the leader's coupling rows. The best grid point wins.
* Continuous leaders: **complementarity branch-and-bound** (in the spirit of Bard & Moore
  1990): LP relaxations of the KKT system (primal rows, dual feasibility, signs) without
  complementarity; a node whose LP optimum violates a pair branches into "slack = 0" and
  "dual = 0"; nodes whose bound cannot beat the incumbent are pruned. Every leaf fixes one
  side of each violated pair, so the search is exact; no big-M is involved.
* Mixed leaders: enumeration of the discrete part, branch-and-bound for the rest.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from bench.algorithm import check_time
from bench.bilevel.bounds import grid_points, grid_size
from bench.bilevel.dual import StackedFollower, solve_follower, stack_follower
from bench.bilevel.problem import (
    CONTINUOUS,
    EQ,
    GE,
    LE,
    BilevelError,
    BilevelProblem,
    NotStatable,
)
from bench.bilevel.tolerances import POLICY

OPTIMALITY_TOL = POLICY.tie_break[1]  # the follower's value's slack in the tie-break LP
COMPLEMENTARITY_TOL = POLICY.complementarity


class OracleLimit(BilevelError):
    """The oracle would need more grid points or nodes than allowed."""


@dataclass
class OracleResult:
    status: str  # optimal | infeasible | unbounded
    method: str
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    duals: np.ndarray | None = None
    leader_value: float | None = None
    follower_value: float | None = None
    lps: int = 0
    points: int = 0  # grid points enumerated
    nodes: int = 0  # branch-and-bound nodes
    ties: int = 0  # other grid points within tolerance of the best value

    def summary(self) -> str:
        parts = [f"{self.method}: {self.status}"]
        if self.leader_value is not None:
            parts.append(f"leader objective {self.leader_value:.10g}")
        parts.append(f"{self.lps} LPs")
        if self.points:
            parts.append(f"{self.points} grid points")
        if self.nodes:
            parts.append(f"{self.nodes} nodes")
        return ", ".join(parts)


@dataclass
class Response:
    """The follower's optimistic response at a fixed leader decision."""

    # optimal | follower_infeasible | follower_unbounded | follower_error | unbounded (the
    # leader's objective over the follower's optimal face) | coupling_infeasible
    status: str
    y: np.ndarray | None = None
    duals: np.ndarray | None = None
    follower_value: float | None = None  # min form
    leader_value: float | None = None
    lps: int = 0


def _split_rows(M: sp.csr_matrix, rhs: np.ndarray, senses, relax: float = 0.0) -> tuple:
    """(A_ub, b_ub, A_eq, b_eq); ``relax`` > 0 widens each row by that much (equalities
    become two inequalities)."""
    s = np.asarray(senses)
    le, ge, eq = (np.flatnonzero(s == LE), np.flatnonzero(s == GE), np.flatnonzero(s == EQ))
    if relax > 0:
        le, ge, eq = np.concatenate([le, eq]), np.concatenate([ge, eq]), eq[:0]
    A_ub = sp.vstack([M[le], -M[ge]]).tocsr()
    b_ub = np.concatenate([rhs[le], -rhs[ge]]) + relax
    return A_ub, b_ub, M[eq], rhs[eq]


def optimistic_response(problem: BilevelProblem, x: np.ndarray,
                        stacked: StackedFollower | None = None, relax: float = 0.0
                        ) -> Response:
    """Follower LP at ``x``, then the leader's best among the follower's optimal answers.
    ``relax`` > 0 widens the follower's and the coupling rows by that much (the certificate's
    re-solve at a leader decision reported to a tolerance, bench.bilevel.tolerances)."""
    stacked = stacked or stack_follower(problem)
    first = solve_follower(problem, x, stacked, relax)
    if first.status != "optimal":  # no optimal answer: x is not bilevel-feasible
        return Response(f"follower_{first.status}", lps=1)
    p = problem
    lead = 1.0 if p.leader_sense == "min" else -1.0
    objective = lead * (p.fy + p.Q.T @ x)
    f_ub, f_bub, f_eq, f_beq = _split_rows(p.A, p.follower_rhs(x), p.row_sense, relax)
    l_ub, l_bub, l_eq, l_beq = _split_rows(p.Gy, p.h - p.Gx @ x, p.leader_row_sense, relax)
    cost = stacked.cost(x).reshape(1, -1)
    bounds = np.column_stack([p.follower_lower, p.follower_upper])
    # HiGHS's own tolerances first; a relaxed re-solve (the certificate's) may go up to the
    # optimality tolerance, the follower gap the certificate accepts anyway
    caps = POLICY.tie_break + ((POLICY.optimality.relative,) if relax > 0 else ())
    for tol in caps:
        cap = first.value + tol * max(1.0, abs(first.value))
        A_ub = sp.vstack([f_ub, l_ub, sp.csr_matrix(cost)]).tocsr()
        b_ub = np.concatenate([f_bub, l_bub, [cap]])
        A_eq = sp.vstack([f_eq, l_eq]).tocsr()
        b_eq = np.concatenate([f_beq, l_beq])
        res = linprog(objective, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq if A_eq.shape[0] else None,
                      b_eq=b_eq if A_eq.shape[0] else None, bounds=bounds, method="highs")
        if res.status == 0:
            y = res.x
            return Response("optimal", y, first.duals, first.value,
                            p.leader_objective(x, y), lps=2)
    if res.status == 3:
        return Response("unbounded", lps=3)
    return Response("coupling_infeasible", lps=3)


# --------------------------------------------------------------------------- enumeration


def enumerate_grid(problem: BilevelProblem, max_points: int = 20_000) -> OracleResult:
    size = grid_size(problem)
    if size is None:
        raise NotStatable("grid enumeration needs every leader variable gridded, or integer "
                          "with finite bounds")
    if size > max_points:
        raise OracleLimit(f"{size} grid points exceed the limit of {max_points}")
    stacked = stack_follower(problem)
    best = OracleResult("infeasible", "grid enumeration")
    lead = 1.0 if problem.leader_sense == "min" else -1.0
    values = []
    unbounded = False
    for x in grid_points(problem):
        check_time(f"{best.points} of {size} grid points")
        if problem.Gy.nnz == 0 and problem.leader_violation(x, np.zeros(problem.n_y)) > 1e-9:
            best.points += 1
            continue  # a leader-only row excludes this grid point
        response = optimistic_response(problem, x, stacked)
        best.lps += response.lps
        best.points += 1
        unbounded |= response.status == "unbounded"
        if response.status != "optimal":
            continue
        values.append(response.leader_value)
        better = best.leader_value is None or (
            lead * response.leader_value
            < lead * best.leader_value - 1e-12 * max(1.0, abs(best.leader_value)))
        if better:
            best.status, best.x, best.y, best.duals = "optimal", x, response.y, response.duals
            best.leader_value = response.leader_value
            best.follower_value = problem.follower_objective(x, response.y)
    if unbounded:
        best.status = "unbounded"  # some grid point lets the leader's objective diverge
    if best.leader_value is not None:
        scale = 1e-7 * max(1.0, abs(best.leader_value))
        best.ties = sum(abs(v - best.leader_value) <= scale for v in values) - 1
    return best


# --------------------------------------------------------------------------- branch and bound


@dataclass
class _KKTSystem:
    """LP data of the KKT relaxation over (x_c, y, d) with the discrete leaders fixed."""

    problem: BilevelProblem
    stacked: StackedFollower
    x_fixed: np.ndarray  # full leader vector with the continuous entries at 0
    cont: np.ndarray  # indices of continuous leaders

    def __post_init__(self) -> None:
        p, st, xf, c = self.problem, self.stacked, self.x_fixed, self.cont
        self.n_c, self.n_y, self.n_d = len(c), p.n_y, st.n_duals
        Bc = p.B[:, c]
        f_ub, f_bub, f_eq, f_beq = _split_rows(sp.hstack([-Bc, p.A]).tocsr(),
                                               p.follower_rhs(xf), p.row_sense)
        l_ub, l_bub, l_eq, l_beq = _split_rows(sp.hstack([p.Gx[:, c], p.Gy]).tocsr(),
                                               p.h - p.Gx @ xf, p.leader_row_sense)
        self.A_ub = sp.vstack([sp.hstack([f_ub, sp.csr_matrix((f_ub.shape[0], self.n_d))]),
                               sp.hstack([l_ub, sp.csr_matrix((l_ub.shape[0], self.n_d))])
                               ]).tocsr() if f_ub.shape[0] + l_ub.shape[0] else None
        self.b_ub = np.concatenate([f_bub, l_bub])
        dual_rows = sp.hstack([-st.cost_x[:, c], sp.csr_matrix((self.n_y, self.n_y)),
                               st.A.T]).tocsr()
        eq_blocks = [sp.hstack([f_eq, sp.csr_matrix((f_eq.shape[0], self.n_d))]),
                     sp.hstack([l_eq, sp.csr_matrix((l_eq.shape[0], self.n_d))]),
                     dual_rows]
        self.A_eq = sp.vstack(eq_blocks).tocsr()
        self.b_eq = np.concatenate([f_beq, l_beq, st.cost(xf)])
        # slack_k = sign_k * (Abar_k y - beta_x,k x_c - beta_k(x_fixed)) over (x_c, y, d)
        self.sign = np.where(st.kind == -1, -1.0, 1.0)
        self.slack_M = sp.diags(self.sign) @ sp.hstack(
            [-st.beta_x[:, c], st.A, sp.csr_matrix((self.n_d, self.n_d))]).tocsr()
        self.slack_c = -self.sign * st.rhs(xf)
        lower, upper = st.dual_bounds()
        self.bounds = np.column_stack([
            np.concatenate([p.leader_lower[c], p.follower_lower, lower]),
            np.concatenate([p.leader_upper[c], p.follower_upper, upper])])
        lead = 1.0 if p.leader_sense == "min" else -1.0
        self.objective = lead * np.concatenate([p.fx[c], p.fy + p.Q.T @ xf,
                                                np.zeros(self.n_d)])
        self.const = p.fx @ xf + p.leader_const

    def solve(self, slack_zero: list[int], dual_zero: list[int]):
        bounds = self.bounds.copy()
        offset = self.n_c + self.n_y
        for k in dual_zero:
            bounds[offset + k] = 0.0
        A_eq, b_eq = self.A_eq, self.b_eq
        if slack_zero:
            A_eq = sp.vstack([A_eq, self.slack_M[slack_zero]]).tocsr()
            b_eq = np.concatenate([b_eq, -self.slack_c[slack_zero]])
        return linprog(self.objective, A_ub=self.A_ub,
                       b_ub=self.b_ub if self.A_ub is not None else None, A_eq=A_eq,
                       b_eq=b_eq, bounds=bounds, method="highs")

    def split(self, z: np.ndarray):
        x = self.x_fixed.copy()
        x[self.cont] = z[: self.n_c]
        return x, z[self.n_c:self.n_c + self.n_y], z[self.n_c + self.n_y:]


def _branch_and_bound(system: _KKTSystem, incumbent: OracleResult, max_nodes: int) -> None:
    """Depth-first complementarity branch-and-bound; improves ``incumbent`` in place."""
    p = system.problem
    pairs = system.stacked.pairs
    lead = 1.0 if p.leader_sense == "min" else -1.0
    stack: list[tuple[list[int], list[int]]] = [([], [])]
    while stack:
        check_time(f"{incumbent.nodes} branch-and-bound nodes")
        if incumbent.nodes >= max_nodes:
            raise OracleLimit(f"complementarity branch-and-bound exceeded {max_nodes} nodes")
        slack_zero, dual_zero = stack.pop()
        incumbent.nodes += 1
        res = system.solve(slack_zero, dual_zero)
        incumbent.lps += 1
        if res.status == 2:
            continue
        fixed = set(slack_zero) | set(dual_zero)
        free = [int(k) for k in pairs if k not in fixed]
        if res.status == 3:
            if not free:
                incumbent.status = "unbounded"
                return
            k = free[0]
            stack += [(slack_zero, dual_zero + [k]), (slack_zero + [k], dual_zero)]
            continue
        if res.status != 0:
            raise BilevelError(f"oracle LP failed: {res.message}")
        value = lead * res.fun + system.const
        if incumbent.leader_value is not None and lead * value >= lead * incumbent.leader_value \
                - 1e-9 * max(1.0, abs(incumbent.leader_value)):
            continue  # cannot improve (optimistic: ties keep the first found)
        z = res.x
        slack = system.slack_M @ z + system.slack_c
        _, _, d = system.split(z)
        scale = 1.0 + np.abs(system.slack_c)
        violation = np.minimum(np.abs(slack[free]) / scale[free], np.abs(d[free]))
        if len(free) == 0 or violation.max() <= COMPLEMENTARITY_TOL:
            x, y, d = system.split(z)
            incumbent.status, incumbent.x, incumbent.y, incumbent.duals = "optimal", x, y, d
            incumbent.leader_value = p.leader_objective(x, y)
            incumbent.follower_value = p.follower_objective(x, y)
            continue
        k = free[int(np.argmax(violation))]
        # explore "dual = 0" last-in-first-out after "slack = 0"
        stack += [(slack_zero, dual_zero + [k]), (slack_zero + [k], dual_zero)]


def solve_exact(problem: BilevelProblem, max_points: int = 20_000, max_nodes: int = 50_000
                ) -> OracleResult:
    """The optimistic bilevel optimum by enumeration and/or complementarity branching."""
    discrete = problem.discrete_leaders()
    if len(discrete) == problem.n_x:
        return enumerate_grid(problem, max_points)
    if problem.Q.nnz and any(problem.leader_kind[k] == CONTINUOUS
                             for k in np.unique(problem.Q.tocoo().row)):
        raise BilevelError("the oracle needs discrete leaders in leader-objective products")
    cont = np.array([k for k in range(problem.n_x) if k not in discrete], np.int64)
    stacked = stack_follower(problem)
    method = ("complementarity branch-and-bound" if not discrete
              else "grid enumeration + complementarity branch-and-bound")
    result = OracleResult("infeasible", method)
    if discrete:
        values = [problem.leader_values(k) for k in discrete]
        count = int(np.prod([len(v) for v in values]))
        if count > max_points:
            raise OracleLimit(f"{count} discrete leader points exceed the limit {max_points}")
        combos = itertools.product(*values)
    else:
        combos = iter([()])
    for combo in combos:
        x_fixed = np.zeros(problem.n_x)
        x_fixed[discrete] = combo
        result.points += 1 if discrete else 0
        _branch_and_bound(_KKTSystem(problem, stacked, x_fixed, cont), result, max_nodes)
        if result.status == "unbounded":
            break
    return result
