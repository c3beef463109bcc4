"""Unit commitment in Pyomo: indexed sets, variables and constraint rules with quicksum."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyomo.environ as pyo

from bench.api import BuiltModel, Solution
from gridbench_unit_commitment.checks import STARTUP_COUPLED
from gridbench_unit_commitment.data import UnitCommitmentData


def build(data: UnitCommitmentData, variant: str) -> BuiltModel:
    G, T = range(data.n_types), range(data.n_periods)
    n, m, M = data.units_available, data.min_output_mw, data.max_output_mw
    c, v, s = data.cost_at_min_per_mwh, data.marginal_cost_per_mwh, data.startup_cost
    d, hours = data.demand_mw, data.period_hours

    model = declare(data)

    model.cost = pyo.Objective(
        expr=pyo.quicksum(
            s[g] * model.w[g, t] + c[g] * m[g] * hours[t] * model.z[g, t]
            + v[g] * hours[t] * (model.x[g, t] - m[g] * model.z[g, t])
            for g in G for t in T),
        sense=pyo.minimize)

    model.output_min = pyo.Constraint(
        model.G, model.T, rule=lambda mdl, g, t: m[g] * mdl.z[g, t] <= mdl.x[g, t])
    model.output_max = pyo.Constraint(
        model.G, model.T, rule=lambda mdl, g, t: mdl.x[g, t] <= M[g] * mdl.z[g, t])
    model.units_available = pyo.Constraint(
        model.G, model.T, rule=lambda mdl, g, t: mdl.z[g, t] <= n[g])
    model.demand = pyo.Constraint(
        model.T, rule=lambda mdl, t: pyo.quicksum(mdl.x[g, t] for g in G) >= d[t])
    if data.reserve_margin is not None:
        p = data.reserve_margin
        model.reserve = pyo.Constraint(
            model.T, rule=lambda mdl, t: pyo.quicksum(M[g] * mdl.z[g, t] for g in G)
            >= (1 + p) * d[t])
    if variant == STARTUP_COUPLED:
        def startup(mdl, g, t):
            before = data.previous_period(t)
            on_before = mdl.z[g, before] if before is not None else data.initial_units_on[g]
            return mdl.w[g, t] >= mdl.z[g, t] - on_before
        model.startup = pyo.Constraint(model.G, model.T, rule=startup)

    return BuiltModel(model, extractor(data, model))


def declare(data: UnitCommitmentData) -> pyo.ConcreteModel:
    """The model with its sets G, T and variables z (units on), w (start-ups), x (output);
    shared with ``pyomo_linear_model.py``, which writes the rows another way."""
    model = pyo.ConcreteModel(name="unit_commitment")
    model.G = pyo.Set(initialize=range(data.n_types))
    model.T = pyo.Set(initialize=range(data.n_periods))
    model.z = pyo.Var(model.G, model.T, within=pyo.NonNegativeIntegers)
    model.w = pyo.Var(model.G, model.T, within=pyo.NonNegativeIntegers)
    model.x = pyo.Var(model.G, model.T, within=pyo.NonNegativeReals)
    return model


def extractor(data: UnitCommitmentData, model: pyo.ConcreteModel) -> Callable[[], Solution]:
    G, T = range(data.n_types), range(data.n_periods)

    def extract() -> Solution:
        values = {name: np.array([[pyo.value(getattr(model, name)[g, t]) for t in T] for g in G])
                  for name in ("z", "w", "x")}
        return Solution(values, None)

    return extract
