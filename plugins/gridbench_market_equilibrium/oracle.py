"""Independent optimum by enumeration: every viability pattern x in {0,1}^N, one LP each.

numpy and scipy only (``scipy.optimize.linprog``, HiGHS inside scipy), never a modelling
library. For a fixed pattern the big-M constraint of an unchosen plant is dropped (M is
infinite, as the seed intends), so the oracle also tests that the MILP's M did not bind.

A pattern K's LP (Rockafellar-Uryasev for both CVaRs) in the variables Q_i, phi_i, eta_i,
w_i,s (i in K), zeta and v_s:

    min  lambda_d (d E[P] + sum_K Q_i E[B]) + (1 - lambda_d) (zeta + sum_s v_s / ((1-a) S))
         + sum_K phi_i
    s.t. v_s >= d P_s + (sum_K Q_i) B_s - zeta,  v_s >= 0
         w_i,s >= eta_i - A_i,s - Q_i B_s,  w_i,s >= 0
         lambda_g (E[A_i] + Q_i E[B]) + (1 - lambda_g) (eta_i - sum_s w_i,s / ((1-a_g) S))
           + phi_i >= 0
         0 <= Q_i <= d,  phi_i >= 0

Speed: the constraint matrix of all N plants is assembled once (scipy.sparse) and sliced per
pattern. From N = 7 on, patterns are visited in increasing order of a valid lower bound and
the rest are discarded once the bound exceeds the best objective found (by more than
PRUNE_RTOL); every pattern is accounted for, either solved or bounded. The bound is
Lagrangian: every vector w of the CVaR risk envelope gives an affine minorant a + s Q of Phi
(``demand_minorants``), and

    LP(K) >= a + sum_{i in K} min_{0 <= Q_i <= d} [s Q_i + max(0, -VPL_i(Q_i))]

where each one-plant minimum is exact, taken over the kinks of the piecewise-linear payment
curve (``plant_payment_curve``); the bound is the best over many w. A wrong bound could only
discard the true optimum; the MILP (solved independently) would then beat the oracle and
fail the check, unless it missed the same optimum in the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from gridbench_market_equilibrium.data import (
    MarketData,
    cvar_lower,
    demand_cost_scenarios,
    demand_risk_cost,
    tail_weights,
)

MAX_ENUMERATED_PLANTS = 12
PRUNE_FROM_PLANTS = 7  # below this all 2^N LPs are solved (at most 64, fast)
PRUNE_RTOL = 1e-7  # a pattern is discarded only when its bound exceeds the best by this


@dataclass
class PatternSolution:
    viable: np.ndarray  # (N,) bool
    contracted: np.ndarray  # Q_i (N,)
    side_payments: np.ndarray  # phi_i (N,)
    objective: float  # demand_cost (M$)


@dataclass
class EnumerationResult:
    best: PatternSolution
    patterns: int
    lps_solved: int
    pruned: int
    seconds: float
    objectives: dict[tuple[bool, ...], float] = field(default_factory=dict)  # solved patterns

    def summary(self) -> str:
        return (f"{self.patterns} patterns: {self.lps_solved} LPs solved, {self.pruned} "
                f"discarded by a lower bound, {self.seconds:.2f} s")


class PatternLP:
    """The LP of every pattern, assembled once for all N plants and sliced per pattern."""

    def __init__(self, data: MarketData) -> None:
        import scipy.sparse as sp

        terms = data.scenario_terms
        n, s = data.n_plants, data.n_scenarios
        a, b, p = terms.plant_margin, terms.contract, terms.spot_cost
        d, lam_d, lam_g = data.demand_mw, data.lambda_demand, data.lambda_plants
        tail_d = 1.0 / ((1 - data.alpha) * s)
        tail_g = 1.0 / ((1 - data.plant_alpha) * s)
        self.n, self.s = n, s
        # columns: Q (n) | phi (n) | eta (n) | w (n*s, plant-major) | zeta | v (s)
        self.q, self.phi, self.eta = np.arange(n), n + np.arange(n), 2 * n + np.arange(n)
        self.w = (3 * n + np.arange(n * s)).reshape(n, s)
        self.zeta = 3 * n + n * s
        self.v = self.zeta + 1 + np.arange(s)
        n_cols = self.zeta + 1 + s

        cost = np.zeros(n_cols)
        cost[self.q] = lam_d * b.mean()
        cost[self.phi] = 1.0
        cost[self.zeta] = 1 - lam_d
        cost[self.v] = (1 - lam_d) * tail_d
        self.cost = cost
        self.constant = lam_d * d * p.mean()

        rows, cols, vals, rhs = [], [], [], []
        # demand tail, rows 0..s-1: B_s sum Q_i - zeta - v_s <= -d P_s
        for i in range(n):
            rows.append(np.arange(s))
            cols.append(np.full(s, self.q[i]))
            vals.append(b)
        rows += [np.arange(s), np.arange(s)]
        cols += [np.full(s, self.zeta), self.v]
        vals += [-np.ones(s), -np.ones(s)]
        rhs.append(-d * p)
        # plant tails, rows s + i*s + k: eta_i - B_k Q_i - w_i,k <= A_i,k
        base = s + np.arange(n * s).reshape(n, s)
        for i in range(n):
            rows += [base[i], base[i], base[i]]
            cols += [np.full(s, self.eta[i]), np.full(s, self.q[i]), self.w[i]]
            vals += [np.ones(s), -b, -np.ones(s)]
        rhs.append(a.ravel())
        # participation, rows s + n*s + i:
        # -lam_g E[B] Q_i - (1-lam_g) eta_i + (1-lam_g) tail_g sum_k w_i,k - phi_i <= lam_g E[A_i]
        part = s + n * s + np.arange(n)
        for i in range(n):
            rows += [np.array([part[i]] * 3), np.full(s, part[i])]
            cols += [np.array([self.q[i], self.eta[i], self.phi[i]]), self.w[i]]
            vals += [np.array([-lam_g * b.mean(), -(1 - lam_g), -1.0]),
                     np.full(s, (1 - lam_g) * tail_g)]
        rhs.append(lam_g * a.mean(axis=1))
        self.matrix = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(s + n * s + n, n_cols)).tocsc()
        self.rhs = np.concatenate(rhs)
        self.upper = np.full(n_cols, np.inf)
        self.upper[self.q] = d
        self.lower = np.zeros(n_cols)
        self.lower[self.eta] = -np.inf
        self.lower[self.zeta] = -np.inf
        self.plant_rows = base
        self.part_rows = part
        self.data = data

    def solve(self, viable: np.ndarray) -> PatternSolution:
        """The LP of one pattern (``viable``: bool (N,)); unchosen plants drop out."""
        from scipy.optimize import linprog

        chosen = np.flatnonzero(viable)
        if chosen.size == 0:  # no contract is possible: Q = 0, no side payment
            n = self.n
            return PatternSolution(viable.copy(), np.zeros(n), np.zeros(n),
                                   demand_risk_cost(self.data, 0.0))
        cols = np.concatenate([self.q[chosen], self.phi[chosen], self.eta[chosen],
                               self.w[chosen].ravel(), [self.zeta], self.v])
        rows = np.concatenate([np.arange(self.s), self.plant_rows[chosen].ravel(),
                               self.part_rows[chosen]])
        matrix = self.matrix[:, cols][rows, :]
        result = linprog(self.cost[cols], A_ub=matrix, b_ub=self.rhs[rows],
                         bounds=np.column_stack([self.lower[cols], self.upper[cols]]),
                         method="highs")
        if result.status != 0:
            raise RuntimeError(f"pattern LP failed: {result.message}")
        k = chosen.size
        contracted, payments = np.zeros(self.n), np.zeros(self.n)
        contracted[chosen] = result.x[:k]
        payments[chosen] = result.x[k:2 * k]
        return PatternSolution(viable.copy(), contracted, payments,
                               float(result.fun + self.constant))


def plant_payment_curve(data: MarketData, plant: int) -> tuple[np.ndarray, np.ndarray]:
    """The least side payment f_i(Q) = max(0, -VPL_i(Q)) of plant i at every kink in [0, d].

    VPL_i(Q) is concave and piecewise linear in Q (CVaR of the lines A_i,s + Q B_s), with
    kinks only where two lines cross; f_i adds a kink where VPL_i crosses 0. The points
    returned (Q ascending, f_i(Q)) include all of them, so f_i is linear between them and
    min over Q of (s Q + f_i(Q)) is attained at one of them.
    """
    terms = data.scenario_terms
    a, b, d = terms.plant_margin[plant], terms.contract, data.demand_mw
    first, second = np.triu_indices(data.n_scenarios, k=1)
    slope_gap = b[first] - b[second]
    with np.errstate(divide="ignore", invalid="ignore"):
        crossings = (a[second] - a[first]) / slope_gap
    crossings = crossings[np.isfinite(crossings) & (crossings > 0) & (crossings < d)]
    points = np.unique(np.concatenate([[0.0, d], crossings]))
    revenue = a[None, :] + points[:, None] * b[None, :]  # R_i,s at every point
    npv = (data.lambda_plants * revenue.mean(axis=1)
           + (1 - data.lambda_plants) * cvar_lower(revenue, data.plant_alpha))
    # zero crossings of VPL_i between consecutive points (VPL_i is linear in between)
    left, right = npv[:-1], npv[1:]
    sign_change = (left < 0) != (right < 0)
    fraction = left[sign_change] / (left[sign_change] - right[sign_change])
    zeros = points[:-1][sign_change] + fraction * np.diff(points)[sign_change]
    all_points = np.concatenate([points, zeros])
    payments = np.concatenate([np.maximum(0.0, -npv), np.zeros(zeros.size)])
    order = np.argsort(all_points)
    return all_points[order], payments[order]


def demand_minorants(data: MarketData, anchors: np.ndarray, blends: int = 7
                     ) -> list[tuple[float, float]]:
    """Affine functions (intercept, slope) below Phi(Q) for every Q.

    CVaR_alpha[C] = max over the risk envelope {w: 0 <= w_s <= 1/((1-alpha)S), sum w = 1}
    of sum_s w_s C_s, so every envelope vector w gives Phi(Q) >= lambda_d E[C(Q)] +
    (1 - lambda_d) w.C(Q), an affine function of Q, touching Phi where w is the tail of C(Q).
    At each anchor Q0 we take the tail under both tie-breaks (the one-sided derivatives), and
    between them a few blends (at Q = d every C_s is equal and Phi has a wide kink there).
    """
    terms = data.scenario_terms
    p, b, d, lam = terms.spot_cost, terms.contract, data.demand_mw, data.lambda_demand
    tail = tail_weights(data.n_scenarios, 1.0 - data.alpha)
    out = []
    for q0 in anchors:
        cost = demand_cost_scenarios(data, q0)
        key = np.round(cost / max(1.0, float(np.abs(cost).max())), 9)  # exact ties
        sides = []
        for tie in (-b, b):  # highest cost first; ties: larger B first (right), smaller (left)
            weights = np.zeros(data.n_scenarios)
            weights[np.lexsort((tie, -key))] = tail
            sides.append(weights)
        mixes = np.linspace(0.0, 1.0, blends) if np.any(sides[0] != sides[1]) else [0.0]
        for mix in mixes:
            w = (1 - mix) * sides[0] + mix * sides[1]
            out.append((lam * d * p.mean() + (1 - lam) * d * (w @ p),
                        lam * b.mean() + (1 - lam) * (w @ b)))
    return out


def lower_bounds(data: MarketData, patterns: np.ndarray, anchors: int = 121) -> np.ndarray:
    """A valid lower bound of every pattern's LP (rows of ``patterns``), see the module doc:
    for each minorant (a, s) of Phi, a + sum_{i in K} min_Q [s Q + f_i(Q)], best over s."""
    d = data.demand_mw
    minorants = np.array(demand_minorants(data, d * np.linspace(0.0, 2.0, anchors), blends=41))
    intercepts, slopes = minorants[:, 0], minorants[:, 1]
    floors = np.empty((data.n_plants, slopes.size))
    for plant in range(data.n_plants):
        points, payments = plant_payment_curve(data, plant)
        floors[plant] = (points[:, None] * slopes[None, :] + payments[:, None]).min(axis=0)
    bounds = (intercepts[None, :] + patterns @ floors).max(axis=1)
    empty = ~patterns.any(axis=1)
    bounds[empty] = demand_risk_cost(data, 0.0)  # exact: nothing can be contracted
    return bounds


def all_patterns(n: int) -> np.ndarray:
    codes = np.arange(2**n)
    return ((codes[:, None] >> np.arange(n)) & 1).astype(bool)


def enumerate_patterns(data: MarketData, prune: bool | None = None,
                       keep_objectives: bool = False) -> EnumerationResult:
    """The MILP optimum by enumerating every pattern (``prune``: skip those whose lower
    bound already exceeds the best found; ``prune=False`` solves all 2^N LPs; the default
    prunes from N = PRUNE_FROM_PLANTS on, where LPs outnumber the bound's cost)."""
    if prune is None:
        prune = data.n_plants >= PRUNE_FROM_PLANTS
    if data.n_plants > MAX_ENUMERATED_PLANTS:
        raise ValueError(f"enumeration is for N <= {MAX_ENUMERATED_PLANTS} plants "
                         f"(this case has {data.n_plants})")
    import scipy.optimize  # noqa: F401 (imported before the clock starts)

    start = time.perf_counter()
    patterns = all_patterns(data.n_plants)
    lp = PatternLP(data)
    if prune:
        bounds = lower_bounds(data, patterns.astype(float))
        order = np.argsort(bounds, kind="stable")
    else:
        bounds, order = None, np.arange(len(patterns))
    best: PatternSolution | None = None
    solved = 0
    objectives = {}
    for index in order:
        if best is not None and bounds is not None and (
                bounds[index] > best.objective + PRUNE_RTOL * max(1.0, abs(best.objective))):
            break  # sorted: every remaining pattern is bounded away too
        candidate = lp.solve(patterns[index])
        solved += 1
        if keep_objectives:
            objectives[tuple(patterns[index].tolist())] = candidate.objective
        if best is None or candidate.objective < best.objective:
            best = candidate
    assert best is not None
    return EnumerationResult(best, len(patterns), solved, len(patterns) - solved,
                             time.perf_counter() - start, objectives)


_ORACLE_CACHE: dict[str, EnumerationResult] = {}


def enumeration_oracle(data: MarketData) -> EnumerationResult:
    """Enumeration result of a case, computed once per process (every backend/solver run of
    one case checks against the same oracle); ``seconds`` is the time of that first run."""
    key = data.fingerprint()
    if key not in _ORACLE_CACHE:
        _ORACLE_CACHE[key] = enumerate_patterns(data)
    return _ORACLE_CACHE[key]
