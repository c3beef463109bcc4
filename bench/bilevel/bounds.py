"""Bounds that big-Ms and the eq. 42 product linearisation rely on, each with its proof.

A bound is *valid* when no bilevel-feasible point can violate it, so using it cannot cut off
the optimum. Sources, tried in this order:

* primal quantities (follower variables, slacks of follower rows):
  the variable's own bounds; interval arithmetic over valid bounds; a *bounding LP*: the
  extreme value over the high-point relaxation (follower rows, leader rows, leader box),
  which contains every bilevel-feasible point.
* duals: the follower LP's duals at every point of a finite leader grid (for each grid
  point some optimal dual lies within the bounds, and complementarity / strong duality hold
  with any optimal dual and any optimal primal, so no bilevel-feasible (x, y) is lost);
  otherwise, for the dual of a *local row* (a variable bound, a limit y_j <= P u with a
  leader's u, a unit's capability row: a few variables), the *local argument*: some optimal
  dual keeps it at a vertex of the local rows' dual at the variables' reduced costs, which
  the other duals of their columns bound (``local_range``); for any other dual
  (or where that is infinite) a *dual bounding LP* over the dual polyhedron of its follower
  component for all leader values in the box, restricted by two *value rows* to duals whose
  objective can equal the component's optimal value (``_component_lp``). Before those LPs,
  a few LPs over the polyhedron's recession cone find every dual with a ray (e.g. a unit
  whose limit is a leader's 0: the duals of its two limits grow together); such a side has
  no finite LP bound, and its LP is skipped.
* a *stated* value (the case file's big-M): not proven; every result that relies on one is
  certified only by the oracle, and each stated bound that is active at a solution is named.
* without a stated value, a *heuristic* one (``heuristic_big_m``): ``HEURISTIC_FACTOR``
  times the problem's largest finite number (coefficient, right-hand side, bound), times
  ``BoundOptions.heuristic_scale``. It is no proof either: the bilevel kit solves, and while
  a heuristic bound is active at the answer (or the model is infeasible) doubles the scale
  and solves again, at most ``HEURISTIC_ROUNDS`` times; the answer is then certified like
  one under a stated big-M (by the oracle), and the sequence is in the run's message.

Valid dual bounds are in general as hard to find as the bilevel optimum itself (Kleinert,
Labbé, Plein & Schmidt 2020), so stated values are common in practice; Pineda & Morales
(2019) show how a plausible stated value returns a wrong answer.
"""

from __future__ import annotations

import importlib.util
import itertools
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from bench.bilevel.dual import (
    StackedFollower,
    follower_components,
    solve_follower,
    stack_follower,
)
from bench.bilevel.problem import EQ, GE, LE, BilevelError, BilevelProblem
from bench.bilevel.tolerances import POLICY
from bench.capture import captured_output

VARIABLE_BOUNDS = "variable bounds"
INTERVAL = "interval arithmetic on valid bounds"
BOUNDING_LP = "bounding LP over the high-point relaxation"
DUAL_LP = "dual bounding LP over the dual polyhedron"
GRID_DUALS = "follower LP duals at every leader grid point"
LOCAL_ROWS = "local rows: a vertex of their dual at the reduced costs"
# a row with at most this many follower variables is local (bounds, a unit's own limits)
MAX_LOCAL_VARIABLES = 3
STATED = "stated"
HEURISTIC = "heuristic"
# the first heuristic big-M: this many times the problem's largest finite number; then
# doubled while active, up to this many doublings
HEURISTIC_FACTOR = 100.0
HEURISTIC_ROUNDS = 5


@dataclass(frozen=True)
class Bound:
    lower: float
    upper: float
    source: str
    valid: bool


@dataclass(frozen=True)
class BoundOptions:
    """How bounds are derived; ``big_m`` is the stated fallback (or, with
    ``big_m_mode="stated"``, the value of every complementarity big-M, as in the common
    trial-and-error practice)."""

    big_m: float | None = None
    big_m_mode: str = "derived"  # derived | stated
    bounding: str = "interval"  # interval (LP only where intervals are infinite) | lp
    grid_duals: bool = True
    max_grid_points: int = 20_000
    max_dual_lps: int = 4_000
    # leader x follower products: "eq42" as the thesis prints it (four rows per grid value),
    # or "compact": lo z_q <= tau_q <= hi z_q and sum_q tau_q = w (two rows per value plus
    # one; the convex hull of the same disjunction, so a tighter LP relaxation)
    product_form: str = "eq42"
    # where nothing is proven and no big_m is stated: the heuristic value's multiplier
    # (1, 2, 4, ...: the bilevel kit doubles it while a heuristic bound is active)
    heuristic_scale: float = 1.0


def _outward(value: float, up: bool) -> float:
    """Widen an LP-computed bound by a hair (LP tolerances), never tighten it. A bound that
    is 0 up to the LP's accuracy stays 0: padding it would create a big-M of 1e-7, a
    coefficient at the solvers' own tolerance that makes MILPs numerically fragile."""
    if not np.isfinite(value):
        return value
    if abs(value) <= POLICY.bound_zero:
        return 0.0
    pad = POLICY.bound_padding * abs(value)
    return value + pad if up else value - pad


def heuristic_big_m(problem: BilevelProblem, scale: float = 1.0) -> float:
    """``HEURISTIC_FACTOR`` x the largest finite magnitude among the problem's coefficients,
    right-hand sides and bounds (at least 1), x ``scale``: a documented guess, never a
    proof (see the module doc)."""
    parts = [m.data for m in (problem.A, problem.B, problem.C, problem.Gx, problem.Gy,
                              problem.Q)]
    parts += [problem.b0, problem.h, problem.c0, problem.fx, problem.fy, problem.leader_lower,
              problem.leader_upper, problem.follower_lower, problem.follower_upper]
    values = np.abs(np.concatenate([np.ravel(np.asarray(v, float)) for v in parts]))
    largest = float(values[np.isfinite(values)].max(initial=1.0))
    return HEURISTIC_FACTOR * max(1.0, largest) * scale


def follower_leaders(problem: BilevelProblem) -> np.ndarray:
    """The leader variables the follower's LP depends on: in its costs, or in the
    right-hand side of a follower row that has follower variables (a row of leader terms
    only restricts the leader's choice; its dual is fixed at 0)."""
    rows = np.flatnonzero(np.diff(problem.A.tocsr().indptr) > 0)
    used = set(problem.B.tocsr()[rows].indices.tolist()) | set(problem.C.tocsr().indices.tolist())
    return np.array(sorted(used), dtype=np.int64)


def grid_size(problem: BilevelProblem, leaders: np.ndarray | None = None) -> int | None:
    """Number of grid points of ``leaders`` (default: all) when each is gridded or integer
    with finite bounds, else None."""
    leaders = np.arange(problem.n_x) if leaders is None else leaders
    discrete = set(problem.discrete_leaders())
    size = 1
    for k in leaders:
        if int(k) not in discrete:
            return None
        try:
            size *= len(problem.leader_values(int(k)))
        except BilevelError:
            return None
    return size


def grid_points(problem: BilevelProblem, leaders: np.ndarray | None = None):
    """Every leader decision over the grids of ``leaders`` (default: all; Cartesian product,
    in order); the other leaders stay at 0 clipped to their bounds (the caller ensures the
    follower does not depend on them)."""
    leaders = np.arange(problem.n_x) if leaders is None else leaders
    base = np.clip(np.zeros(problem.n_x), problem.leader_lower, problem.leader_upper)
    values = [problem.leader_values(int(k)) for k in leaders]
    for combo in itertools.product(*values):
        x = base.copy()
        x[leaders] = combo
        yield x


class _ComponentLP:
    """One component's dual bounding LP, kept warm: its LPs differ only in which dual they
    maximise, so HiGHS (through highspy, installed with every modelling backend) re-solves
    each from the last optimal basis, several times faster than a cold solve; without
    highspy, scipy's linprog solves each cold."""

    def __init__(self, A_ub, b_ub, A_eq, b_eq, bounds: np.ndarray) -> None:
        self.arrays = (A_ub, b_ub, A_eq, b_eq, bounds)
        self.n = bounds.shape[0]
        self.model = None
        self.last: int | None = None
        if importlib.util.find_spec("highspy") is None:
            return
        import highspy

        rows = sp.vstack([m for m in (A_ub, A_eq) if m is not None]).tocsc()
        n_ub = 0 if A_ub is None else A_ub.shape[0]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, rows.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.asarray(bounds[:, 0], float)
        lp.col_upper_ = np.asarray(bounds[:, 1], float)
        lp.row_lower_ = np.concatenate([np.full(n_ub, -np.inf), b_eq])
        lp.row_upper_ = np.concatenate([b_ub if n_ub else np.zeros(0), b_eq])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = rows.indptr
        lp.a_matrix_.index_ = rows.indices
        lp.a_matrix_.value_ = rows.data
        with captured_output(None):  # the banner a new HiGHS prints before any option
            self.model = highspy.Highs()
        self.model.setOptionValue("output_flag", False)
        self.model.setOptionValue("threads", 1)  # simplex: one thread is what it uses
        # primal simplex: a new objective leaves the last basis primal feasible, so it goes
        # on from there (the default, dual simplex, started over: 55x slower on dg85's LPs)
        self.model.setOptionValue("simplex_strategy", 4)
        self.model.passModel(lp)
        self._optimal = highspy.HighsModelStatus.kOptimal
        self._no_bound = (highspy.HighsModelStatus.kUnbounded,
                          highspy.HighsModelStatus.kInfeasible,
                          highspy.HighsModelStatus.kUnboundedOrInfeasible)

    def maximise(self, position: int, direction: float) -> float:
        """max direction * v[position]; inf when unbounded (or when the polyhedron is
        empty: no leader decision then has an optimal follower, so no bound is needed)."""
        if self.model is not None:
            if self.last is not None:
                self.model.changeColCost(self.last, 0.0)
            self.model.changeColCost(position, -direction)
            self.last = position
            # HiGHS keeps one thread scheduler per process, sized by the first run; a run
            # with another thread count refuses to start ("the scheduler has already been
            # initialized"), so release it before and after each LP of ours
            self.model.resetGlobalScheduler(True)
            self.model.run()
            self.model.resetGlobalScheduler(True)
            status = self.model.getModelStatus()
            if status == self._optimal:
                return float(-self.model.getInfo().objective_function_value)
            if status in self._no_bound:
                return np.inf
            # anything else (an error): the same LP cold through scipy, never a lost bound
        A_ub, b_ub, A_eq, b_eq, bounds = self.arrays
        cost = np.zeros(self.n)
        cost[position] = -direction
        res = linprog(cost, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds,
                      method="highs")
        return float(-res.fun) if res.status == 0 else np.inf


class _LocalGroup:
    """The local rows of one group of variables (see ``BoundDeriver.local_range``): their
    square bases, and r's interval per variable, each side computed when first needed."""

    def __init__(self, deriver: BoundDeriver, cols: np.ndarray, rows: np.ndarray) -> None:
        st, p = deriver.stacked, deriver.problem
        self.deriver, self.cols, self.rows = deriver, cols, rows
        self.row_set = set(rows.tolist())
        c_lo, c_hi = _box_range(st.cost_x[cols], p.leader_lower, p.leader_upper)
        self.c_lo, self.c_hi = st.cost0[cols] + c_lo, st.cost0[cols] + c_hi
        self.sides: dict[tuple[int, bool], float] = {}
        A_local = st.A[rows][:, cols].toarray()
        n = len(cols)
        self.bases: list[tuple[tuple[int, ...], np.ndarray]] = []
        for basis in itertools.combinations(range(len(rows)), n):
            B = A_local[list(basis)]
            if abs(np.linalg.det(B)) > 1e-9 * max(1.0, np.abs(B).max() ** n):
                self.bases.append((basis, np.linalg.inv(B.T)))  # d_basis = B^-T r

    def r_side(self, g: int, high: bool) -> float:
        """r_j's highest (lowest) value: c_j's, minus the other duals' terms of column j at
        their lowest (highest)."""
        if (g, high) not in self.sides:
            A_csc = self.deriver._csc[1]
            j = self.cols[g]
            value = self.c_hi[g] if high else self.c_lo[g]
            span = slice(A_csc.indptr[j], A_csc.indptr[j + 1])
            for i, coef in zip(A_csc.indices[span], A_csc.data[span], strict=True):
                if i in self.row_set:
                    continue
                # high: subtract a_i d_i at its lowest (d_i's lower side when a_i > 0)
                value -= coef * self.deriver._lp_side(int(i), up=(coef > 0) != high)
                if not np.isfinite(value):
                    break
            self.sides[(g, high)] = value
        return self.sides[(g, high)]

    def extreme(self, w: np.ndarray, high: bool) -> float:
        """max (min) of w.r over r's box."""
        total = 0.0
        for g, weight in enumerate(w):
            if abs(weight) > 1e-12:
                total += weight * self.r_side(g, high=(weight > 0) == high)
                if not np.isfinite(total):
                    break
        return total

    def bound(self, k: int) -> Bound:
        """Dual k lies in the hull of 0 and its entry of B^-T r over every basis with it."""
        lower_sign, upper_sign = self.deriver.stacked.dual_bounds()
        i = int(np.flatnonzero(self.rows == k)[0])
        lo = hi = 0.0
        for basis, W in self.bases:
            if i not in basis:
                continue
            w = W[basis.index(i)]
            if lower_sign[k] < 0 and np.isfinite(lo):
                lo = min(lo, self.extreme(w, high=False))
            if upper_sign[k] > 0 and np.isfinite(hi):
                hi = max(hi, self.extreme(w, high=True))
        return Bound(lo, hi, LOCAL_ROWS, True)


@dataclass
class BoundDeriver:
    """Derives and caches bounds for one problem (see the module doc for the sources)."""

    problem: BilevelProblem
    stacked: StackedFollower
    options: BoundOptions = field(default_factory=BoundOptions)
    lps_solved: int = 0
    hpr_empty: bool = False  # the high-point relaxation is infeasible (see _maximise)
    _y: dict[int, Bound] = field(default_factory=dict)
    _grid: tuple[np.ndarray, np.ndarray, int] | None = None
    _hpr: tuple | None = None
    _rays: tuple[np.ndarray, np.ndarray] | None = None
    _sides: dict[tuple[int, bool], float] = field(default_factory=dict)
    _parts: tuple[np.ndarray, np.ndarray] | None = None
    _part_lp: dict[int, tuple[_ComponentLP, dict[int, int]]] = field(default_factory=dict)
    _csc: tuple | None = None
    _local: dict[tuple, _LocalGroup] = field(default_factory=dict)

    # ------------------------------------------------------------------ LPs

    def _hpr_arrays(self):
        """High-point relaxation over z = (x, y): follower and leader rows, both boxes."""
        if self._hpr is None:
            p = self.problem
            blocks_ub, rhs_ub, blocks_eq, rhs_eq = [], [], [], []
            for M_x, M_y, rhs, senses in ((-p.B, p.A, p.b0, p.row_sense),
                                          (p.Gx, p.Gy, p.h, p.leader_row_sense)):
                M = sp.hstack([M_x, M_y]).tocsr()
                s = np.asarray(senses)
                for sense, sign in ((LE, 1.0), (GE, -1.0)):
                    rows = np.flatnonzero(s == sense)
                    blocks_ub.append(sign * M[rows])
                    rhs_ub.append(sign * rhs[rows])
                rows = np.flatnonzero(s == EQ)
                blocks_eq.append(M[rows])
                rhs_eq.append(rhs[rows])
            A_ub = sp.vstack(blocks_ub).tocsr()
            A_eq = sp.vstack(blocks_eq).tocsr()
            bounds = np.column_stack([np.concatenate([p.leader_lower, p.follower_lower]),
                                      np.concatenate([p.leader_upper, p.follower_upper])])
            self._hpr = (A_ub if A_ub.shape[0] else None,
                         np.concatenate(rhs_ub) if A_ub.shape[0] else None,
                         A_eq if A_eq.shape[0] else None,
                         np.concatenate(rhs_eq) if A_eq.shape[0] else None, bounds)
        return self._hpr

    def _maximise(self, objective: np.ndarray, arrays) -> float:
        A_ub, b_ub, A_eq, b_eq, bounds = arrays
        res = linprog(-objective, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds,
                      method="highs")
        self.lps_solved += 1
        if res.status == 0:
            return float(-res.fun)
        if res.status == 3:
            return np.inf
        if res.status == 2:
            # no leader decision admits a feasible follower: the bilevel problem (and every
            # reformulation, which keeps the relaxation's rows) is infeasible. Any number
            # bounds a quantity over an empty set; 0 keeps the model well formed, and the
            # solver's "infeasible" is then the answer (its review notes why)
            self.hpr_empty = True
            return 0.0
        raise BilevelError(f"{self.problem.name}: bounding LP failed: {res.message}")

    def hpr_max(self, objective_x: np.ndarray, objective_y: np.ndarray) -> float:
        return _outward(self._maximise(np.concatenate([objective_x, objective_y]),
                                       self._hpr_arrays()), up=True)

    # ------------------------------------------------------------------ primal

    def follower_bound(self, j: int) -> Bound:
        """Valid bounds of y_j over bilevel-feasible points (infinite if none found)."""
        if j not in self._y:
            p = self.problem
            lo, hi = p.follower_lower[j], p.follower_upper[j]
            source = VARIABLE_BOUNDS
            if not (np.isfinite(lo) and np.isfinite(hi)):
                e = np.zeros(p.n_y)
                e[j] = 1.0
                zx = np.zeros(p.n_x)
                if not np.isfinite(hi):
                    hi = self.hpr_max(zx, e)
                if not np.isfinite(lo):
                    lo = -self.hpr_max(zx, -e)
                source = BOUNDING_LP
            self._y[j] = Bound(lo, hi, source, True)
        return self._y[j]

    def slack_upper(self, k: int) -> Bound:
        """A valid upper bound on the slack of stacked entry k (0 is its lower bound)."""
        st = self.stacked
        sign = 1.0 if st.kind[k] == 1 else -1.0  # slack = sign * (Abar y - beta(x))
        row_y = sign * st.A[k].toarray().ravel()
        row_x = -sign * st.beta_x[k].toarray().ravel()
        const = -sign * st.beta0[k]
        if self.options.bounding == "interval":
            value = const + _interval_max(row_x, self.problem.leader_lower,
                                          self.problem.leader_upper)
            ys = np.flatnonzero(row_y)
            y_lo = np.array([self.follower_bound(j).lower for j in ys])
            y_hi = np.array([self.follower_bound(j).upper for j in ys])
            value += _interval_max(row_y[ys], y_lo, y_hi)
            if np.isfinite(value):
                return Bound(0.0, max(value, 0.0), INTERVAL, True)
        value = self.hpr_max(row_x, row_y) + const
        if np.isfinite(value):
            return Bound(0.0, max(value, 0.0), BOUNDING_LP, True)
        return Bound(0.0, np.inf, BOUNDING_LP, True)

    # ------------------------------------------------------------------ duals

    def grid_duals(self) -> tuple[np.ndarray, np.ndarray, int] | None:
        """(lowest, highest) HiGHS dual per stacked entry over the leader grid, and the
        number of grid points with an optimal follower; None without an affordable grid."""
        if self._grid is None:
            # only the leaders the follower depends on need a grid: a continuous leader that
            # stays out of the follower does not change its LP (issue 15)
            leaders = follower_leaders(self.problem)
            size = grid_size(self.problem, leaders)
            if not self.options.grid_duals or size is None or size > self.options.max_grid_points:
                return None
            lo = np.full(self.stacked.n_duals, np.inf)
            hi = np.full(self.stacked.n_duals, -np.inf)
            feasible = 0
            # one cold LP per point: duals from a warm-started re-solve are equally valid but
            # other vertices, and with them Pyomo/HiGHS returned a wrong "optimal" kkt_bigm
            # on dg34_small (docs/dg_contract_pricing.md)
            # the follower's rows of leader terms only are left out: their duals are fixed at
            # 0, and a leader in them that is not gridded would make points look infeasible
            p = self.problem
            keep = np.flatnonzero(np.diff(p.A.tocsr().indptr) > 0)
            reduced = p if len(keep) == p.n_rows else replace(
                p, A=p.A.tocsr()[keep], B=p.B.tocsr()[keep], b0=p.b0[keep],
                row_sense=tuple(p.row_sense[i] for i in keep),
                row_names=tuple(p.row_names[i] for i in keep))
            reduced_stack = self.stacked if reduced is p else stack_follower(reduced)
            for x in grid_points(p, leaders):
                sol = solve_follower(reduced, x, reduced_stack)
                self.lps_solved += 1
                if sol.status != "optimal":
                    continue
                feasible += 1
                duals = np.zeros(self.stacked.n_duals)
                duals[keep] = sol.duals[:len(keep)]
                duals[p.n_rows:] = sol.duals[len(keep):]
                duals = np.where(np.abs(duals) <= 1e-10, 0.0, duals)  # HiGHS noise
                lo, hi = np.minimum(lo, duals), np.maximum(hi, duals)
            if feasible == 0:
                # no leader decision has an optimal follower: the bilevel problem has no
                # feasible point, and any bound is valid (see _maximise)
                self.hpr_empty = True
                lo, hi = np.zeros(self.stacked.n_duals), np.zeros(self.stacked.n_duals)
            self._grid = (lo, hi, feasible)
        return self._grid

    def dual_rays(self) -> tuple[np.ndarray, np.ndarray]:
        """(has a ray upwards, has a ray downwards) per dual: directions r with A'r = 0
        within the duals' sign cone (x is boxed, so a recession direction of the dual
        polyhedron moves only the duals). Each LP maximises the number of not yet marked
        duals that one direction moves (within a unit box); duals it moves are marked, and
        the LPs stop when no direction moves another. A dual marked has no finite LP bound on
        that side, so its bounding LP is skipped (a dual wrongly left unmarked only costs its
        LP, which then says unbounded)."""
        if self._rays is None:
            st = self.stacked
            K = st.n_duals
            lower_sign, upper_sign = st.dual_bounds()
            # a sign-constrained dual moves one way only, so rays add up without cancelling
            # and one LP marks many; a free dual (an equality's) is left to its LPs
            ups, downs = np.flatnonzero(lower_sign == 0), np.flatnonzero(upper_sign == 0)
            up = np.zeros(K, bool)
            down = np.zeros(K, bool)
            # variables (r, t_up, t_down): A'r = 0, t_up <= r on ups, t_down <= -r on downs
            eye = sp.identity(K, format="csr")
            n_up, n_down = len(ups), len(downs)
            A_eq = sp.hstack([st.A.T, sp.csr_matrix((st.A.shape[1], n_up + n_down))]).tocsr()
            A_ub = sp.vstack([
                sp.hstack([-eye[ups], sp.identity(n_up), sp.csr_matrix((n_up, n_down))]),
                sp.hstack([eye[downs], sp.csr_matrix((n_down, n_up)), sp.identity(n_down)]),
            ]).tocsr()
            r_bounds = np.column_stack([np.maximum(lower_sign, -1.0),
                                        np.minimum(upper_sign, 1.0)])
            for _ in range(20):
                t_bounds = np.column_stack([np.zeros(n_up + n_down), np.concatenate(
                    [np.where(up[ups], 0.0, 1.0), np.where(down[downs], 0.0, 1.0)])])
                res = linprog(np.concatenate([np.zeros(K), -np.ones(n_up + n_down)]),
                              A_ub=A_ub, b_ub=np.zeros(n_up + n_down), A_eq=A_eq,
                              b_eq=np.zeros(A_eq.shape[0]),
                              bounds=np.vstack([r_bounds, t_bounds]), method="highs")
                self.lps_solved += 1
                if res.status != 0 or -res.fun <= 1e-6:
                    break
                r = res.x[:K]
                if np.abs(st.A.T @ r).max(initial=0.0) > 1e-9:
                    break  # not a clean direction: leave the rest to the bounding LPs
                new_up, new_down = (r > 1e-6) & ~up, (r < -1e-6) & ~down
                if not (new_up.any() or new_down.any()):
                    break
                up |= new_up
                down |= new_down
            self._rays = (up, down)
        return self._rays

    def dual_range(self, k: int) -> Bound:
        """Valid (lower, upper) of dual k where derivable, else infinite. Without a grid,
        each side comes from the local-rows argument (``local_range``) where that is
        finite, else from the dual bounding LP (skipped for a side with a ray)."""
        grid = self.grid_duals()
        if grid is not None:
            lo, hi, count = grid
            # the duals HiGHS computed at the grid points, widened like any LP-computed
            # bound: an optimal dual sits on them, and a modelling layer that writes them
            # rounded (PuLP: 12 digits) cut it off, so CBC called a feasible model
            # infeasible (issue 15)
            return Bound(_outward(min(lo[k], 0.0), up=False), _outward(max(hi[k], 0.0), up=True),
                         f"{GRID_DUALS} ({count} points)", True)
        local = self.local_range(k)
        lo = local.lower if local is not None else -np.inf
        hi = local.upper if local is not None else np.inf
        sources = {LOCAL_ROWS} if local is not None else set()
        if not np.isfinite(hi):
            hi = self._lp_side(k, up=True)
            sources.add(DUAL_LP)
        if not np.isfinite(lo):
            lo = self._lp_side(k, up=False)
            sources.add(DUAL_LP)
        return Bound(lo, hi, " + ".join(sorted(sources)) or DUAL_LP, True)

    def _lp_side(self, k: int, up: bool) -> float:
        """One side of dual k over the dual polyhedron: 0 where its sign fixes it, infinite
        where a ray moves a sign-constrained dual (or the LP budget is spent), else its
        bounding LP (a free dual, an equality's, too: the value rows may cut its rays off),
        restricted
        to the follower component k belongs to (the other components' rows only shrink the
        polyhedron, so leaving them out keeps the bound valid and the LP small)."""
        key = (k, up)
        if key not in self._sides:
            lower_sign, upper_sign = self.stacked.dual_bounds()
            ray_up, ray_down = self.dual_rays()
            if (upper_sign if up else lower_sign)[k] == 0:
                value = 0.0
            elif ((ray_up if up else ray_down)[k] and 0.0 in (lower_sign[k], upper_sign[k])) \
                    or self.lps_solved > self.options.max_dual_lps:
                value = np.inf if up else -np.inf
            else:
                lp, position = self._component_lp(k)
                best = lp.maximise(position, 1.0 if up else -1.0)
                self.lps_solved += 1
                value = _outward(best if up else -best, up)
            self._sides[key] = value
        return self._sides[key]

    def _component_lp(self, k: int) -> tuple[_ComponentLP, int]:
        """(the dual bounding LP of the component of dual k, k's column in it).

        Two value rows keep the LP on duals that can be optimal: for each leader decision
        the component's optimal dual objective beta(x).d equals its LP value, which lies in
        [v_lo, v_hi] (intervals of c_j(x) y_j over the leader box and y's valid bounds). As
        beta(x).d is bilinear, the rows use its extremes over the box, which are linear in d
        when every dual with a leader in its right-hand side has a sign: U(d) >= v_lo and
        L(d) <= v_hi with L(d) <= beta(x).d <= U(d). They cut off directions that change the
        objective, such as a price rising against a slack capacity's dual."""
        st, p = self.stacked, self.problem
        if self._parts is None:
            self._parts = follower_components(st, p.n_y)
        y_part, dual_part = self._parts
        label = dual_part[k]
        if label not in self._part_lp:
            duals = np.flatnonzero(dual_part == label)
            cols = np.flatnonzero(y_part == label)
            A_eq = sp.hstack([-st.cost_x[cols], st.A[duals][:, cols].T]).tocsr()
            lower, upper = st.dual_bounds()
            bounds = np.column_stack([np.concatenate([p.leader_lower, lower[duals]]),
                                      np.concatenate([p.leader_upper, upper[duals]])])
            A_ub, b_ub = self._value_rows(duals, cols)
            index = {int(d): p.n_x + i for i, d in enumerate(duals)}
            self._part_lp[label] = (_ComponentLP(A_ub, b_ub, A_eq, st.cost0[cols], bounds),
                                    index)
        lp, index = self._part_lp[label]
        return lp, index[int(k)]

    def _value_rows(self, duals: np.ndarray, cols: np.ndarray):
        """The rows U(d) >= v_lo, L(d) <= v_hi over (x, d) of one component (see
        ``_component_lp``), or (None, None) where they are not linear or not finite."""
        st, p = self.stacked, self.problem
        beta_x = st.beta_x[duals]
        lower, upper = st.dual_bounds()
        sign_free = (lower[duals] < 0) & (upper[duals] > 0)
        has_x = np.diff(beta_x.indptr) > 0
        if (sign_free & has_x).any():
            return None, None
        x_lo, x_hi = _box_range(beta_x, p.leader_lower, p.leader_upper)
        beta_lo, beta_hi = st.beta0[duals] + x_lo, st.beta0[duals] + x_hi
        nonneg = lower[duals] >= 0
        upper_coef = np.where(nonneg, beta_hi, beta_lo)  # U: each term at its largest
        lower_coef = np.where(nonneg, beta_lo, beta_hi)  # L: at its smallest
        v_lo, v_hi = self._value_range(duals, cols, beta_lo, beta_hi)
        rows, rhs = [], []
        zero_x = np.zeros(p.n_x)
        if np.isfinite(v_lo):
            rows.append(np.concatenate([zero_x, -upper_coef]))
            rhs.append(-_outward(v_lo, up=False))
        if np.isfinite(v_hi):
            rows.append(np.concatenate([zero_x, lower_coef]))
            rhs.append(_outward(v_hi, up=True))
        if not rows:
            return None, None
        return sp.csr_matrix(np.vstack(rows)), np.array(rhs)

    def _value_range(self, duals: np.ndarray, cols: np.ndarray, b_lo: np.ndarray,
                     b_hi: np.ndarray) -> tuple[float, float]:
        """(v_lo, v_hi) around one component's optimal value at every leader decision in the
        box, each from an LP over the component's rows (its variables' bounds included):

        * v_hi: a follower point feasible at every x in the box (rows at their tightest
          right-hand side over the box) costs at least the optimum at each x; the LP finds
          the cheapest such point, its cost counted at the most expensive c(x);
        * v_lo: the optimum at x is at least the cheapest (x, y) with y feasible at x (the
          component's rows and the leader's rows without y), its cost counted at the
          cheapest c(x).

        c_j(x) y_j is linear at its extremes over the box only where y_j has a sign (or c_j
        does not depend on x); otherwise that side is infinite."""
        st, p = self.stacked, self.problem
        A = st.A[duals][:, cols].tocsr()
        beta_x = st.beta_x[duals]  # b_lo, b_hi: the rows' rhs range over the leader box
        kind = st.kind[duals]
        x_lo, x_hi = _box_range(st.cost_x[cols], p.leader_lower, p.leader_upper)
        c_lo, c_hi = st.cost0[cols] + x_lo, st.cost0[cols] + x_hi
        y_nonneg = p.follower_lower[cols] >= 0
        y_nonpos = p.follower_upper[cols] <= 0
        fixed_cost = c_lo == c_hi
        if not (fixed_cost | y_nonneg | y_nonpos).all():
            return -np.inf, np.inf
        cheapest = np.where(y_nonneg, c_lo, np.where(y_nonpos, c_hi, c_lo))
        dearest = np.where(y_nonneg, c_hi, np.where(y_nonpos, c_lo, c_hi))

        le, ge, eq = kind == -1, kind == 1, kind == 0
        eq_fixed = bool((b_lo[eq] == b_hi[eq]).all())
        v_hi = np.nan
        if eq_fixed:  # robust: <= rows at their lowest, >= rows at their highest rhs
            A_ub = sp.vstack([A[le], -A[ge]]).tocsr()
            res = linprog(dearest, A_ub=A_ub, b_ub=np.concatenate([b_lo[le], -b_hi[ge]]),
                          A_eq=A[eq] if eq.any() else None,
                          b_eq=b_lo[eq] if eq.any() else None,
                          bounds=(None, None), method="highs")
            self.lps_solved += 1
            v_hi = float(res.fun) if res.status == 0 else np.nan
        # over (x, y): the component's rows as they are, and the leader's rows without y
        M = sp.hstack([-beta_x, A]).tocsr()
        own = np.flatnonzero(np.diff(p.Gy.tocsr().indptr) == 0) if p.Gy.shape[0] else []
        G = sp.hstack([p.Gx.tocsr()[own], sp.csr_matrix((len(own), len(cols)))]).tocsr()
        g_sense = np.asarray(p.leader_row_sense)[own] if len(own) else np.array([])
        A_ub = sp.vstack([M[le], -M[ge], G[g_sense == LE], -G[g_sense == GE]]).tocsr()
        b_ub = np.concatenate([st.beta0[duals][le], -st.beta0[duals][ge],
                               p.h[own][g_sense == LE], -p.h[own][g_sense == GE]])
        A_eq = sp.vstack([M[eq], G[g_sense == EQ]]).tocsr()
        b_eq = np.concatenate([st.beta0[duals][eq], p.h[own][g_sense == EQ]])
        res = linprog(np.concatenate([np.zeros(p.n_x), cheapest]), A_ub=A_ub, b_ub=b_ub,
                      A_eq=A_eq if A_eq.shape[0] else None,
                      b_eq=b_eq if A_eq.shape[0] else None,
                      bounds=np.column_stack([
                          np.concatenate([p.leader_lower, np.full(len(cols), -np.inf)]),
                          np.concatenate([p.leader_upper, np.full(len(cols), np.inf)])]),
                      method="highs")
        self.lps_solved += 1
        v_lo = float(res.fun) if res.status == 0 else np.nan
        return (-np.inf if np.isnan(v_lo) else v_lo), (np.inf if np.isnan(v_hi) else v_hi)

    def local_range(self, k: int) -> Bound | None:
        """Bounds of the dual of a *local* row, None for any other row. Local rows are those
        with at most ``MAX_LOCAL_VARIABLES`` follower variables; the group G of row k is the
        set of variables such rows connect to it (e.g. a unit's P and Q, linked by its
        capability rows; an equality with several variables, such as a node's balance, is not
        local), and L the local rows within G (variable bounds, limits such as
        P <= P-bar u with a leader's u, capability rows).

        Why they are valid: at a leader decision x, fix every dual of an optimal dual
        solution outside L. The duals of L then solve the dual of a small LP over y_G
        (min r.y_G over L's rows, r_j = c_j(x) minus the other rows' terms of column j), and
        replacing them by an optimal vertex of that dual keeps the whole dual feasible and
        does not lower its objective, so it stays optimal. At a vertex each dual of L is 0
        or an entry of B^-T r for a square basis B of L's rows. So with r's interval from
        the other duals' bounds (each valid on the whole dual polyhedron, hence at this
        solution too) and c_j's over the leader box, the hull of 0 and those entries over
        every basis bounds it. This bounds duals that have a ray (when u = 0 both limits of
        P can grow together, but some optimal dual keeps them at the reduced cost)."""
        group = self._local_group(k)
        if group is None:
            return None
        key = tuple(group[0])
        if key not in self._local:
            self._local[key] = _LocalGroup(self, *group)
        return self._local[key].bound(k)

    def _local_group(self, k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(the variables G, the local rows L) of row k, or None when G grows too large, L's
        rows do not span G, or L's equalities are dependent (then L's dual has no vertex)."""
        st = self.stacked
        if self._csc is None:
            self._csc = (np.diff(st.A.indptr), st.A.tocsc())
        row_nnz, A_csc = self._csc
        # an equality with several variables (a node's balance) is the network's, not local
        small = (row_nnz <= MAX_LOCAL_VARIABLES) & ((st.kind != 0) | (row_nnz == 1))
        if not small[k] or row_nnz[k] == 0:
            return None
        group = set(st.A.indices[st.A.indptr[k]:st.A.indptr[k + 1]].tolist())
        frontier = list(group)
        rows: set[int] = set()
        while frontier:
            j = frontier.pop()
            for i in A_csc.indices[A_csc.indptr[j]:A_csc.indptr[j + 1]]:
                if not small[i] or int(i) in rows:
                    continue
                rows.add(int(i))
                new = set(st.A.indices[st.A.indptr[i]:st.A.indptr[i + 1]].tolist()) - group
                group |= new
                frontier.extend(new)
                if len(group) > MAX_LOCAL_VARIABLES:
                    return None
        cols, local = np.array(sorted(group)), np.array(sorted(rows))
        # every vertex of L's dual is B^-T r for a square basis B of L's rows only when L's
        # rows span all of G (else a vertex has fewer entries and no square basis holds it)
        if np.linalg.matrix_rank(st.A[local][:, cols].toarray()) < len(cols):
            return None
        eq = local[st.kind[local] == 0]
        if len(eq) and np.linalg.matrix_rank(st.A[eq][:, cols].toarray()) < len(eq):
            return None
        return cols, local

    # ------------------------------------------------------------------ with fallback

    def stated(self, what: str) -> float:
        """The stated big-M (``big_m_mode="stated"`` needs one: the case validates that)."""
        if self.options.big_m is None:
            raise BilevelError(f"{self.problem.name}: no stated big-M for {what}")
        return float(self.options.big_m)

    def fallback(self) -> tuple[float, str]:
        """(value, source) where nothing is proven: the stated big-M, else the heuristic."""
        if self.options.big_m is not None:
            return float(self.options.big_m), STATED
        return heuristic_big_m(self.problem, self.options.heuristic_scale), HEURISTIC

    def need_finite(self, bound: Bound, what: str, lower: bool, upper: bool) -> Bound:
        """Replace infinite sides by the stated (else heuristic) value, marking the bound
        unproven."""
        lo, hi, source, valid = bound.lower, bound.upper, bound.source, bound.valid
        if upper and not np.isfinite(hi):
            hi, source = self.fallback()
            valid = False
        if lower and not np.isfinite(lo):
            value, source = self.fallback()
            lo, valid = -value, False
        return Bound(lo, hi, source, valid)


def _box_range(M: sp.spmatrix, lower: np.ndarray, upper: np.ndarray):
    """(lowest, highest) of each row of M x over the box lower <= x <= upper."""
    M = sp.csr_matrix(M)
    pos, neg = M.maximum(0), M.minimum(0)
    with np.errstate(invalid="ignore"):
        return pos @ lower + neg @ upper, pos @ upper + neg @ lower


def _interval_max(coef: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """max of coef.v over the box; inf if an unbounded side is needed."""
    if len(coef) == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        terms = np.where(coef > 0, coef * upper, np.where(coef < 0, coef * lower, 0.0))
    terms = np.nan_to_num(terms, nan=0.0, posinf=np.inf, neginf=-np.inf)
    return float(terms.sum())
