"""The exact oracle of a location case (chapters 7-10) by decomposition over location sets.

What it proves: for a fixed set S of built units the location problem is the case without
location whose DGs are exactly S (a unit not built produces nothing, and its price does not
enter the leader's objective); the leader's optimum is therefore the best, over every set S
of at most w^max candidates (the empty set included), of that fixed-set problem's optimum,
which the grid oracle (fast_oracle.RegionalOracle, one model for every set: SetSolver)
solves exactly with the optimistic tie-break. The answer is mapped back to the location
problem's variables (prices of units not built: the grid's lowest) and re-evaluated there.

Pruning (exact): at any prices a unit is dispatched only where its price is at most the
follower's marginal value of its energy, and the follower's cost is convex in the units'
injections, so the profit of S is at most sum_{j in S} u_j with u_j = sum_t P-bar_j
max(0, -d_jt), d_jt the reduced cost of unit j's output (priced at its production cost) at
the dual of the no-DG follower LP (a Lagrangian bound: G(S) >= F0 + sum_j sum_t P-bar_j
min(0, d_jt)); with reactive power the unit's region is relaxed to |Q| <= tan(phi) P,
0 <= P <= P-bar. The profit is also at most sum_j (p_max - c_j) P-bar_j over the weighted
hours (the price grid's cap). Sets are taken in decreasing order of this bound, so once it
falls below the incumbent every later set is pruned too. (A per-set surplus bound, F0 minus
the follower's least cost with the units at their production cost, one LP per set, pruned
4 of 561 sets on dg34_location_C for 0.26 s per set: dropped; docs.) The knapsack bound
(per block and grid point) follows for the sets the additive one leaves, and, when more
than ``max_solved`` sets still pass it, the reference cuts (reference_cuts.py: the same
argument at the follower's optimum with each subset of the set built, one LP per set) at
the grid points where the knapsack bound still beats the incumbent.

Cost: one LP for the unit bounds and one grid oracle per set not pruned (plus one LP per
set bounded by the reference cuts); ``max_solved`` refuses more than that many grid
oracles.
"""

from __future__ import annotations

import itertools
from math import comb

import highspy
import numpy as np

from bench.api import (
    BilevelProblem,
    OracleLimit,
    OracleResult,
    check_time,
    optimistic_response,
)
from gridbench_dg_contract_pricing.data import (
    UNIT_ROWS,
    DGContractData,
    Network,
    network_of,
    problem_from_data,
)
from gridbench_dg_contract_pricing.fast_oracle import (
    RegionalOracle,
    _highs,
    regional_enumeration,
)
from gridbench_dg_contract_pricing.reference_cuts import ReferenceCuts

PER_DG = ("dg_names", "dg_bus", "dg_capacity_mw", "dg_min_mw", "dg_cost")
PER_DG_FOLLOWER = ("p_gd", "q_gd")  # follower blocks with one row per DG


class TooManySets(OracleLimit):
    """The decomposition would solve more location sets than allowed (the run then reports
    why the oracle is not affordable)."""


def fixed_set(data: DGContractData, units: tuple[int, ...]) -> DGContractData:
    """The case with exactly ``units`` built: no location feature, those DGs only."""
    keep = list(units)
    update = {key: [getattr(data, key)[j] for j in keep] for key in PER_DG}
    update |= {"location": None, "published_prices": [], "published_locations": []}
    stages = [s.model_copy(update={"dg_cost": [s.dg_cost[j] for j in keep]})
              if s.dg_cost is not None else s for s in data.stages]
    return data.model_copy(update=update | {"stages": stages})


class SetSolver:
    """The grid oracle of every set of built units on one model: the case with every
    candidate present (no location), a set chosen by the units' output upper bounds (0: not
    built) and only its units' prices varying; the HiGHS models are kept and warm-started
    from set to set (fast_oracle.RegionalOracle)."""

    def __init__(self, data: DGContractData) -> None:
        self.data = data
        self.problem = problem_from_data(fixed_set(data, tuple(range(len(data.dg_names)))))
        self.oracle = RegionalOracle(self.problem)
        _, shape, flat = self.problem.blocks["p_gd"]
        self.p_cols = flat.reshape(shape)  # (J, T) follower indices
        self.cap = np.asarray(data.dg_capacity_mw, float)
        self.price = self.problem.blocks["price"][2]  # (J,) leader indices

    def solve(self, units: tuple[int, ...]) -> OracleResult:
        upper = np.zeros(self.p_cols.shape)
        upper[list(units)] = self.cap[list(units), None]
        self.oracle.set_upper(self.p_cols.ravel(), upper.ravel())
        return self.oracle.solve(varying=self.price[list(units)])

    def lift(self, problem: BilevelProblem, units: tuple[int, ...], x_all: np.ndarray,
             y_all: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """An answer in the location problem's variables (the same follower variables)."""
        x = np.zeros(problem.n_x)
        problem.set_block("price", x, self.problem.block("price", x_all))
        built = np.zeros(len(self.cap))
        built[list(units)] = 1.0
        problem.set_block("built", x, built)
        y = np.zeros(problem.n_y)
        for name, (kind, _, _) in self.problem.blocks.items():
            if kind == "follower":
                problem.set_block(name, y, self.problem.block(name, y_all))
        return x, y


def location_sets(n_candidates: int, max_units: int):
    """Every set of at most ``max_units`` candidates, the empty one first."""
    for size in range(max_units + 1):
        yield from itertools.combinations(range(n_candidates), size)


def _lowest(problem: BilevelProblem) -> np.ndarray:
    """Every leader variable at the lowest value of its set: no unit built, lowest prices."""
    return np.array([problem.leader_values(k)[0] for k in range(problem.n_x)], float)


def marginal_values(data: DGContractData, net: Network) -> tuple[np.ndarray, float] | None:
    """(V, F0): V[j, t] the follower's marginal value of unit j's output in block t at the
    no-DG dispatch, in EUR per MW over the block's weighted hours (with reactive power
    credited at its best, tan(phi) |dual of Q|), and F0 the no-DG follower cost; None when
    the follower has no feasible dispatch without DG."""
    return _combined(data, _marginal_values(data, net))


def _combined(data: DGContractData, values) -> tuple[np.ndarray, float] | None:
    """``marginal_values`` from ``_marginal_values``'s answer (the reactive credit added)."""
    if values is None:
        return None
    active, reactive, no_dg_cost = values
    if data.reactive_power:
        fp = data.reactive_power.power_factor
        active = active + np.sqrt(1 - fp ** 2) / fp * reactive
    return active, no_dg_cost


def _marginal_values(data: DGContractData, net: Network):
    """(V_P, |V_Q|, F0): the marginal values of a unit's active and reactive output apart
    (|V_Q| = 0 without reactive power)."""
    every = fixed_set(data, tuple(range(len(data.dg_names))))
    problem = problem_from_data(every, with_dg=False)  # every unit's output fixed at 0
    cost = problem.follower_cost(np.zeros(problem.n_x))
    p_cols = problem.blocks["p_gd"][2].reshape(net.n_dg, net.n_block)
    cost[p_cols] += net.cost * net.weight  # the units priced at their production cost
    senses = np.asarray(problem.row_sense)
    rhs = problem.follower_rhs(np.zeros(problem.n_x))
    lp = _highs(problem.A, np.where(senses == "<=", -np.inf, rhs),
                np.where(senses == ">=", np.inf, rhs), problem.follower_lower,
                problem.follower_upper, cost)
    lp.run()
    if lp.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    no_dg_cost = lp.getInfo().objective_function_value
    # the rows of the units' own capability region are relaxed (the bound's region replaces
    # them); the network rows keep their duals
    network = np.array([not name.startswith(UNIT_ROWS) for name in problem.row_names])
    reduced = cost - problem.A.T @ (np.asarray(lp.getSolution().row_dual) * network)
    gain = -reduced[p_cols]  # EUR per MW of unit output in each block
    credit = np.zeros_like(gain)
    if data.reactive_power:  # EUR per MVAr of the unit's Q, either sign at its best
        credit = np.abs(reduced[problem.blocks["q_gd"][2].reshape(net.n_dg, net.n_block)])
    return gain + net.cost * net.weight, credit, no_dg_cost


def unit_bounds(data: DGContractData, net: Network,
                values=None) -> tuple[np.ndarray, float] | None:
    """(u_j per candidate, F0): the additive bound's terms (module doc); ``values``:
    ``_marginal_values``'s answer when already computed."""
    values = _combined(data, _marginal_values(data, net) if values is None else values)
    if values is None:
        return None
    value, no_dg_cost = values
    cap = np.asarray(data.dg_capacity_mw, float)
    return (cap[:, None] * np.maximum(value - net.cost * net.weight, 0.0)).sum(axis=1), \
        no_dg_cost


def grid_caps(data: DGContractData, net: Network) -> np.ndarray:
    """Each unit's profit at the highest grid price, producing at capacity all year."""
    cap = np.asarray(data.dg_capacity_mw, float)
    return ((data.price_max - net.cost) * net.weight).sum(axis=1) * cap


def restrict(problem: BilevelProblem, sub: BilevelProblem, units: tuple[int, ...],
             x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A location answer in the variables of the fixed-set case of ``units`` (the inverse
    of ``SetSolver.lift``: the units not built produce nothing)."""
    sub_x = np.zeros(sub.n_x)
    sub.set_block("price", sub_x, problem.block("price", x)[list(units)])
    sub_y = np.zeros(sub.n_y)
    for name, (kind, _, _) in sub.blocks.items():
        if kind != "follower":
            continue
        values = problem.block(name, y)
        if name in PER_DG_FOLLOWER:
            values = values[list(units)]
        sub.set_block(name, sub_y, values)
    return sub_x, sub_y


def _sets_by_bound(n: int, m: int, additive: np.ndarray, caps: np.ndarray):
    """Every non-empty set of at most m of n candidates with its additive bound, in
    decreasing order of the bound (numpy arrays: one row of unit indices per set, -1 pads)."""
    rows, bounds = [], []
    for size in range(1, m + 1):
        sets = np.array(list(itertools.combinations(range(n), size)), dtype=int).reshape(
            -1, size)
        rows.append(np.pad(sets, ((0, 0), (0, m - size)), constant_values=-1))
        bounds.append(np.minimum(additive[sets].sum(axis=1), caps[sets].sum(axis=1)))
    rows, bounds = np.concatenate(rows), np.concatenate(bounds)
    order = np.argsort(-bounds, kind="stable")
    return rows[order], bounds[order]


def _cannot_beat(bound, incumbent: float | None):
    """The set cannot do better than the incumbent (within 1e-9 relative): its ties are not
    solved, the optimal value is the same. ``bound``: a number or an array of them."""
    if incumbent is None:
        return np.zeros(np.shape(bound), bool) if np.ndim(bound) else False
    return bound <= incumbent + 1e-9 * max(1.0, abs(incumbent))


def knapsack_bounds(data: DGContractData, net: Network, sets: np.ndarray, values=None,
                    chunk: int = 20_000, incumbent: float | None = None):
    """A second, tighter bound per set (rows of ``sets``: unit indices, all of one size k):
    the largest, over the set's price grid, of the sum over blocks of a fractional knapsack.

    Why it holds: in block t the follower could leave every unit off, so at its optimum g_t
    (p - lambda(g_t)).g_t <= 0, and the convexity of its cost in the injections gives
    lambda(g_t).g_t <= lambda(0).g_t, lambda(0) the no-DG marginal values (active V_P and
    reactive V_Q, ``_marginal_values``). So sum_j use_j(P_jt) <= 0, with use_j(P) =
    (p_j w_t - V_P) P - |V_Q| Qmax(P) and Qmax(P) the unit's largest |Q| at P (the PQ
    polygon: min(tan(phi) P, (P-bar - P) / q), convex use: two linear pieces). The profit
    sum_j (p_j - c_jt) w_t P_jt is then at most the fractional knapsack's optimum under that
    row: the pieces that free room (use <= 0) are taken whole, the others by ratio of profit
    to use. ``values``: ``_marginal_values``'s answer when already computed. With
    ``incumbent``, returns (bounds, alive) as well, alive[i] the grid combinations (indices in
    itertools.product order) at which set i's bound beats the incumbent."""
    values = _marginal_values(data, net) if values is None else values
    assert values is not None, "no knapsack bound without a feasible no-DG dispatch"
    active, reactive, _ = values
    cap = np.asarray(data.dg_capacity_mw, float)
    grid = net.grid
    price = grid[:, None, None] * net.weight  # (G, 1, T)
    margin = (grid[:, None, None] - net.cost) * net.weight  # profit per MW, (G, J, T)
    if data.reactive_power:  # two pieces: Q at tan(phi) P, then along the chord
        fp = data.reactive_power.power_factor
        tan_phi = np.sqrt(1 - fp ** 2) / fp
        chord = (1 - fp) / np.sqrt(1 - fp ** 2)  # q of the chord rows (82n)
        corner = cap / (1 + chord * tan_phi)
        widths = [corner, cap - corner]
        slopes = [price - active - tan_phi * reactive, price - active + reactive / chord]
    else:
        widths, slopes = [cap], [price - active]
    reward = np.stack([margin * w[None, :, None] for w in widths], axis=-1)  # (G,J,T,pieces)
    use = np.stack([a * w[None, :, None] for a, w in zip(slopes, widths, strict=True)],
                   axis=-1)
    out = np.full(len(sets), -np.inf)
    k = sets.shape[1]
    alive: list[np.ndarray] = []
    for start in range(0, len(sets), chunk):
        part = sets[start:start + chunk]
        best = np.full(len(part), -np.inf)
        beats = [] if incumbent is not None else None
        for combo in itertools.product(range(len(grid)), repeat=k):
            # (S, k * pieces, T): every piece of every unit of the set at these prices
            r = np.concatenate([np.moveaxis(reward[combo[i], part[:, i]], -1, 1)
                                for i in range(k)], axis=1)
            a = np.concatenate([np.moveaxis(use[combo[i], part[:, i]], -1, 1)
                                for i in range(k)], axis=1)
            earns = r > 0
            fills = (a <= 0) & earns  # frees room (or costs none): taken whole
            total = np.where(fills, r, 0.0).sum(axis=1)
            room = np.where(fills, -a, 0.0).sum(axis=1)
            needs = (a > 0) & earns
            ratio = np.where(needs, r / np.where(needs, a, 1.0), -1.0)
            order = np.argsort(-ratio, axis=1, kind="stable")
            r_sorted = np.take_along_axis(np.where(needs, r, 0.0), order, axis=1)
            a_sorted = np.take_along_axis(np.where(needs, a, 0.0), order, axis=1)
            for i in range(r_sorted.shape[1]):
                a_i = a_sorted[:, i]
                share = np.where(a_i > 0, np.clip(room / np.where(a_i > 0, a_i, 1.0), 0, 1),
                                 0.0)
                total += share * r_sorted[:, i]
                room -= share * a_i
            best = np.maximum(best, total.sum(axis=-1))
            if beats is not None:
                beats.append(~_cannot_beat(total.sum(axis=-1), incumbent))
        out[start:start + chunk] = best
        if beats is not None:
            beats = np.stack(beats, axis=1)
            alive.extend(np.flatnonzero(row).astype(np.int32) for row in beats)
    return out if incumbent is None else (out, alive)


def decomposition_oracle(data: DGContractData, problem: BilevelProblem,
                         max_solved: int = 2_000, prune: bool = True,
                         sets: SetSolver | None = None,
                         reference_cuts: bool | None = None) -> OracleResult:
    """The location case's exact optimistic optimum (module doc: what it proves).
    ``sets``: a SetSolver of ``data`` to solve the sets on (its warm models are kept).
    ``reference_cuts``: bound the sets the knapsack bound leaves by reference_cuts.py too
    (one follower LP per set); by default only when more than ``max_solved`` are left."""
    assert data.location is not None
    n, m = len(data.dg_names), data.location.max_units
    n_sets = sum(comb(n, k) for k in range(m + 1))
    assert problem.leader_sense == "max", "the DG owners maximise their profit"
    best = OracleResult("infeasible", "")
    x0 = _lowest(problem)  # nothing built
    nothing = optimistic_response(problem, x0)
    best.lps += nothing.lps
    if nothing.leader_value is not None:
        best.status, best.x, best.y = "optimal", x0, nothing.y.copy()
        best.leader_value, best.follower_value = nothing.leader_value, nothing.follower_value
    net = network_of(data)
    caps = grid_caps(data, net)
    values = _marginal_values(data, net) if prune else None  # one LP, for both bounds
    bounds = unit_bounds(data, net, values) if values is not None else None
    best.lps += 1 if prune else 0
    additive = bounds[0] if bounds is not None else caps
    if not prune:
        additive = np.full(n, np.inf)
    ordered, set_bounds = _sets_by_bound(n, m, additive, caps)
    sets = sets or SetSolver(data)

    def take(units: tuple[int, ...]) -> None:
        """Solve the set by the grid oracle; its answer becomes the incumbent if better."""
        result = sets.solve(units)
        best.lps += result.lps
        best.points += result.points
        if result.leader_value is None:
            return
        x, y = sets.lift(problem, units, result.x, result.y)
        value = problem.leader_objective(x, y)
        if best.leader_value is None or value > best.leader_value + 1e-12 * max(
                1.0, abs(best.leader_value)):
            best.status, best.x, best.y, best.leader_value = "optimal", x, y.copy(), value
            best.follower_value = problem.follower_objective(x, y)

    solved = refined = cut = 0
    position = 0
    if data.published_locations and prune:
        # the thesis's set first: any set's optimum is a valid incumbent, and a good one
        # lets the bounds prune from the start
        first = tuple(sorted(data.dg_bus.index(bus) for bus in data.published_locations))
        pad = np.full(m, -1)
        pad[:len(first)] = first
        at = np.flatnonzero((ordered == pad).all(axis=1))
        order = np.concatenate([at, np.setdiff1d(np.arange(len(ordered)), at)])
        ordered, set_bounds = ordered[order], set_bounds[order]
    while position < len(ordered):
        row, bound = ordered[position], set_bounds[position]
        position += 1
        if _cannot_beat(bound, best.leader_value):
            if solved == 0:
                continue  # the thesis's set, put first: the rest are sorted
            break  # sorted: every later set's bound is lower still
        units = tuple(int(j) for j in row if j >= 0)
        if solved == 1 and prune and bounds is not None and not refined:
            # the knapsack bound for every set the additive one leaves, then in its order
            rest = slice(position - 1, None)
            alive = ~_cannot_beat(set_bounds[rest], best.leader_value)
            keep_rows, keep_bounds = ordered[rest][alive], set_bounds[rest][alive]
            tighter = keep_bounds.copy()
            combos: list = [None] * len(keep_rows)  # each set's grid points above
            sizes = (keep_rows >= 0).sum(axis=1)
            for size in np.unique(sizes):
                mine = np.flatnonzero(sizes == size)
                knapsack, above = knapsack_bounds(data, net, keep_rows[mine][:, :size],
                                                  values, incumbent=best.leader_value)
                tighter[mine] = np.minimum(tighter[mine], knapsack)
                for i, points in zip(mine, above, strict=True):
                    combos[i] = points
            refined = len(keep_rows)
            order = np.argsort(-tighter, kind="stable")
            ordered, set_bounds, position = keep_rows[order], tighter[order], 0
            passing = int(np.sum(~_cannot_beat(set_bounds, best.leader_value)))
            if reference_cuts is None:
                reference_cuts = passing > max_solved
            if reference_cuts and passing:
                rows = ordered[:passing]
                cut_bounds, lower = _reference_stage(data, rows,
                                                     [combos[i] for i in order[:passing]], best)
                # the set with the best follower answer at the lowest prices, solved first:
                # its optimum is at least that answer's value, a better incumbent
                top = int(np.argmax(lower))
                taken = not _cannot_beat(lower[top], best.leader_value)
                if taken:
                    take(tuple(int(j) for j in rows[top] if j >= 0))
                    solved += 1
                    cut_bounds[top] = -np.inf  # solved
                keep = np.flatnonzero(~_cannot_beat(cut_bounds, best.leader_value))
                keep = keep[np.argsort(-cut_bounds[keep], kind="stable")]
                cut = passing - len(keep) - taken
                ordered, set_bounds = rows[keep], cut_bounds[keep]
                passing = len(keep)
            if passing > max_solved:
                raise TooManySets(
                    f"{passing} of the {n_sets} location sets (C({n}, <= {m})) bound above "
                    f"the incumbent {best.leader_value:.10g}"
                    + (" after the reference cuts" if reference_cuts else "")
                    + f": more than {max_solved} grid oracles")
            continue
        if solved == max_solved:
            raise TooManySets(f"more than {max_solved} of the {n_sets} location sets "
                              f"(C({n}, <= {m})) pass the bound")
        check_time(f"{solved} location sets solved, best {best.leader_value}")
        take(units)
        solved += 1
    # the first set is solved before the knapsack bounds of the sets the additive one leaves
    left = 1 + refined if refined else solved
    best.method = (f"location decomposition: {n_sets} sets; {solved} solved by the grid "
                   f"oracle, {n_sets - 1 - left} pruned by the additive bound"
                   + (f", {left - solved - cut} by the knapsack bound" if refined else "")
                   + (f", {cut} by the reference cuts" if cut else ""))
    best.nodes = solved
    return best


def _reference_stage(data: DGContractData, rows: np.ndarray, combos: list,
                     best: OracleResult) -> tuple[np.ndarray, np.ndarray]:
    """(bounds, lower) per set of ``rows``: the reference-cut bound over the grid points
    ``combos`` (per set) where the knapsack bound beats the incumbent, and the leader's
    profit at the follower's optimum at the lowest prices (at most the set's optimum). The
    sets are bounded in lexicographic order (one unit changes from one to the next: the
    follower LPs warm-start)."""
    cuts = ReferenceCuts(data)
    grid = len(cuts.net.grid)
    bounds = np.full(len(rows), -np.inf)
    lower = np.full(len(rows), -np.inf)
    for done, i in enumerate(np.lexsort(rows.T[::-1])):
        check_time(f"reference cuts: {done} of {len(rows)} sets bounded")
        units = tuple(int(j) for j in rows[i] if j >= 0)
        points = np.array(np.unravel_index(combos[i], (grid,) * len(units))).T
        values, lower[i] = cuts.bound(units, points)
        bounds[i] = values.max(initial=-np.inf)
    best.lps += cuts.lps
    return bounds, lower


# ---------------------------------------------------------------- a price per stage (ch. 8/10)

def stage_case(data: DGContractData, stage: int) -> DGContractData:
    """Stage ``stage`` of a case with a price per stage, alone: one stage (its present-value
    factor kept), one price per DG."""
    return data.model_copy(update={"stages": [data.stages[stage]], "price_per_stage": False,
                                   "published_prices": [], "published_locations": []})


def _time_axis(name: str) -> int:
    return 1 if name in PER_DG_FOLLOWER else 0  # (J, T) per-DG blocks, (T, ...) the others


def _place_stage(problem: BilevelProblem, y: np.ndarray, sub: BilevelProblem,
                 sub_y: np.ndarray, blocks: np.ndarray, units: tuple[int, ...] | None) -> None:
    """Write a stage problem's follower answer into the whole horizon's ``y`` (the blocks of
    that stage; with ``units``, the fixed-set problem's DGs into the candidates' rows)."""
    for name, (kind, _, _) in sub.blocks.items():
        if kind != "follower":
            continue
        values = sub.block(name, sub_y)
        full = problem.block(name, y).copy()
        if name in PER_DG_FOLLOWER and units is not None:
            spread = np.zeros((full.shape[0], values.shape[1]))
            spread[list(units)] = values
            values = spread
        if _time_axis(name) == 1:
            full[:, blocks] = values
        else:
            full[blocks] = values
        problem.set_block(name, y, full)


# sets x stages up to which the dynamic programme runs without trying the stage relaxation
# first (dg34_multistage_location: 37 sets x 3 stages, 25 s, and the relaxation leaves a gap)
SMALL_CHAIN_PROGRAMME = 200


def stage_oracle(data: DGContractData, problem: BilevelProblem,
                 max_solved: int = 2_000, relax: bool | None = None) -> OracleResult:
    """The exact optimistic optimum of a case with a price per stage (chapters 8 and 10).

    What it proves: the prices of different stages are independent leader variables and each
    enters only its own stage's blocks, and the follower's LP separates by block, so for fixed
    locations the leader's problem is one single-stage problem per stage (weighted by its
    present-value factor). Without location the optimum is the sum of the stages' grid
    oracles. With location, for every set S of at most w^max candidates and every stage e the
    stage-e optimum V_e(S) is solved (regional grid oracle), and the best chain S_1 <= S_2 <=
    ... (a unit once built stays) is found exactly by dynamic programming over subsets:
    F_1(S) = V_1(S), F_e(S) = V_e(S) + max_{T <= S} F_{e-1}(T), optimum max_S F_E(S).
    Before that (``relax``; by default when there are more than SMALL_CHAIN_PROGRAMME sets x
    stages), the stage relaxation: each stage's location optimum alone (decomposition_oracle,
    with its bounds) adds up to a bound on every chain, and a chain that attains it is
    optimal without solving every set at every stage. It does not close when the stages'
    best sets differ (as in dg34_multistage_location, where the full dynamic programme is
    cheap), hence not by default on small candidate sets."""
    assert data.price_per_stage and problem.leader_sense == "max"
    net = network_of(data)
    n_stage = len(data.stages)
    best = OracleResult("infeasible", "")
    x = np.zeros(problem.n_x)
    y = np.zeros(problem.n_y)
    if data.location is None:
        prices = np.zeros((len(data.dg_names), n_stage))
        for e in range(n_stage):
            sub = problem_from_data(stage_case(data, e))
            result = regional_enumeration(sub)
            best.lps += result.lps
            best.points += result.points
            if result.leader_value is None:
                return best
            prices[:, e] = result.x
            _place_stage(problem, y, sub, result.y, np.flatnonzero(net.stage == e), None)
        problem.set_block("price", x, prices)
        best.method = f"stage decomposition: {n_stage} grid oracles, one per stage"
    else:
        n, m = len(data.dg_names), data.location.max_units
        sets = list(location_sets(n, m))
        solvers = [SetSolver(stage_case(data, e)) for e in range(n_stage)]
        if relax is None:
            relax = len(sets) * n_stage > SMALL_CHAIN_PROGRAMME
        chain, upper, lower = (_stage_relaxation(solvers, best, max_solved) if relax
                               else (None, np.inf, -np.inf))
        if chain is not None:
            best.method = (f"stage relaxation: each stage's location oracle alone bounds every "
                           f"chain by {upper:.10g}; the chain of sets {_buses(data, chain)} "
                           "attains it")
        else:
            if len(sets) * n_stage > max_solved:
                raise TooManySets(
                    f"{len(sets)} location sets x {n_stage} stages exceed {max_solved} grid "
                    f"oracles, and the stage relaxation leaves a gap: every chain is at most "
                    f"{upper:.10g} (the stages' location optima added), the best chain found "
                    f"{lower:.10g}")
            chain = _best_chain(sets, solvers, best)
            best.nodes += len(sets) * n_stage
            best.method = (f"stage and location decomposition: {len(sets)} location sets x "
                           f"{n_stage} stages solved by the grid oracle, best chain of sets "
                           "that never shrink by dynamic programming")
        prices = np.full((n, n_stage), data.price_min)
        built = np.zeros((n, n_stage))
        for e, units in enumerate(chain):  # the chain's sets solved again for their answers
            solver = solvers[e]
            result = solver.solve(units)
            prices[:, e] = solver.problem.block("price", result.x)
            built[list(units), e] = 1.0
            _place_stage(problem, y, solver.problem, result.y,
                         np.flatnonzero(net.stage == e), None)
        problem.set_block("price", x, prices)
        problem.set_block("built", x, built)
    best.status, best.x, best.y = "optimal", x, y
    best.leader_value = problem.leader_objective(x, y)
    best.follower_value = problem.follower_objective(x, y)
    return best


def _buses(data: DGContractData, chain: list[tuple[int, ...]]) -> str:
    return " / ".join(",".join(str(data.dg_bus[j]) for j in units) or "none"
                      for units in chain)


def _stage_relaxation(solvers: list[SetSolver], best: OracleResult, max_solved: int):
    """(chain, upper, lower): dropping "a unit once built stays", the stages separate, so
    the sum of the stages' location optima (each proven by decomposition_oracle) bounds
    every chain from above. A chain that attains the sum is optimal: the constant chains of
    each stage's optimal set are tried, and the stages' optimal sets themselves when they
    nest. Returns chain None when no chain tried attains the bound (upper, lower: the
    bound and the best chain tried)."""
    optima, tops = [], []
    for solver in solvers:
        stage_problem = problem_from_data(solver.data)
        result = decomposition_oracle(solver.data, stage_problem, max_solved, sets=solver)
        best.lps += result.lps
        best.points += result.points
        best.nodes += result.nodes
        if result.leader_value is None:
            return None, np.inf, -np.inf
        optima.append(result.leader_value)
        built = stage_problem.block("built", result.x)
        tops.append(tuple(int(j) for j in np.flatnonzero(built > 0.5)))
    upper = float(sum(optima))
    nested = all(set(a) <= set(b) for a, b in itertools.pairwise(tops))
    chains = [list(tops)] if nested else []
    chains += [[units] * len(solvers) for units in dict.fromkeys(tops)]
    lower, chosen = -np.inf, None
    for chain in chains:
        value = 0.0
        for e, units in enumerate(chain):
            if units == tops[e]:
                value += optima[e]
                continue
            result = solvers[e].solve(units)
            best.lps += result.lps
            best.points += result.points
            if result.leader_value is None:
                value = -np.inf
                break
            value += result.leader_value
        if value > lower:
            lower, chosen = value, chain
    if lower >= upper - 1e-9 * max(1.0, abs(upper)):
        return chosen, upper, lower
    return None, upper, lower


def _best_chain(sets: list[tuple[int, ...]], solvers: list[SetSolver],
                best: OracleResult) -> list[tuple[int, ...]]:
    """Every set at every stage by the grid oracle, then the best chain S_1 <= S_2 <= ...
    by dynamic programming over subsets (stage_oracle's doc)."""
    values: list[dict] = []
    for solver in solvers:
        v_e = {}
        for units in sets:
            check_time(f"{sum(map(len, values)) + len(v_e)} stage sets solved")
            result = solver.solve(units)
            best.lps += result.lps
            best.points += result.points
            if result.leader_value is not None:
                v_e[units] = result.leader_value
        values.append(v_e)
    chain_value: dict = {}
    chain_from: list[dict] = []
    for e in range(len(solvers)):
        value_e, from_e = {}, {}
        for units, v in values[e].items():
            if e == 0:
                value_e[units], from_e[units] = v, None
                continue
            subsets = [t for t in _subsets(units) if t in chain_value]
            if not subsets:
                continue
            prior = max(subsets, key=lambda t: chain_value[t])
            value_e[units], from_e[units] = v + chain_value[prior], prior
        chain_value = value_e
        chain_from.append(from_e)
    if not chain_value:
        raise OracleLimit("no chain of location sets has a feasible follower at every stage")
    last = max(chain_value, key=lambda u: chain_value[u])
    chain = [last]
    for e in range(len(solvers) - 1, 0, -1):
        chain.append(chain_from[e][chain[-1]])
    chain.reverse()
    return chain


def _subsets(units: tuple[int, ...]):
    for size in range(len(units) + 1):
        yield from itertools.combinations(units, size)
