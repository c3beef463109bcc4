"""The exact grid oracle of bench.bilevel.oracle.enumerate_grid, for a follower whose rows do
not depend on the leader: the contract prices enter only the follower's costs (B = 0).

* ``warm_enumeration``: one HiGHS model per independent part (load block), re-costed per grid
  point and warm-started from the previous basis; the optimistic tie-break LP per point.
* ``regional_enumeration`` (the one the kit uses): per part, one LP per *region* of the grid
  where an optimal basis stays optimal and the leader's value is the same at every follower
  optimum (``_Basis``: reduced costs are affine in the prices), and the tie-break LP only at
  points on a region's boundary. Same answer as warm_enumeration (tests compare them on
  every coarse case and a full one); 5-25x faster on the full cases (docs).
"""

from __future__ import annotations

import itertools

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from bench.api import OPTIMALITY_TOL, BilevelProblem, OracleResult, check_time


def _highs(A: sp.csr_matrix, row_lo, row_hi, lower, upper, cost) -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    lp = highspy.HighsLp()
    csc = A.tocsc()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_ = np.asarray(cost, float)
    lp.col_lower_ = np.asarray(lower, float)
    lp.col_upper_ = np.asarray(upper, float)
    lp.row_lower_ = np.asarray(row_lo, float)
    lp.row_upper_ = np.asarray(row_hi, float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr
    lp.a_matrix_.index_ = csc.indices
    lp.a_matrix_.value_ = csc.data
    h.passModel(lp)
    return h


def _parts(A: sp.csr_matrix) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Independent parts of the follower: connected components of the bipartite graph of A.
    Returns each part's columns and rows, and the rows without any follower variable.
    Variables in no row are bounds-only; they are gathered into one part."""
    n_rows, n_cols = A.shape
    coo = A.tocoo()
    graph = sp.coo_matrix((np.ones(coo.nnz), (coo.row, n_rows + coo.col)),
                          shape=(n_rows + n_cols, n_rows + n_cols))
    _, labels = connected_components(graph, directed=False)
    row_label, col_label = labels[:n_rows], labels[n_rows:]
    empty_rows = np.flatnonzero(np.diff(A.indptr) == 0)
    lonely = np.setdiff1d(np.arange(n_cols), coo.col)
    cols, rows = [], []
    for label in np.unique(np.setdiff1d(col_label, col_label[lonely])):
        cols.append(np.flatnonzero(col_label == label))
        rows.append(np.setdiff1d(np.flatnonzero(row_label == label), empty_rows))
    if len(lonely):
        cols.append(lonely)
        rows.append(np.array([], dtype=int))
    return cols, rows, empty_rows


class _Part:
    """One independent part of the follower LP: a HiGHS model for the follower's own
    problem and one for the optimistic tie-break (its cost capped at the follower's
    optimum by a last row), both re-costed per grid point."""

    def __init__(self, problem: BilevelProblem, cols: np.ndarray, rows: np.ndarray,
                 row_lo: np.ndarray, row_hi: np.ndarray, varying: np.ndarray,
                 cost0: np.ndarray, objective0: np.ndarray) -> None:
        p = problem
        self.cols = cols
        A = p.A[rows][:, cols].tocsr()
        lower, upper = p.follower_lower[cols], p.follower_upper[cols]
        self.follower = _highs(A, row_lo[rows], row_hi[rows], lower, upper, cost0[cols])
        self.tie = _highs(A, row_lo[rows], row_hi[rows], lower, upper, objective0[cols])
        nz = np.flatnonzero(cost0[cols])
        self.tie.addRow(-np.inf, np.inf, len(nz), nz.astype(np.int32), cost0[cols][nz])
        self.cap_row = len(rows)
        local = {int(j): k for k, j in enumerate(cols)}
        mine = [j for j in varying if int(j) in local]
        self.varying = np.asarray(mine, dtype=int)  # global indices
        self.varying_local = np.asarray([local[int(j)] for j in mine], dtype=np.int32)

    def respond(self, cost: np.ndarray, objective: np.ndarray) -> tuple[np.ndarray | None, int]:
        """The optimistic optimal answer of this part (None: no optimal answer), LPs used."""
        n = len(self.varying_local)
        if n:
            self.follower.changeColsCost(n, self.varying_local, cost[self.varying])
        self.follower.run()
        if self.follower.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None, 1
        value = self.follower.getInfo().objective_function_value
        if n:
            self.tie.changeColsCost(n, self.varying_local, objective[self.varying])
            for j_local, j in zip(self.varying_local, self.varying, strict=True):
                self.tie.changeCoeff(self.cap_row, int(j_local), float(cost[j]))
        lps = 1
        for tol in (0.0, OPTIMALITY_TOL, 1e-7):
            self.tie.changeRowBounds(self.cap_row, -np.inf, value + tol * max(1.0, abs(value)))
            self.tie.run()
            lps += 1
            if self.tie.getModelStatus() == highspy.HighsModelStatus.kOptimal:
                return np.asarray(self.tie.getSolution().col_value), lps
        return None, lps


class _Basis:
    """Where the follower LP's current optimal basis stays optimal as the leader moves, and
    whether the leader's value is the same at every optimal solution there.

    The leader enters only the costs (B = 0), so the basis stays primal feasible everywhere
    and its reduced costs are affine in the leader's decision. Every optimal solution lies in
    vertex + span of the edge directions of the nonbasic variables with zero reduced cost
    (set Z); if none of those directions moves a variable the leader's objective reads, the
    leader's value is the same at every optimum (no tie to break). A grid point is inside the
    region when every nonzero reduced cost keeps its sign with a margin and every zero one
    either stays exactly zero (no derivative: Z unchanged) or keeps the sign with the margin
    (Z shrinks): there the basis's solution is optimal and the leader's value at it is the
    optimistic one."""

    MARGIN = 1e-9  # times the largest cost in the part: closer to 0 counts as zero
    FLAT = 1e-12  # a reduced cost's derivative below this (relative) counts as none

    def __init__(self, lp: highspy.Highs, A: sp.csc_matrix, directions: np.ndarray,
                 x0: np.ndarray, scale: float, relevant: np.ndarray) -> None:
        solution, basis, model = lp.getSolution(), lp.getBasis(), lp.getLp()
        self.margin = self.MARGIN * max(1.0, scale)
        self.col0 = np.asarray(solution.col_dual)
        self.row0 = np.asarray(solution.row_dual)
        _, basic = lp.getBasicVariables()
        basic = np.asarray(basic)
        # the sign each nonbasic reduced cost must keep: +1 at a lower bound, -1 at an upper
        # one, 0 for fixed variables and equality rows (any sign), nan for a free nonbasic
        self.col_sign = self._signs(basis.col_status, model.col_lower_, model.col_upper_)
        self.row_sign = self._signs(basis.row_status, model.row_lower_, model.row_upper_)
        basic_cols = basic >= 0
        d_col, d_row = [], []
        for k in range(directions.shape[1]):  # one leader variable at a time
            dc = directions[:, k]
            rhs = np.where(basic_cols, dc[np.where(basic_cols, basic, 0)], 0.0)
            _, dy = lp.getBasisTransposeSolve(rhs)
            dy = np.asarray(dy)
            d_col.append(dc - A.T @ dy)
            d_row.append(dy)
        self.d_col = np.array(d_col).reshape(len(d_col), len(self.col0))  # (n_x, n)
        self.d_row = np.array(d_row).reshape(len(d_row), len(self.row0))
        self.x0 = x0
        self.solution = np.asarray(solution.col_value)
        self.unique = self._leader_unique(lp, A, basic, relevant)
        self._checks = None

    @staticmethod
    def _signs(status, lower, upper) -> np.ndarray:
        codes = np.fromiter((int(st) for st in status), dtype=int, count=len(status))
        out = np.select([codes == int(highspy.HighsBasisStatus.kLower),
                         codes == int(highspy.HighsBasisStatus.kUpper),
                         codes == int(highspy.HighsBasisStatus.kBasic)],
                        [1.0, -1.0, 0.0], default=np.nan)  # nan: a free nonbasic variable
        out[np.asarray(lower) == np.asarray(upper)] = 0.0  # fixed: any sign
        return out

    def _zero(self, base: np.ndarray, sign: np.ndarray) -> np.ndarray:
        """Nonbasic entries whose reduced cost is zero (or whose sign is free)."""
        return np.flatnonzero((sign != 0) & ((np.abs(base) <= self.margin) | np.isnan(sign)))

    def _leader_unique(self, lp: highspy.Highs, A: sp.csc_matrix, basic: np.ndarray,
                       relevant: np.ndarray) -> bool:
        zero_cols = self._zero(self.col0, self.col_sign)
        zero_rows = self._zero(self.row0, self.row_sign)
        if np.any(relevant[zero_cols]):
            return False  # a variable the leader reads can itself move along the face
        for position in np.flatnonzero((basic >= 0) & relevant[np.maximum(basic, 0)]):
            _, inverse_row = lp.getBasisInverseRow(int(position))
            inverse_row = np.asarray(inverse_row)
            moves = np.concatenate([A[:, zero_cols].T @ inverse_row, inverse_row[zero_rows]])
            if np.any(np.abs(moves) > 1e-9):
                return False
        return True

    def inside(self, points: np.ndarray) -> np.ndarray:
        """Which leader points lie inside the region (bool per point)."""
        if self._checks is None:
            self._checks = self._moving_checks()
        if self._checks is False:
            return np.zeros(len(points), bool)
        base, step, sign = self._checks
        if len(base) == 0:
            return np.ones(len(points), bool)
        reduced = base[None, :] + (points - self.x0) @ step
        return np.all(reduced * sign[None, :] > self.margin, axis=1)

    def _moving_checks(self):
        """The reduced costs that move with the leader (the others keep their sign, or stay
        zero, everywhere), as (value at x0, derivative, required sign); False when a free
        nonbasic variable rules out any region."""
        base = np.concatenate([self.col0, self.row0])
        step = np.concatenate([self.d_col, self.d_row], axis=1)
        sign = np.concatenate([self.col_sign, self.row_sign])
        if np.isnan(sign).any():
            return False
        moving = (np.abs(step).max(axis=0, initial=0.0)
                  > self.FLAT * max(1.0, self.margin / self.MARGIN))
        idx = np.flatnonzero((sign != 0) & moving)
        return base[idx], step[:, idx], sign[idx]


class RegionalOracle:
    """The optimistic grid optimum by regions of optimal bases (``_Basis``), its HiGHS
    models kept between calls: a location oracle solves many sets of built units on one
    model, each call changing only which units may produce (column upper bounds) and which
    leader variables vary, and every LP warm-starts from the last basis.

    Per independent part, the follower LP is solved at one grid point, and every grid point
    inside the region where that optimal basis stays optimal with one leader value takes its
    solution; the next unassigned point starts the next region. Points on a region's
    boundary (a tie) are solved one by one with the optimistic tie-break, as
    ``warm_enumeration`` does."""

    def __init__(self, problem: BilevelProblem) -> None:
        if problem.B.nnz or problem.Gy.nnz or problem.Gx.nnz:
            raise ValueError("regional enumeration needs leader-independent follower rows "
                             "and no leader rows")
        p = self.problem = problem
        self.sign = 1.0 if p.follower_sense == "min" else -1.0
        self.lead = 1.0 if p.leader_sense == "min" else -1.0
        senses = np.asarray(p.row_sense)
        b = p.follower_rhs(np.zeros(p.n_x))
        row_lo = np.where(senses == "<=", -np.inf, b)
        row_hi = np.where(senses == ">=", np.inf, b)
        cols, rows, empty_rows = _parts(p.A)
        self.never_feasible = bool(len(empty_rows) and (
            np.any(row_lo[empty_rows] > 1e-9) or np.any(row_hi[empty_rows] < -1e-9)))
        x0 = np.array([p.leader_grid[k][0] for k in range(p.n_x)], float)
        cost0, objective0 = self.sign * p.follower_cost(x0), self.lead * (p.fy + p.Q.T @ x0)
        varying = np.unique(np.concatenate([p.C.tocoo().row, p.Q.tocoo().col])).astype(int)
        C = (self.sign * p.C).tocsr()
        # the follower variables the leader's objective reads
        leader_reads = np.unique(np.concatenate([np.flatnonzero(p.fy), p.Q.tocoo().col]))
        self.parts = []
        for c_idx, r_idx in zip(cols, rows, strict=True):
            part = _Part(p, c_idx, r_idx, row_lo, row_hi, varying, cost0, objective0)
            relevant = np.zeros(len(c_idx), bool)
            relevant[np.flatnonzero(np.isin(c_idx, leader_reads))] = True
            scale = float(np.max(np.abs(cost0[c_idx]))) if len(c_idx) else 1.0
            self.parts.append((part, p.A[r_idx][:, c_idx].tocsc(), C[c_idx].toarray(),
                               scale, relevant))

    def set_upper(self, columns: np.ndarray, upper: np.ndarray) -> None:
        """New upper bounds of follower variables (e.g. 0: a unit not built)."""
        lower = self.problem.follower_lower
        for part, *_ in self.parts:
            local = {int(j): k for k, j in enumerate(part.cols)}
            mine = [(local[int(j)], u) for j, u in zip(columns, upper, strict=True)
                    if int(j) in local]
            if not mine:
                continue
            idx = np.array([k for k, _ in mine], dtype=np.int32)
            hi = np.array([u for _, u in mine], float)
            lo = lower[part.cols[idx]]
            for lp in (part.follower, part.tie):
                lp.changeColsBounds(len(idx), idx, lo, hi)

    def solve(self, varying: np.ndarray | None = None,
              base: np.ndarray | None = None) -> OracleResult:
        """The optimum over the grid of the leader variables ``varying`` (default: all),
        the others at ``base`` (default: their grid's lowest value)."""
        p, sign, lead = self.problem, self.sign, self.lead
        best = OracleResult("infeasible", "grid enumeration (HiGHS per part, optimal-basis "
                                          "regions)")
        if self.never_feasible:
            return best
        varying = np.arange(p.n_x) if varying is None else np.asarray(varying, int)
        base = (np.array([p.leader_grid[k][0] for k in range(p.n_x)], float)
                if base is None else np.asarray(base, float))
        grid = (np.array(list(itertools.product(*(p.leader_grid[k] for k in varying))),
                         float) if len(varying) else np.zeros((1, 0)))
        points = np.repeat(base[None, :], len(grid), axis=0)
        points[:, varying] = grid
        n_points = len(points)
        best.points = n_points
        value = lead * (points @ p.fx + p.leader_const)  # the leader's objective, min form
        answered = np.ones(n_points, bool)
        choices = []  # per part: (solution id per point, solutions)
        for part, A_part, directions_all, scale, relevant in self.parts:
            directions = directions_all[:, varying]
            which = np.full(n_points, -1)
            solutions: list[np.ndarray] = []
            for i in range(n_points):
                if which[i] >= 0 or not answered[i]:
                    continue
                check_time(f"{best.lps} follower LPs over {n_points} grid points")
                x = points[i]
                cost = sign * p.follower_cost(x)
                n = len(part.varying_local)
                if n:
                    part.follower.changeColsCost(n, part.varying_local, cost[part.varying])
                part.follower.run()
                best.lps += 1
                if part.follower.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                    answered[i] = False
                    continue
                region = _Basis(part.follower, A_part, directions, x[varying], scale,
                                relevant)
                todo = (which < 0) & answered
                inside = np.zeros(n_points, bool)
                if region.unique:
                    inside[todo] = region.inside(grid[todo])
                if inside.any():
                    solutions.append(region.solution)
                    which[inside] = len(solutions) - 1
                if not inside[i]:  # a tie at this point: the optimistic answer, solved alone
                    part_y, lps = part.respond(cost, lead * (p.fy + p.Q.T @ x))
                    best.lps += lps
                    if part_y is None:
                        answered[i] = False
                        continue
                    solutions.append(part_y)
                    which[i] = len(solutions) - 1
            c_idx = part.cols
            sols = np.array(solutions) if solutions else np.zeros((0, len(c_idx)))
            ok = answered & (which >= 0)
            answered &= ok
            if len(sols):
                # the part's share of the leader's objective at each point: fy.y + x'Q y
                fy_part = lead * (p.fy[c_idx] @ sols.T)
                q_part = lead * (p.Q[:, c_idx] @ sols.T)
                idx = np.where(ok, which, 0)
                value += np.where(ok, fy_part[idx] + np.einsum("ij,ji->i", points,
                                                               q_part[:, idx]), 0.0)
            choices.append((c_idx, which, sols))
        if not answered.any():
            return best
        candidates = np.flatnonzero(answered)
        winner = candidates[np.argmin(value[candidates])]
        y = np.zeros(p.n_y)
        for c_idx, which, sols in choices:
            y[c_idx] = sols[which[winner]]
        x = points[winner]
        best.status, best.x, best.y = "optimal", x.copy(), y
        best.leader_value = p.leader_objective(x, y)
        best.follower_value = p.follower_objective(x, y)
        scale = 1e-7 * max(1.0, abs(best.leader_value))
        best.ties = int(np.sum(np.abs(lead * value[candidates] - best.leader_value)
                               <= scale)) - 1
        return best


def regional_enumeration(problem: BilevelProblem) -> OracleResult:
    """The same answer as ``warm_enumeration``, with far fewer LPs (``RegionalOracle``)."""
    return RegionalOracle(problem).solve()


def warm_enumeration(problem: BilevelProblem) -> OracleResult:
    """Optimistic grid enumeration for a follower whose rows do not depend on the leader.

    For a fixed leader decision the follower LP is the sum of independent parts (one per
    load block in DG contract pricing), and so is the leader's objective in the follower's
    variables: the follower's optimal answers are the product of the parts' optimal answers,
    and the optimistic one is each part's optimistic one. Each part is solved on its own
    (smaller LPs, warm-started per part)."""
    if problem.B.nnz or problem.Gy.nnz or problem.Gx.nnz:
        raise ValueError("warm enumeration needs leader-independent follower rows and no "
                         "leader rows")
    p = problem
    sign = 1.0 if p.follower_sense == "min" else -1.0
    lead = 1.0 if p.leader_sense == "min" else -1.0
    senses = np.asarray(p.row_sense)
    b = p.follower_rhs(np.zeros(p.n_x))
    row_lo = np.where(senses == "<=", -np.inf, b)
    row_hi = np.where(senses == ">=", np.inf, b)
    best = OracleResult("infeasible", "grid enumeration (warm-started HiGHS, per part)")
    cols, rows, empty_rows = _parts(p.A)
    if len(empty_rows) and (np.any(row_lo[empty_rows] > 1e-9)
                            or np.any(row_hi[empty_rows] < -1e-9)):
        return best  # a row without follower variables that 0 violates: never feasible
    x0 = np.array([p.leader_grid[k][0] for k in range(p.n_x)])
    cost0, objective0 = sign * p.follower_cost(x0), lead * (p.fy + p.Q.T @ x0)
    varying = np.unique(np.concatenate([p.C.tocoo().row, p.Q.tocoo().col])).astype(int)
    parts = [_Part(p, c, r, row_lo, row_hi, varying, cost0, objective0)
             for c, r in zip(cols, rows, strict=True)]
    values = []
    y = np.zeros(p.n_y)
    for x in itertools.product(*(p.leader_grid[k] for k in range(p.n_x))):
        x = np.asarray(x, float)
        best.points += 1
        cost, objective = sign * p.follower_cost(x), lead * (p.fy + p.Q.T @ x)
        answered = True
        for part in parts:
            part_y, lps = part.respond(cost, objective)
            best.lps += lps
            if part_y is None:
                answered = False
                break
            y[part.cols] = part_y
        if not answered:
            continue
        leader_value = p.leader_objective(x, y)
        values.append(leader_value)
        if best.leader_value is None or (
                lead * leader_value < lead * best.leader_value
                - 1e-12 * max(1.0, abs(best.leader_value))):
            best.status, best.x, best.y = "optimal", x, y.copy()
            best.leader_value = leader_value
            best.follower_value = p.follower_objective(x, best.y)
    if best.leader_value is not None:
        scale = 1e-7 * max(1.0, abs(best.leader_value))
        best.ties = sum(abs(v - best.leader_value) <= scale for v in values) - 1
    return best
