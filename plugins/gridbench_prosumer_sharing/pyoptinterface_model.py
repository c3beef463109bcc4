"""Prosumer sharing in PyOptInterface (the relaxed QP): tupledicts built straight into HiGHS,
the welfare as one ``ExprBuilder`` with quadratic terms, and the sharing rows' duals read back
as the price. The complementarity and tangent-line variants are not written here
(NotApplicable)."""

from __future__ import annotations

import math

import numpy as np
import pyoptinterface as poi

from bench.api import BuiltModel, NotApplicable, Solution
from gridbench_prosumer_sharing.data import ProsumerSharingData
from gridbench_prosumer_sharing.welfare import QUADRATIC_VARIABLES, RELAXED, terms
from gridbench_pyoptinterface.adapter import new_model

# the maximisation goes to HiGHS as one (no negation): HiGHS's row dual is then
# d objective / d right-hand side, as Pyomo's (checked against the KKT price in verify)
DUAL_SIGN = 1.0


def build(data: ProsumerSharingData, variant: str) -> BuiltModel:
    if variant != RELAXED:
        raise NotApplicable(f"prosumer_sharing/{variant} is not written in PyOptInterface "
                            "(only the relaxed QP)")
    a = data.arrays
    N, T = range(data.n_prosumers), range(data.periods)
    term_of = terms(data)
    lin = {n: term_of[n].linear.tolist() for n in QUADRATIC_VARIABLES}
    quad = {n: term_of[n].quadratic.tolist() for n in QUADRATIC_VARIABLES}
    lo = {n: term_of[n].lo.tolist() for n in QUADRATIC_VARIABLES}
    hi = {n: term_of[n].hi.tolist() for n in QUADRATIC_VARIABLES}
    eta_ch, eta_dis = a["eta_ch"].tolist(), a["eta_dis"].tolist()
    energy_initial, energy_max = a["energy_initial"].tolist(), a["energy_max"].tolist()
    energy_final, grid = a["energy_final_min"].tolist(), a["grid"].tolist()

    model = new_model()
    x = {n: {(i, t): model.add_variable(lb=lo[n][i][t], ub=hi[n][i][t], name=f"{n}_{i}_{t}")
             for i in N for t in T} for n in QUADRATIC_VARIABLES}
    E = model.add_variables(N, T, lb=-math.inf, name="E")
    soc = {(i, t): model.add_variable(lb=0.0, ub=energy_max[i], name=f"soc_{i}_{t}")
           for i in N for t in T}

    for i in N:
        for t in T:
            model.add_linear_constraint(E[i, t] - x["D"][i, t] - x["Qch"][i, t]
                                        + x["S"][i, t] + x["Qdis"][i, t], poi.Eq, 0.0)
    sharing = [model.add_linear_constraint(poi.quicksum(E[i, t] for i in N), poi.Eq, grid[t])
               for t in T]
    for i in N:
        for t in T:
            row = soc[i, t] - eta_ch[i] * x["Qch"][i, t] + x["Qdis"][i, t] / eta_dis[i]
            if t == 0:
                model.add_linear_constraint(row, poi.Eq, energy_initial[i])
            else:
                model.add_linear_constraint(row - soc[i, t - 1], poi.Eq, 0.0)
        model.add_linear_constraint(soc[i, T[-1]], poi.Geq, energy_final[i])

    welfare = poi.ExprBuilder()
    for n in QUADRATIC_VARIABLES:
        for i in N:
            for t in T:
                welfare.add_affine_term(x[n][i, t], lin[n][i][t])
                if quad[n][i][t] != 0:
                    welfare.add_quadratic_term(x[n][i, t], x[n][i, t], -0.5 * quad[n][i][t])
    model.set_objective(welfare, poi.ObjectiveSense.Maximize)

    def extract() -> Solution:
        values = {n: np.array([[model.get_value(x[n][i, t]) for t in T] for i in N])
                  for n in QUADRATIC_VARIABLES}
        values["E"] = np.array([[model.get_value(E[i, t]) for t in T] for i in N])
        values["price"] = DUAL_SIGN * np.array([model.get_constraint_dual(c) for c in sharing])
        return Solution(values, None)

    return BuiltModel(model, extract)
