"""Unit commitment in Pyomo, built the fast way Pyomo documents (backend ``pyomo_linear``):
every row a ``LinearExpression`` from coefficient and variable lists, every constraint rule
returning a (lower, body, upper) tuple, so no operator overloading and no relational
expressions. Same model, rows and names as ``pyomo_model.py`` (quicksum and comparisons);
docs/benchmarks/raw_limit.md gives the ratio between the two.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from bench.api import BuiltModel
from gridbench_unit_commitment.checks import STARTUP_COUPLED
from gridbench_unit_commitment.data import UnitCommitmentData
from gridbench_unit_commitment.pyomo_model import declare, extractor


def build(data: UnitCommitmentData, variant: str) -> BuiltModel:
    G, T = range(data.n_types), range(data.n_periods)
    a = data.arrays()
    n, m, M = a["n"].tolist(), a["m"].tolist(), a["M"].tolist()
    d = a["d"].tolist()
    index = [(g, t) for g in G for t in T]

    model = declare(data)
    z, w, x = model.z, model.w, model.x
    zs, ws, xs = [z[i] for i in index], [w[i] for i in index], [x[i] for i in index]

    # per unit on: (c_g - v_g) m_g l_t; per start-up: s_g; per MWh: v_g l_t
    coefficients = np.concatenate([np.outer((a["c"] - a["v"]) * a["m"], a["hours"]).ravel(),
                                   np.repeat(a["s"], len(T)),
                                   np.outer(a["v"], a["hours"]).ravel()]).tolist()
    model.cost = pyo.Objective(
        expr=LinearExpression(constant=0.0, linear_coefs=coefficients,
                              linear_vars=[*zs, *ws, *xs]),
        sense=pyo.minimize)

    def row(coefs: list[float], variables: list) -> LinearExpression:
        return LinearExpression(constant=0.0, linear_coefs=coefs, linear_vars=variables)

    model.output_min = pyo.Constraint(
        model.G, model.T, rule=lambda _, g, t: (None, row([m[g], -1.0], [z[g, t], x[g, t]]), 0.0))
    model.output_max = pyo.Constraint(
        model.G, model.T, rule=lambda _, g, t: (None, row([1.0, -M[g]], [x[g, t], z[g, t]]), 0.0))
    model.units_available = pyo.Constraint(
        model.G, model.T, rule=lambda _, g, t: (None, row([1.0], [z[g, t]]), n[g]))
    model.demand = pyo.Constraint(
        model.T, rule=lambda _, t: (d[t], row([1.0] * len(G), [x[g, t] for g in G]), None))
    if data.reserve_margin is not None:
        p = data.reserve_margin
        model.reserve = pyo.Constraint(
            model.T, rule=lambda _, t: ((1 + p) * d[t], row(M, [z[g, t] for g in G]), None))
    if variant == STARTUP_COUPLED:
        def startup(_, g, t):
            before = data.previous_period(t)
            if before is None:  # the first period: units on before the horizon are data
                return -float(data.initial_units_on[g]), row([1.0, -1.0], [w[g, t], z[g, t]]), None
            if before == t:  # one cyclic period: z_gt - z_g,t-1 is 0
                return 0.0, row([1.0], [w[g, t]]), None
            return 0.0, row([1.0, -1.0, 1.0], [w[g, t], z[g, t], z[g, before]]), None
        model.startup = pyo.Constraint(model.G, model.T, rule=startup)

    return BuiltModel(model, extractor(data, model))
