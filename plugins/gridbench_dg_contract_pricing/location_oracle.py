"""The exact oracle of a location case (chapters 7-10) by decomposition over location sets.

What it proves: for a fixed set S of built units the location problem is the case without
location whose DGs are exactly S (a unit not built produces nothing, and its price does not
enter the leader's objective); the leader's optimum is therefore the best, over every set S
of at most w^max candidates (the empty set included), of that fixed-set problem's optimum,
which the warm grid oracle (fast_oracle.py) solves exactly with the optimistic tie-break. The
answer is mapped back to the location problem's variables (prices of units not built: the
grid's lowest) and re-evaluated there.

Pruning (exact): a set is skipped when an upper bound on its profit lies below the
incumbent. The bound is the surplus the units can create, capped by the price grid:
at any prices the follower pays at most its no-DG cost F0 (it may leave every unit off), so
p.E <= F0 - rho.P^se and the profit p.E - c.E <= F0 - G(S), where G(S) is the follower's
least cost with the units of S priced at their lowest production cost (one LP per set);
and the profit is at most sum_j (p_max - c_j) P-bar_j over the weighted hours. Sets are
solved in decreasing order of the bound, so once a bound falls below the incumbent every
later set is pruned too. Without a feasible no-DG dispatch only the grid cap is used.

Cost: one LP per set for the bound, and one grid enumeration (grid^k points) per set not
pruned; ``max_sets`` refuses more than that many sets.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np

from bench.api import BilevelProblem, OracleResult, optimistic_response, solve_follower
from gridbench_dg_contract_pricing.data import (
    DGContractData,
    Network,
    network_of,
    problem_from_data,
)
from gridbench_dg_contract_pricing.fast_oracle import warm_enumeration

PER_DG = ("dg_names", "dg_bus", "dg_capacity_mw", "dg_min_mw", "dg_cost")
PER_DG_FOLLOWER = ("p_gd", "q_gd")  # follower blocks with one row per DG


class TooManySets(ValueError):
    """The decomposition would enumerate more location sets than allowed."""


def fixed_set(data: DGContractData, units: tuple[int, ...]) -> DGContractData:
    """The case with exactly ``units`` built: no location feature, those DGs only."""
    keep = list(units)
    update = {key: [getattr(data, key)[j] for j in keep] for key in PER_DG}
    update |= {"location": None, "published_prices": []}
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


def profit_bound(data: DGContractData, net: Network, units: tuple[int, ...],
                 no_dg_cost: float | None) -> float:
    """An upper bound on the DG profit of the set ``units`` at any prices (module doc);
    ``net`` is ``network_of(data)``, ``no_dg_cost`` the follower's cost with nothing built."""
    cap = np.asarray(data.dg_capacity_mw, float)
    grid_cap = sum(float(np.sum((data.price_max - net.cost[j]) * cap[j] * net.weight))
                   for j in units)
    if no_dg_cost is None:
        return grid_cap
    sub = problem_from_data(fixed_set(data, units))
    at_cost = np.asarray([float(net.cost[j].min()) for j in units])  # the lowest c_j
    least = solve_follower(sub, at_cost)
    if least.status != "optimal":
        return grid_cap
    return min(grid_cap, no_dg_cost - least.value)


def decomposition_oracle(data: DGContractData, problem: BilevelProblem,
                         max_sets: int = 5_000, prune: bool = True) -> OracleResult:
    """The location case's exact optimistic optimum (module doc: what it proves)."""
    assert data.location is not None
    n, m = len(data.dg_names), data.location.max_units
    n_sets = sum(comb(n, k) for k in range(m + 1))
    if n_sets > max_sets:
        raise TooManySets(f"{n_sets} location sets (C({n}, <= {m})) exceed {max_sets}")
    assert problem.leader_sense == "max", "the DG owners maximise their profit"
    best = OracleResult("infeasible", "")
    x0 = _lowest(problem)  # nothing built
    nothing = optimistic_response(problem, x0)
    best.lps += nothing.lps
    if nothing.leader_value is not None:
        best.status, best.x, best.y = "optimal", x0, nothing.y.copy()
        best.leader_value, best.follower_value = nothing.leader_value, nothing.follower_value
    no_dg_cost = nothing.follower_value  # min form: the cost; None when infeasible
    net = network_of(data)
    sets = [units for units in location_sets(n, m) if units]
    bounds = {units: (profit_bound(data, net, units, no_dg_cost) if prune else np.inf)
              for units in sets}
    best.lps += len(sets) if prune else 0
    solved = 0
    for units in sorted(sets, key=lambda u: -bounds[u]):
        if best.leader_value is not None and bounds[units] < best.leader_value - 1e-9 * max(
                1.0, abs(best.leader_value)):
            break  # sorted: every later set's bound is lower still
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
    best.method = (f"location decomposition: {n_sets} sets, {solved} solved by the warm grid "
                   f"oracle, {len(sets) - solved} pruned by the surplus bound")
    best.nodes = solved
    return best
