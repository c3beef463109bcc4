"""Prosumer sharing in Pyomo: indexed sets, variables with bound rules, constraint rules."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from bench.api import BuiltModel, Solution
from gridbench_prosumer_sharing.data import ProsumerSharingData
from gridbench_prosumer_sharing.welfare import (
    QUADRATIC_VARIABLES,
    has_binaries,
    is_pwl,
    tangent_lines,
    terms,
)

# Pyomo's dual of an equality in a maximisation, as HiGHS returns it, is
# d objective / d right-hand side (checked against the KKT price in verify)
DUAL_SIGN = 1.0


def build(data: ProsumerSharingData, variant: str) -> BuiltModel:
    a = data.arrays
    N, T = range(data.n_prosumers), range(data.periods)
    term_of = terms(data)
    # plain nested lists: indexing them is much faster than numpy scalars in rules
    lin = {n: term_of[n].linear.tolist() for n in QUADRATIC_VARIABLES}
    quad = {n: term_of[n].quadratic.tolist() for n in QUADRATIC_VARIABLES}
    lo = {n: term_of[n].lo.tolist() for n in QUADRATIC_VARIABLES}
    hi = {n: term_of[n].hi.tolist() for n in QUADRATIC_VARIABLES}
    eta_ch, eta_dis = a["eta_ch"].tolist(), a["eta_dis"].tolist()
    energy_initial, energy_max = a["energy_initial"].tolist(), a["energy_max"].tolist()
    energy_final, grid = a["energy_final_min"].tolist(), a["grid"].tolist()
    binaries = has_binaries(variant)

    model = pyo.ConcreteModel(name="prosumer_sharing")
    model.N = pyo.Set(initialize=N)
    model.T = pyo.Set(initialize=T)
    model.X = pyo.Set(initialize=QUADRATIC_VARIABLES)  # the variables with a utility term

    def bounds(mdl, name, i, t):
        # with complementarity the charge/discharge limits move into the on/off constraints
        upper = None if binaries and name in ("Qch", "Qdis") else hi[name][i][t]
        return lo[name][i][t], upper

    model.x = pyo.Var(model.X, model.N, model.T, bounds=bounds)
    model.E = pyo.Var(model.N, model.T)
    model.soc = pyo.Var(model.N, model.T, bounds=lambda mdl, i, t: (0, energy_max[i]))
    x = model.x

    model.prosumer_balance = pyo.Constraint(model.N, model.T, rule=lambda m, i, t: m.E[i, t] == (
        x["D", i, t] + x["Qch", i, t] - x["S", i, t] - x["Qdis", i, t]))
    model.sharing = pyo.Constraint(
        model.T, rule=lambda m, t: pyo.quicksum(m.E[i, t] for i in N) == grid[t])

    def state_of_charge(m, i, t):
        before = energy_initial[i] if t == 0 else m.soc[i, t - 1]
        return m.soc[i, t] == before + eta_ch[i] * x["Qch", i, t] - x["Qdis", i, t] / eta_dis[i]

    model.state_of_charge = pyo.Constraint(model.N, model.T, rule=state_of_charge)
    last = data.periods - 1
    model.final_energy = pyo.Constraint(
        model.N, rule=lambda m, i: m.soc[i, last] >= energy_final[i])

    if binaries:
        model.charging = pyo.Var(model.N, model.T, within=pyo.Binary)
        model.charge_on = pyo.Constraint(model.N, model.T, rule=lambda m, i, t: (
            x["Qch", i, t] <= hi["Qch"][i][t] * m.charging[i, t]))
        model.discharge_off = pyo.Constraint(model.N, model.T, rule=lambda m, i, t: (
            x["Qdis", i, t] <= hi["Qdis"][i][t] * (1 - m.charging[i, t])))
    else:
        model.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)

    linear = pyo.quicksum(lin[n][i][t] * x[n, i, t] for n in QUADRATIC_VARIABLES
                          for i in N for t in T)
    if is_pwl(variant):
        lines = {n: tangent_lines(term_of[n], data.pwl_segments) for n in QUADRATIC_VARIABLES}
        slope = {n: lines[n].slope.tolist() for n in QUADRATIC_VARIABLES}
        intercept = {n: lines[n].intercept.tolist() for n in QUADRATIC_VARIABLES}
        model.K = pyo.Set(initialize=range(data.pwl_segments))
        model.w = pyo.Var(model.X, model.N, model.T)
        model.tangent = pyo.Constraint(
            model.X, model.N, model.T, model.K, rule=lambda m, n, i, t, k: (
                m.w[n, i, t] >= slope[n][i][t][k] * x[n, i, t] + intercept[n][i][t][k]))
        convex = pyo.quicksum(model.w[n, i, t] for n in QUADRATIC_VARIABLES for i in N for t in T)
    else:
        convex = pyo.quicksum(0.5 * quad[n][i][t] * x[n, i, t] ** 2 for n in QUADRATIC_VARIABLES
                              for i in N for t in T if quad[n][i][t] != 0)
    model.welfare = pyo.Objective(expr=linear - convex, sense=pyo.maximize)

    def extract() -> Solution:
        values = {n: np.array([[pyo.value(x[n, i, t]) for t in T] for i in N])
                  for n in QUADRATIC_VARIABLES}
        values["E"] = np.array([[pyo.value(model.E[i, t]) for t in T] for i in N])
        if not binaries and len(model.dual) > 0:
            values["price"] = DUAL_SIGN * np.array([model.dual[model.sharing[t]] for t in T])
        return Solution(values, None)

    return BuiltModel(model, extract)
