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
  otherwise a *dual bounding LP* over the dual polyhedron for all leader values in the box
  (finite only when that polyhedron is bounded, which boxed follower variables prevent).
  Before those LPs, a few LPs over the polyhedron's recession cone find every dual with a
  ray (e.g. a unit whose limit is a leader's 0: the duals of its two limits grow together);
  such a dual has no finite LP bound, and its LP is skipped.
* a *stated* value (the case file's big-M): not proven; every result that relies on one is
  certified only by the oracle, and each stated bound that is active at a solution is named.

Valid dual bounds are in general as hard to find as the bilevel optimum itself (Kleinert,
Labbé, Plein & Schmidt 2020), so stated values are common in practice; Pineda & Morales
(2019) show how a plausible stated value returns a wrong answer.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from bench.bilevel.dual import StackedFollower, solve_follower
from bench.bilevel.problem import EQ, GE, LE, BilevelError, BilevelProblem

VARIABLE_BOUNDS = "variable bounds"
INTERVAL = "interval arithmetic on valid bounds"
BOUNDING_LP = "bounding LP over the high-point relaxation"
DUAL_LP = "dual bounding LP over the dual polyhedron"
GRID_DUALS = "follower LP duals at every leader grid point"
STATED = "stated"


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


def _outward(value: float, up: bool) -> float:
    """Widen an LP-computed bound by a hair (LP tolerances), never tighten it. A bound that
    is 0 up to the LP's accuracy stays 0: padding it would create a big-M of 1e-7, a
    coefficient at the solvers' own tolerance that makes MILPs numerically fragile."""
    if not np.isfinite(value):
        return value
    if abs(value) <= 1e-9:
        return 0.0
    pad = 1e-7 * abs(value)
    return value + pad if up else value - pad


def grid_size(problem: BilevelProblem) -> int | None:
    """Number of leader grid points when every leader variable is gridded or integer."""
    if len(problem.discrete_leaders()) != problem.n_x:
        return None
    size = 1
    for k in range(problem.n_x):
        try:
            size *= len(problem.leader_values(k))
        except BilevelError:
            return None
    return size


def grid_points(problem: BilevelProblem):
    """Every leader decision of a fully discrete leader (Cartesian product, in order)."""
    values = [problem.leader_values(k) for k in range(problem.n_x)]
    for combo in itertools.product(*values):
        yield np.asarray(combo, dtype=float)


@dataclass
class BoundDeriver:
    """Derives and caches bounds for one problem (see the module doc for the sources)."""

    problem: BilevelProblem
    stacked: StackedFollower
    options: BoundOptions = field(default_factory=BoundOptions)
    lps_solved: int = 0
    _y: dict[int, Bound] = field(default_factory=dict)
    _grid: tuple[np.ndarray, np.ndarray, int] | None = None
    _hpr: tuple | None = None
    _dual_lp: tuple | None = None
    _rays: tuple[np.ndarray, np.ndarray] | None = None

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
            raise BilevelError(f"{self.problem.name}: the high-point relaxation is infeasible "
                               "(no leader decision admits a feasible follower)")
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
            size = grid_size(self.problem)
            if not self.options.grid_duals or size is None or size > self.options.max_grid_points:
                return None
            lo = np.full(self.stacked.n_duals, np.inf)
            hi = np.full(self.stacked.n_duals, -np.inf)
            feasible = 0
            # one cold LP per point: duals from a warm-started re-solve are equally valid but
            # other vertices, and with them Pyomo/HiGHS returned a wrong "optimal" kkt_bigm
            # on dg34_small (docs/dg_contract_pricing.md)
            for x in grid_points(self.problem):
                sol = solve_follower(self.problem, x, self.stacked)
                self.lps_solved += 1
                if sol.status != "optimal":
                    continue
                feasible += 1
                duals = np.where(np.abs(sol.duals) <= 1e-10, 0.0, sol.duals)  # HiGHS noise
                lo, hi = np.minimum(lo, duals), np.maximum(hi, duals)
            if feasible == 0:
                raise BilevelError(f"{self.problem.name}: the follower is infeasible or "
                                   "unbounded at every leader grid point")
            self._grid = (lo, hi, feasible)
        return self._grid

    def _dual_arrays(self):
        """Dual polyhedron over (x, d): Abar'd - sign*C x = sign*c0, sign bounds, x box."""
        if self._dual_lp is None:
            st, p = self.stacked, self.problem
            A_eq = sp.hstack([-st.cost_x, st.A.T]).tocsr()
            lower, upper = st.dual_bounds()
            bounds = np.column_stack([np.concatenate([p.leader_lower, lower]),
                                      np.concatenate([p.leader_upper, upper])])
            self._dual_lp = (None, None, A_eq, st.cost0, bounds)
        return self._dual_lp

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
        """Valid (lower, upper) of dual k where derivable, else infinite."""
        grid = self.grid_duals()
        if grid is not None:
            lo, hi, count = grid
            # the bounds contain the duals themselves (no LP optimum to pad): exact
            return Bound(min(lo[k], 0.0), max(hi[k], 0.0), f"{GRID_DUALS} ({count} points)",
                         True)
        if self.lps_solved > self.options.max_dual_lps:
            return Bound(-np.inf, np.inf, DUAL_LP, True)
        lower_sign, upper_sign = self.stacked.dual_bounds()
        ray_up, ray_down = self.dual_rays()
        e = np.zeros(self.problem.n_x + self.stacked.n_duals)
        e[self.problem.n_x + k] = 1.0
        arrays = self._dual_arrays()
        if upper_sign[k] == 0 or ray_up[k]:
            hi = 0.0 if upper_sign[k] == 0 else np.inf
        else:
            hi = _outward(self._dual_max(e, arrays), True)
        if lower_sign[k] == 0 or ray_down[k]:
            lo = 0.0 if lower_sign[k] == 0 else -np.inf
        else:
            lo = _outward(-self._dual_max(-e, arrays), False)
        return Bound(lo, hi, DUAL_LP, True)

    def _dual_max(self, objective: np.ndarray, arrays) -> float:
        A_ub, b_ub, A_eq, b_eq, bounds = arrays
        res = linprog(-objective, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
        self.lps_solved += 1
        if res.status == 0:
            return float(-res.fun)
        return np.inf  # unbounded (or an infeasible dual: then no bound is needed anyway)

    # ------------------------------------------------------------------ with fallback

    def stated(self, what: str) -> float:
        if self.options.big_m is None:
            raise BilevelError(f"{self.problem.name}: no valid finite bound for {what}; "
                               "state a big-M (big_m) to use this reformulation")
        return float(self.options.big_m)

    def need_finite(self, bound: Bound, what: str, lower: bool, upper: bool) -> Bound:
        """Replace infinite sides by the stated value (marking the bound unproven)."""
        lo, hi, source, valid = bound.lower, bound.upper, bound.source, bound.valid
        if upper and not np.isfinite(hi):
            hi, source, valid = self.stated(what), STATED, False
        if lower and not np.isfinite(lo):
            lo, source, valid = -self.stated(what), STATED, False
        return Bound(lo, hi, source, valid)


def _interval_max(coef: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """max of coef.v over the box; inf if an unbounded side is needed."""
    if len(coef) == 0:
        return 0.0
    with np.errstate(invalid="ignore"):
        terms = np.where(coef > 0, coef * upper, np.where(coef < 0, coef * lower, 0.0))
    terms = np.nan_to_num(terms, nan=0.0, posinf=np.inf, neginf=-np.inf)
    return float(terms.sum())
