"""The reference-cut bound of a location set: the location oracle's third bound, for the
sets its additive and knapsack bounds leave (location_oracle.decomposition_oracle).

Why it holds. For a fixed set S of built units the follower's LP separates by block t, and
in each block its network cost G_t(g) (the wholesale purchase, given the injections g =
(P, Q) of S's units) is convex in g: an LP's value in its right-hand side. The duals of the
network rows of the follower LP solved with injections h are a subgradient there, so
lambda(h) = -dG_t(h) is the marginal value of injection at h. At the follower's optimum g*
for prices c each unit's (P, Q) minimises its own reduced cost (c_j w_t - lambda^P(g*)) P -
lambda^Q(g*) Q over its operating region K_j (the network rows, priced by their duals,
leave the units separate), so for every h in K^S

    sum_j c_j w_t (P*_j - h^P_j) <= lambda(g*).(g* - h) <= lambda(h).(g* - h),

the second step the monotonicity of a convex function's subgradients. The knapsack bound
is this row for h = 0 (no DG). Each reference h gives one linear row on block t's (P, Q),
so the leader's block profit sum_j (c_j - cost_jt) w_t P_jt is at most the LP maximum over
the units' regions under that row: a multiple-choice knapsack over K_j's vertices, solved
exactly by its Lagrangian dual (the minimum over mu >= 0 of sum_j max_v (r_jv - mu a_jv) is
at mu = 0 or where two vertices of one unit tie). The smallest of these over the
references bounds the block; the sum over blocks, maximised over the set's price grid,
bounds the set's optimum.

References: no DG, and the follower's optimum at the grid's lowest prices with each subset
of S built, S itself included (a feasible point of K^S: the others at 0). S's own reference
pins each unit near the operating point the follower chooses at those prices (without it,
a unit at the capability corner could move to full output in the bound); the subsets'
references bound a unit priced higher by what the others leave it. The subsets smaller
than S are shared by every set that contains them (cached); S's own costs one follower LP.
"""

from __future__ import annotations

import itertools

import highspy
import numpy as np

from gridbench_dg_contract_pricing.data import (
    UNIT_ROWS,
    DGContractData,
    network_of,
    problem_from_data,
)
from gridbench_dg_contract_pricing.fast_oracle import _highs, _parts


def unit_vertices(data: DGContractData) -> tuple[np.ndarray, np.ndarray]:
    """(P, Q), each (J, V): the vertices of each unit's operating region when built. With
    reactive power the polygon (82i,j,m,n) is the hull of 0, the two corners (P-bar /
    (1 + q tan(phi)), +-tan(phi) P) and (P-bar, 0); without, the segment [P-min, P-bar]."""
    cap = np.asarray(data.dg_capacity_mw, float)
    if data.reactive_power is None:
        low = np.minimum(np.asarray(data.dg_min_mw, float), cap)
        return np.stack([low, cap], axis=1), np.zeros((len(cap), 2))
    fp = data.reactive_power.power_factor
    tan_phi = np.sqrt(1 - fp ** 2) / fp
    chord = (1 - fp) / np.sqrt(1 - fp ** 2)
    corner = cap / (1 + chord * tan_phi)
    zero = np.zeros_like(cap)
    return (np.stack([zero, corner, cap, corner], axis=1),
            np.stack([zero, tan_phi * corner, zero, -tan_phi * corner], axis=1))


def knapsack_lp(reward: np.ndarray, use: np.ndarray) -> np.ndarray:
    """max sum_j sum_v theta_jv reward_jv s.t. sum_j sum_v theta_jv use_jv <= 0, each unit's
    theta a convex combination of its vertices; ``reward``, ``use``: (..., k, V), returns
    (...). Exact through the Lagrangian dual, evaluated at mu = 0 and every breakpoint."""
    first, second = np.triu_indices(reward.shape[-1], 1)
    d_reward = reward[..., first] - reward[..., second]
    d_use = use[..., first] - use[..., second]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(d_use != 0, d_reward / d_use, 0.0)
    mu = np.concatenate([np.zeros(reward.shape[:-2] + (1,)),
                         np.maximum(slope, 0.0).reshape(reward.shape[:-2] + (-1,))], axis=-1)
    dual = (reward[..., None, :, :] - mu[..., None, None] * use[..., None, :, :])
    return dual.max(axis=-1).sum(axis=-1).min(axis=-1)


class ReferenceCuts:
    """The bound (module doc) on the case with every candidate present, one HiGHS model per
    block kept and warm-started from set to set."""

    def __init__(self, data: DGContractData) -> None:
        from gridbench_dg_contract_pricing.location_oracle import fixed_set

        n_units = len(data.dg_names)
        self.data, self.net = data, network_of(data)
        problem = problem_from_data(fixed_set(data, tuple(range(n_units))))
        lowest = np.array([problem.leader_values(k)[0] for k in range(problem.n_x)], float)
        cost = problem.follower_cost(lowest)
        senses = np.asarray(problem.row_sense)
        rhs = problem.follower_rhs(lowest)
        row_lo = np.where(senses == "<=", -np.inf, rhs)
        row_hi = np.where(senses == ">=", np.inf, rhs)
        network = np.array([not name.startswith(UNIT_ROWS) for name in problem.row_names])
        T = self.net.n_block
        p_cols = problem.blocks["p_gd"][2].reshape(n_units, T)
        q_cols = (problem.blocks["q_gd"][2].reshape(n_units, T)
                  if "q_gd" in problem.blocks else None)
        self.cap = np.asarray(data.dg_capacity_mw, float)
        self.low = problem.follower_lower[p_cols[:, 0]]
        if np.any(self.low > 0):
            raise ValueError("the reference cuts need units that can stay off (P-min = 0): "
                             "a subset's reference leaves the set's other units at 0")
        self.vertex_p, self.vertex_q = unit_vertices(data)
        self.blocks = []  # (t, lp, p local, q local or None, (A_p)^T, (A_q)^T, network mask)
        for cols, rows, in zip(*_parts(problem.A)[:2], strict=True):
            if not np.isin(p_cols, cols).any():
                continue
            t = int(np.flatnonzero(np.isin(p_cols[0], cols))[0])
            if not np.isin(p_cols[:, t], cols).all() or (
                    q_cols is not None and not np.isin(q_cols[:, t], cols).all()):
                raise ValueError("the reference cuts need every unit of a block in one part")
            local = np.searchsorted(cols, p_cols[:, t])
            q_local = None if q_cols is None else np.searchsorted(cols, q_cols[:, t])
            A = problem.A[rows][:, cols].tocsc()
            lp = _highs(A, row_lo[rows], row_hi[rows], problem.follower_lower[cols],
                        problem.follower_upper[cols], cost[cols])
            lp.setOptionValue("presolve", "off")  # re-solved warm: 10 % faster (measured)
            self.blocks.append((t, lp, local.astype(np.int32),
                                None if q_local is None else q_local.astype(np.int32),
                                A[:, local].T.tocsr(),
                                None if q_local is None else A[:, q_local].T.tocsr(),
                                network[rows]))
        if sorted(t for t, *_ in self.blocks) != list(range(T)):
            raise ValueError("the reference cuts need one follower part per block")
        self.built = np.ones(n_units, bool)  # the models' current upper bounds: all built
        self.cache: dict[tuple[int, ...], tuple[np.ndarray, ...] | None] = {}
        self.lps = 0

    def _build(self, units: tuple[int, ...]) -> None:
        """Upper bounds: P-bar for ``units``, 0 (and lower 0) for the others."""
        built = np.zeros(len(self.cap), bool)
        built[list(units)] = True
        changed = np.flatnonzero(built != self.built)
        if len(changed):
            lower = np.where(built[changed], self.low[changed], 0.0)
            upper = np.where(built[changed], self.cap[changed], 0.0)
            for _, lp, local, *_ in self.blocks:
                lp.changeColsBounds(len(changed), local[changed], lower, upper)
        self.built = built

    def reference(self, units: tuple[int, ...]) -> tuple[np.ndarray, ...] | None:
        """(h^P, h^Q, lambda^P, lambda^Q), each (J, T): the follower's optimum at the grid's
        lowest prices with ``units`` built and the marginal values of injection there;
        None if that follower has no optimum."""
        J, T = len(self.cap), self.net.n_block
        out = [np.zeros((J, T)) for _ in range(4)]
        self._build(units)
        for t, lp, local, q_local, at_p, at_q, network in self.blocks:
            lp.run()
            self.lps += 1
            if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            solution = lp.getSolution()
            x = np.asarray(solution.col_value)
            y = np.asarray(solution.row_dual) * network
            out[0][:, t] = x[local]
            out[2][:, t] = at_p @ y
            if q_local is not None:
                out[1][:, t] = x[q_local]
                out[3][:, t] = at_q @ y
        return tuple(out)

    def _shared(self, units: tuple[int, ...]):
        if units not in self.cache:
            self.cache[units] = self.reference(units)
        return self.cache[units]

    def bound(self, units: tuple[int, ...], combos: np.ndarray) -> tuple[np.ndarray, float]:
        """(bounds, lower): the bound on the set's profit at each price combination (rows of
        ``combos``: grid indices, one column per unit of ``units``), and the leader's profit
        at the set's own reference, a follower optimum at the lowest prices: at most the
        set's optimum (-inf without one)."""
        net, k = self.net, len(units)
        refs = [self._shared(sub) for size in range(k)
                for sub in itertools.combinations(units, size)]
        own = self.reference(units)
        refs.append(own)
        chosen = list(units)
        lower = -np.inf if own is None else float(
            ((net.grid[0] - net.cost[chosen]) * net.weight * own[0][chosen]).sum())
        price = net.grid[combos]  # (n, k)
        w = net.weight  # (T,)
        vp, vq = self.vertex_p[chosen], self.vertex_q[chosen]  # (k, V)
        margin = (price[:, :, None] - net.cost[chosen][None]) * w  # (n, k, T)
        reward = np.moveaxis(margin[..., None] * vp[None, :, None, :], 1, 2)  # (n, T, k, V)
        paid = price[:, :, None] * w  # (n, k, T)
        best = np.full((len(combos), net.n_block), np.inf)
        for ref in refs:
            if ref is None:
                continue
            hp, hq, lp, lq = (a[chosen] for a in ref)  # (k, T)
            use = ((paid - lp[None])[..., None] * (vp[None, :, None, :] - hp[None, :, :, None])
                   - lq[None, :, :, None] * (vq[None, :, None, :] - hq[None, :, :, None]))
            best = np.minimum(best, knapsack_lp(reward, np.moveaxis(use, 1, 2)))
        return best.sum(axis=1), lower
