"""The knapsack in PuLP."""

from __future__ import annotations

import numpy as np
import pulp

from bench.api import BuiltModel, Solution


def build(data, variant: str) -> BuiltModel:
    items = range(len(data.values))
    prob = pulp.LpProblem("knapsack", pulp.LpMaximize)
    take = prob.add_variable_dicts("take", items, cat=pulp.LpBinary)
    prob += pulp.lpSum(data.values[i] * take[i] for i in items)
    prob += pulp.lpSum(data.weights[i] * take[i] for i in items) <= data.capacity, "capacity"
    return BuiltModel(prob, lambda: Solution(
        {"take": np.array([take[i].value() for i in items], dtype=float)}, None))
