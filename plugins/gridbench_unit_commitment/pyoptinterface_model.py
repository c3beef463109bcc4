"""Unit commitment in PyOptInterface: tupledicts of variables built straight into HiGHS,
rows as ``ExprBuilder`` expressions (``quicksum`` for the sums over types)."""

from __future__ import annotations

import numpy as np
import pyoptinterface as poi

from bench.api import BuiltModel, Solution
from gridbench_pyoptinterface.adapter import new_model
from gridbench_unit_commitment.checks import STARTUP_COUPLED
from gridbench_unit_commitment.data import UnitCommitmentData


def build(data: UnitCommitmentData, variant: str) -> BuiltModel:
    G, T = range(data.n_types), range(data.n_periods)
    n, m, M = data.units_available, data.min_output_mw, data.max_output_mw
    c, v, s = data.cost_at_min_per_mwh, data.marginal_cost_per_mwh, data.startup_cost
    d, hours = data.demand_mw, data.period_hours

    model = new_model()
    integer = poi.VariableDomain.Integer
    z = model.add_variables(G, T, domain=integer, lb=0.0, name="z")
    w = model.add_variables(G, T, domain=integer, lb=0.0, name="w")
    x = model.add_variables(G, T, lb=0.0, name="x")

    objective = poi.ExprBuilder()
    for g in G:
        for t in T:
            objective.add_affine_term(w[g, t], s[g])
            objective.add_affine_term(z[g, t], c[g] * m[g] * hours[t] - v[g] * hours[t] * m[g])
            objective.add_affine_term(x[g, t], v[g] * hours[t])
    # as an affine function: an ExprBuilder is handed over as a (empty) quadratic one
    model.set_objective(poi.ScalarAffineFunction(objective), poi.ObjectiveSense.Minimize)

    for g in G:
        for t in T:
            model.add_linear_constraint(x[g, t] - m[g] * z[g, t], poi.Geq, 0.0)
            model.add_linear_constraint(x[g, t] - M[g] * z[g, t], poi.Leq, 0.0)
            model.add_linear_constraint(z[g, t], poi.Leq, float(n[g]))
    for t in T:
        model.add_linear_constraint(poi.quicksum(x[g, t] for g in G), poi.Geq, float(d[t]))
        if data.reserve_margin is not None:
            model.add_linear_constraint(poi.quicksum(M[g] * z[g, t] for g in G), poi.Geq,
                                        (1 + data.reserve_margin) * d[t])
    if variant == STARTUP_COUPLED:
        for g in G:
            for t in T:
                before = data.previous_period(t)
                if before is not None:
                    model.add_linear_constraint(w[g, t] - z[g, t] + z[g, before], poi.Geq, 0.0)
                else:
                    model.add_linear_constraint(w[g, t] - z[g, t], poi.Geq,
                                                -float(data.initial_units_on[g]))

    def extract() -> Solution:
        values = {name: np.array([[model.get_value(var[g, t]) for t in T] for g in G],
                                 dtype=float)
                  for name, var in (("z", z), ("w", w), ("x", x))}
        return Solution(values, None)

    return BuiltModel(model, extract)
