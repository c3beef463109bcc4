"""Prosumer sharing in CVXPY: (prosumers x periods) matrix variables, vectorised terms."""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from bench.api import BuiltModel, Solution
from gridbench_prosumer_sharing.data import ProsumerSharingData
from gridbench_prosumer_sharing.welfare import has_binaries, is_pwl, tangent_lines, terms

# CVXPY's dual of an equality in a Maximize problem is d objective / d right-hand side
# with the sign below (checked against the KKT price in verify)
DUAL_SIGN = 1.0


def build(data: ProsumerSharingData, variant: str) -> BuiltModel:
    a = data.arrays
    shape = (data.n_prosumers, data.periods)
    term_of = terms(data)

    x = {"D": cp.Variable(shape, name="D"), "S": cp.Variable(shape, nonneg=True, name="S"),
         "Qch": cp.Variable(shape, nonneg=True, name="Qch"),
         "Qdis": cp.Variable(shape, nonneg=True, name="Qdis")}
    E = cp.Variable(shape, name="E")
    soc = cp.Variable(shape, nonneg=True, name="soc")
    D, S, Qch, Qdis = x["D"], x["S"], x["Qch"], x["Qdis"]
    charge_max = np.broadcast_to(a["charge_max"][:, None], shape)
    discharge_max = np.broadcast_to(a["discharge_max"][:, None], shape)

    sharing = cp.sum(E, axis=0) == a["grid"]
    constraints = [D >= a["demand_min"], D <= a["demand_max"], S <= a["supply_max"],
                   E == D + Qch - S - Qdis, sharing]
    if has_binaries(variant):
        on = cp.Variable(shape, boolean=True, name="charging")
        constraints += [Qch <= cp.multiply(charge_max, on),
                        Qdis <= cp.multiply(discharge_max, 1 - on)]
    else:
        constraints += [Qch <= charge_max, Qdis <= discharge_max]
    flow = cp.multiply(a["eta_ch"][:, None], Qch) - cp.multiply(1 / a["eta_dis"][:, None], Qdis)
    constraints += [soc[:, 0] == a["energy_initial"] + flow[:, 0],
                    soc <= np.broadcast_to(a["energy_max"][:, None], shape),
                    soc[:, -1] >= a["energy_final_min"]]
    if data.periods > 1:
        constraints.append(soc[:, 1:] == soc[:, :-1] + flow[:, 1:])

    linear = cp.sum([cp.sum(cp.multiply(term_of[n].linear, x[n])) for n in x])
    if is_pwl(variant):
        convex_parts = []
        for name, var in x.items():
            lines = tangent_lines(term_of[name], data.pwl_segments)
            w = cp.Variable(shape, name=f"w_{name}")
            constraints += [w >= cp.multiply(lines.slope[..., k], var) + lines.intercept[..., k]
                            for k in range(data.pwl_segments)]
            convex_parts.append(cp.sum(w))
        objective = linear - cp.sum(convex_parts)
    else:
        objective = linear - 0.5 * cp.sum([
            cp.sum_squares(cp.multiply(np.sqrt(term_of[n].quadratic), x[n])) for n in x])
    problem = cp.Problem(cp.Maximize(objective), constraints)

    def extract() -> Solution:
        values = {name: np.asarray(var.value, float) for name, var in x.items()}
        values["E"] = np.asarray(E.value, float)
        if sharing.dual_value is not None and not has_binaries(variant):
            values["price"] = DUAL_SIGN * np.atleast_1d(np.asarray(sharing.dual_value, float))
        return Solution(values, None)

    return BuiltModel(problem, extract)
