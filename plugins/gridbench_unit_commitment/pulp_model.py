"""Unit commitment in PuLP: variable dicts on the problem and lpSum."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pulp

from bench.api import BuiltModel, Solution, values_of
from gridbench_unit_commitment.checks import STARTUP_COUPLED
from gridbench_unit_commitment.data import UnitCommitmentData


def build(data: UnitCommitmentData, variant: str) -> BuiltModel:
    G, T = range(data.n_types), range(data.n_periods)
    n, m, M = data.units_available, data.min_output_mw, data.max_output_mw
    c, v, s = data.cost_at_min_per_mwh, data.marginal_cost_per_mwh, data.startup_cost
    d, hours = data.demand_mw, data.period_hours
    index = [(g, t) for g in G for t in T]

    prob = pulp.LpProblem("unit_commitment", pulp.LpMinimize)
    z, w, x = variables(prob, index)

    prob += pulp.lpSum(
        s[g] * w[g, t] + c[g] * m[g] * hours[t] * z[g, t]
        + v[g] * hours[t] * (x[g, t] - m[g] * z[g, t])
        for g, t in index)
    for g, t in index:
        prob += m[g] * z[g, t] <= x[g, t], f"output_min_{g}_{t}"
        prob += x[g, t] <= M[g] * z[g, t], f"output_max_{g}_{t}"
        prob += z[g, t] <= n[g], f"units_available_{g}_{t}"
    for t in T:
        prob += pulp.lpSum(x[g, t] for g in G) >= d[t], f"demand_{t}"
        if data.reserve_margin is not None:
            prob += (pulp.lpSum(M[g] * z[g, t] for g in G) >= (1 + data.reserve_margin) * d[t],
                     f"reserve_{t}")
    if variant == STARTUP_COUPLED:
        for g, t in index:
            before = data.previous_period(t)
            on_before = z[g, before] if before is not None else data.initial_units_on[g]
            prob += w[g, t] >= z[g, t] - on_before, f"startup_{g}_{t}"

    return BuiltModel(prob, extractor(data, z, w, x))


def variables(prob: pulp.LpProblem, index: list[tuple[int, int]]) -> tuple[dict, dict, dict]:
    """z (units on), w (start-ups), x (output) per (type, period); shared with
    ``pulp_dicts_model.py``, which writes the rows another way."""
    return (prob.add_variable_dicts("z", index, lowBound=0, cat=pulp.LpInteger),
            prob.add_variable_dicts("w", index, lowBound=0, cat=pulp.LpInteger),
            prob.add_variable_dicts("x", index, lowBound=0))


def extractor(data: UnitCommitmentData, z: dict, w: dict, x: dict) -> Callable[[], Solution]:
    G, T = range(data.n_types), range(data.n_periods)

    def extract() -> Solution:
        values = {name: np.array([values_of(var[g, t] for t in T) for g in G])
                  for name, var in (("z", z), ("w", w), ("x", x))}
        return Solution(values, None)

    return extract
