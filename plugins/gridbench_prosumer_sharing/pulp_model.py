"""Prosumer sharing in PuLP (linear only): tangent lines for every quadratic term.

PuLP has no quadratic objective, so each term q/2 x^2 becomes a variable w >= each of the
case's ``pwl_segments`` tangent lines (an outer approximation: the linearised welfare is an
upper bound, within welfare.pwl_error_bound of the exact one). Variable dicts on the
problem and lpSum, as the PuLP 3.3 idiom.
"""

from __future__ import annotations

import numpy as np
import pulp

from bench.api import BuiltModel, Solution, values_of
from gridbench_prosumer_sharing.data import ProsumerSharingData
from gridbench_prosumer_sharing.welfare import (
    QUADRATIC_VARIABLES,
    has_binaries,
    is_pwl,
    tangent_lines,
    terms,
)


def build(data: ProsumerSharingData, variant: str) -> BuiltModel:
    if not is_pwl(variant):
        raise ValueError(f"PuLP is linear only: variant {variant!r} has a quadratic objective; "
                         f"run {variant}_pwl (its tangent-line approximation)")
    a = data.arrays
    N, T, K = range(data.n_prosumers), range(data.periods), range(data.pwl_segments)
    index = [(i, t) for i in N for t in T]
    term_of = terms(data)
    lin = {n: term_of[n].linear.tolist() for n in QUADRATIC_VARIABLES}
    lo = {n: term_of[n].lo.tolist() for n in QUADRATIC_VARIABLES}
    hi = {n: term_of[n].hi.tolist() for n in QUADRATIC_VARIABLES}
    lines = {n: tangent_lines(term_of[n], data.pwl_segments) for n in QUADRATIC_VARIABLES}
    slope = {n: lines[n].slope.tolist() for n in QUADRATIC_VARIABLES}
    intercept = {n: lines[n].intercept.tolist() for n in QUADRATIC_VARIABLES}
    eta_ch, eta_dis = a["eta_ch"].tolist(), a["eta_dis"].tolist()
    energy_initial, energy_max = a["energy_initial"].tolist(), a["energy_max"].tolist()
    energy_final, grid = a["energy_final_min"].tolist(), a["grid"].tolist()
    binaries = has_binaries(variant)

    prob = pulp.LpProblem("prosumer_sharing", pulp.LpMaximize)
    x = {}
    for n in QUADRATIC_VARIABLES:
        # with complementarity the charge/discharge limits are the on/off constraints below
        upper = None if binaries and n in ("Qch", "Qdis") else hi[n]
        x[n] = prob.add_variable_dicts(n, index)
        for i, t in index:
            x[n][i, t].bounds(lo[n][i][t], None if upper is None else upper[i][t])
    E = prob.add_variable_dicts("E", index)
    soc = prob.add_variable_dicts("soc", index, lowBound=0)
    w = {n: prob.add_variable_dicts(f"w_{n}", index) for n in QUADRATIC_VARIABLES}
    D, S, Qch, Qdis = (x[n] for n in QUADRATIC_VARIABLES)

    prob += pulp.lpSum(lin[n][i][t] * x[n][i, t] - w[n][i, t]
                       for n in QUADRATIC_VARIABLES for i, t in index)
    # the bulk of the model (4 x N x T x K rows): built from (variable, coefficient) pairs,
    # three times faster than the operator form w >= slope * x + intercept
    for n in QUADRATIC_VARIABLES:
        for i, t in index:
            w_it, x_it = w[n][i, t], x[n][i, t]
            for k in K:
                prob.addConstraint(pulp.LpConstraint(
                    pulp.LpAffineExpression([(w_it, 1.0), (x_it, -slope[n][i][t][k])]),
                    pulp.LpConstraintGE, f"tangent_{n}_{i}_{t}_{k}", intercept[n][i][t][k]))
    for i, t in index:
        prob += E[i, t] == D[i, t] + Qch[i, t] - S[i, t] - Qdis[i, t], f"prosumer_balance_{i}_{t}"
        before = energy_initial[i] if t == 0 else soc[i, t - 1]
        prob += (soc[i, t] == before + eta_ch[i] * Qch[i, t] - (1 / eta_dis[i]) * Qdis[i, t],
                 f"state_of_charge_{i}_{t}")
        prob += soc[i, t] <= energy_max[i], f"energy_max_{i}_{t}"
    last = data.periods - 1
    for i in N:
        prob += soc[i, last] >= energy_final[i], f"final_energy_{i}"
    for t in T:
        prob += pulp.lpSum(E[i, t] for i in N) == grid[t], f"sharing_{t}"
    if binaries:
        charging = prob.add_variable_dicts("charging", index, cat=pulp.LpBinary)
        for i, t in index:
            prob += Qch[i, t] <= hi["Qch"][i][t] * charging[i, t], f"charge_on_{i}_{t}"
            prob += Qdis[i, t] <= hi["Qdis"][i][t] * (1 - charging[i, t]), f"discharge_off_{i}_{t}"

    def extract() -> Solution:
        values = {n: np.array([values_of(x[n][i, t] for t in T) for i in N])
                  for n in QUADRATIC_VARIABLES}
        values["E"] = np.array([values_of(E[i, t] for t in T) for i in N])
        if not binaries:
            duals = [prob.get_constraint_by_name(f"sharing_{t}").pi for t in T]
            if all(d is not None for d in duals):  # one sign convention: the PuLP adapter's
                values["price"] = np.array(duals, dtype=float)
        return Solution(values, None)

    return BuiltModel(prob, extract)
