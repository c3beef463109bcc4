"""The exact oracle of a location case (chapters 7-10) by decomposition over location sets.

What it proves: for a fixed set S of built units the location problem is the case without
location whose DGs are exactly S (a unit not built produces nothing, and its price does not
enter the leader's objective); the leader's optimum is therefore the best, over every set S
of at most w^max candidates (the empty set included), of that fixed-set problem's optimum,
which the warm grid oracle (fast_oracle.py) solves exactly with the optimistic tie-break. The
answer is mapped back to the location problem's variables (prices of units not built: the
grid's lowest) and re-evaluated there.

Pruning (exact), two bounds on a set's profit, each checked before the set is solved:
* additive (every set at once): at any prices a unit is dispatched only where its price is
  at most the follower's marginal value of its energy, and the follower's cost is convex in
  the units' injections, so the profit of S is at most sum_{j in S} u_j with u_j = sum_t
  P-bar_j max(0, -d_jt), d_jt the reduced cost of unit j's output (priced at its
  production cost) at the dual of the no-DG follower LP (a Lagrangian bound: G(S) >= F0 +
  sum_j sum_t P-bar_j min(0, d_jt)); with reactive power the unit's region is relaxed to
  |Q| <= tan(phi) P, 0 <= P <= P-bar. Also at most sum_j (p_max - c_j) P-bar_j over the
  weighted hours (the price grid's cap).
* surplus (one LP per set that passes the first): the follower pays at most its no-DG cost
  F0 (it may leave every unit off), so p.E <= F0 - rho.P^se and the profit p.E - c.E <=
  F0 - G(S), G(S) the follower's least cost with the units of S priced at their lowest
  production cost.
Sets are taken in decreasing order of the additive bound, so once it falls below the
incumbent every later set is pruned too. Without a feasible no-DG dispatch only the grid
cap is used.

Cost: one LP for the unit bounds, one LP per set passing the additive bound, and one grid
enumeration (grid^k points) per set passing both; ``max_solved`` refuses more than that
many grid enumerations (the sets are counted before any is solved).
"""

from __future__ import annotations

import itertools
from math import comb

import highspy
import numpy as np

from bench.api import BilevelProblem, OracleResult, optimistic_response, solve_follower
from gridbench_dg_contract_pricing.data import (
    DGContractData,
    Network,
    network_of,
    problem_from_data,
)
from gridbench_dg_contract_pricing.fast_oracle import _highs, warm_enumeration

PER_DG = ("dg_names", "dg_bus", "dg_capacity_mw", "dg_min_mw", "dg_cost")
PER_DG_FOLLOWER = ("p_gd", "q_gd")  # follower blocks with one row per DG
UNIT_ROWS = ("cap_",)  # the PQ capability polygon (data._pq_network)


class TooManySets(ValueError):
    """The decomposition would enumerate more location sets than allowed."""


def fixed_set(data: DGContractData, units: tuple[int, ...]) -> DGContractData:
    """The case with exactly ``units`` built: no location feature, those DGs only."""
    keep = list(units)
    update = {key: [getattr(data, key)[j] for j in keep] for key in PER_DG}
    update |= {"location": None, "published_prices": [], "published_locations": []}
    stages = [s.model_copy(update={"dg_cost": [s.dg_cost[j] for j in keep]})
              if s.dg_cost is not None else s for s in data.stages]
    return data.model_copy(update=update | {"stages": stages})


def location_sets(n_candidates: int, max_units: int):
    """Every set of at most ``max_units`` candidates, the empty one first."""
    for size in range(max_units + 1):
        yield from itertools.combinations(range(n_candidates), size)


def _lowest(problem: BilevelProblem) -> np.ndarray:
    """Every leader variable at the lowest value of its set: no unit built, lowest prices."""
    return np.array([problem.leader_values(k)[0] for k in range(problem.n_x)], float)


def _lift(problem: BilevelProblem, sub: BilevelProblem, units: tuple[int, ...],
          sub_x: np.ndarray, sub_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fixed-set answer in the location problem's variables."""
    x = _lowest(problem)
    prices = problem.block("price", x).copy()
    prices[list(units)] = sub.block("price", sub_x)
    problem.set_block("price", x, prices)
    built = np.zeros(len(prices))
    built[list(units)] = 1.0
    problem.set_block("built", x, built)
    y = np.zeros(problem.n_y)
    for name, (kind, _, _) in sub.blocks.items():
        if kind != "follower":
            continue
        values = sub.block(name, sub_y)
        if name in PER_DG_FOLLOWER:
            full = np.zeros(problem.blocks[name][1])
            full[list(units)] = values
            values = full
        problem.set_block(name, y, values)
    return x, y


def marginal_values(data: DGContractData, net: Network) -> tuple[np.ndarray, float] | None:
    """(V, F0): V[j, t] the follower's marginal value of unit j's output in block t at the
    no-DG dispatch, in EUR per MW over the block's weighted hours (with reactive power
    credited at its best, tan(phi) |dual of Q|), and F0 the no-DG follower cost; None when
    the follower has no feasible dispatch without DG."""
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
    if data.reactive_power:  # min over |Q| <= tan(phi) P of d_P P + d_Q Q
        q_cols = problem.blocks["q_gd"][2].reshape(net.n_dg, net.n_block)
        fp = data.reactive_power.power_factor
        gain = gain + np.sqrt(1 - fp ** 2) / fp * np.abs(reduced[q_cols])
    return gain + net.cost * net.weight, no_dg_cost


def unit_bounds(data: DGContractData, net: Network) -> tuple[np.ndarray, float] | None:
    """(u_j per candidate, F0): the additive bound's terms (module doc)."""
    values = marginal_values(data, net)
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
    of ``_lift``: the units not built produce nothing)."""
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


def profit_bound(data: DGContractData, net: Network, units: tuple[int, ...],
                 no_dg_cost: float | None) -> float:
    """The surplus bound on the DG profit of the set ``units`` at any prices (module doc);
    ``net`` is ``network_of(data)``, ``no_dg_cost`` the follower's cost with nothing built."""
    grid_cap = float(grid_caps(data, net)[list(units)].sum())
    if no_dg_cost is None:
        return grid_cap
    sub = problem_from_data(fixed_set(data, units))
    at_cost = np.asarray([float(net.cost[j].min()) for j in units])  # the lowest c_j
    least = solve_follower(sub, at_cost)
    if least.status != "optimal":
        return grid_cap
    return min(grid_cap, no_dg_cost - least.value)


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


def _below(bound: float, incumbent: float | None) -> bool:
    return incumbent is not None and bound < incumbent - 1e-9 * max(1.0, abs(incumbent))


def decomposition_oracle(data: DGContractData, problem: BilevelProblem,
                         max_solved: int = 2_000, prune: bool = True) -> OracleResult:
    """The location case's exact optimistic optimum (module doc: what it proves)."""
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
    bounds = unit_bounds(data, net) if prune else None
    best.lps += 1 if prune else 0
    additive = bounds[0] if bounds is not None else caps
    no_dg_cost = bounds[1] if bounds is not None else None
    if not prune:
        additive = np.full(n, np.inf)
    sets, set_bounds = _sets_by_bound(n, m, additive, caps)
    solved = by_surplus = 0
    for row, bound in zip(sets, set_bounds, strict=True):
        if _below(bound, best.leader_value):
            break  # sorted: every later set's additive bound is lower still
        units = tuple(int(j) for j in row if j >= 0)
        if prune and no_dg_cost is not None:
            best.lps += 1
            if _below(profit_bound(data, net, units, no_dg_cost), best.leader_value):
                by_surplus += 1
                continue
        if solved == max_solved:
            raise TooManySets(f"more than {max_solved} of the {n_sets} location sets "
                              f"(C({n}, <= {m})) pass the bounds")
        sub = problem_from_data(fixed_set(data, units))
        result = warm_enumeration(sub)
        solved += 1
        best.lps += result.lps
        best.points += result.points
        if result.leader_value is None:
            continue
        x, y = _lift(problem, sub, units, result.x, result.y)
        value = problem.leader_objective(x, y)
        if best.leader_value is None or value > best.leader_value + 1e-12 * max(
                1.0, abs(best.leader_value)):
            best.status, best.x, best.y, best.leader_value = "optimal", x, y.copy(), value
            best.follower_value = problem.follower_objective(x, y)
    best.method = (f"location decomposition: {n_sets} sets; {solved} solved by the warm grid "
                   f"oracle, {by_surplus} pruned by the surplus bound, "
                   f"{n_sets - 1 - solved - by_surplus} by the additive bound")
    best.nodes = solved
    return best
