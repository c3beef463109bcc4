"""The exact oracle of a location case (chapters 7-10) by decomposition over location sets.

What it proves: for a fixed set S of built units the location problem is the case without
location whose DGs are exactly S (a unit not built produces nothing, and its price does not
enter the leader's objective); the leader's optimum is therefore the best, over every set S
of at most w^max candidates (the empty set included), of that fixed-set problem's optimum,
which the warm grid oracle (fast_oracle.py) solves exactly with the optimistic tie-break. The
answer is mapped back to the location problem's variables (prices of units not built: the
grid's lowest) and re-evaluated there.

Cost: one grid enumeration per set, sum over sizes k <= w^max of C(J, k) sets of
grid^k points. No set is pruned yet (issue 14: bounds that prune sets are still to come), so
this is affordable on small candidate lists and coarse cases only; ``max_sets`` refuses more.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np

from bench.api import BilevelProblem, OracleResult, optimistic_response
from gridbench_dg_contract_pricing.data import DGContractData, problem_from_data
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


def decomposition_oracle(data: DGContractData, problem: BilevelProblem,
                         max_sets: int = 5_000) -> OracleResult:
    """The location case's exact optimistic optimum (module doc: what it proves)."""
    assert data.location is not None
    n, m = len(data.dg_names), data.location.max_units
    n_sets = sum(comb(n, k) for k in range(m + 1))
    if n_sets > max_sets:
        raise TooManySets(f"{n_sets} location sets (C({n}, <= {m})) exceed {max_sets}")
    lead = 1.0 if problem.leader_sense == "min" else -1.0
    best = OracleResult("infeasible", f"location decomposition ({n_sets} sets, warm grid "
                                      "oracle per set)")
    for units in location_sets(n, m):
        if not units:  # nothing built: the follower's answer at any price
            x = _lowest(problem)
            response = optimistic_response(problem, x)
            best.lps += response.lps
            if response.leader_value is None:
                continue
            y, value = response.y, response.leader_value
        else:
            sub = problem_from_data(fixed_set(data, units))
            result = warm_enumeration(sub)
            best.lps += result.lps
            best.points += result.points
            if result.leader_value is None:
                continue
            x, y = _lift(problem, sub, units, result.x, result.y)
            value = problem.leader_objective(x, y)
        if best.leader_value is None or (
                lead * value < lead * best.leader_value - 1e-12 * max(1.0, abs(best.leader_value))):
            best.status, best.x, best.y, best.leader_value = "optimal", x, y.copy(), value
            best.follower_value = problem.follower_objective(x, y)
    return best
