"""Market equilibrium in PuLP: variable dicts on the problem and lpSum."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pulp

from bench.api import BuiltModel, Solution, value_of, values_of
from gridbench_market_equilibrium.checks import solution_arrays
from gridbench_market_equilibrium.data import MarketData


def build(data: MarketData, variant: str) -> BuiltModel:
    terms = data.scenario_terms
    N, S = range(data.n_plants), range(data.n_scenarios)
    A, B, P = terms.plant_margin, terms.contract, terms.spot_cost
    GF_i = terms.physical_guarantee
    d, M = data.demand_mw, data.big_m_value
    lam_d, lam_g = data.lambda_demand, data.lambda_plants
    tail_d = 1.0 / ((1 - data.alpha) * data.n_scenarios)
    tail_g = 1.0 / ((1 - data.plant_alpha) * data.n_scenarios)
    prob_s = 1.0 / data.n_scenarios
    pairs = [(i, s) for i in N for s in S]

    prob = pulp.LpProblem("market_equilibrium", pulp.LpMinimize)
    var = variables(prob, data)
    x, Q_i, phi, eta, w, v = var.x, var.Q_i, var.phi, var.eta, var.w, var.v
    GF, Q, zeta = var.GF, var.Q, var.zeta

    def cost(s: int):  # Phi-hat: C_s = d P_s + Q B_s
        return d * P[s] + B[s] * Q

    def revenue(i: int, s: int):  # VPL-hat_i: R_i,s = A_i,s + Q_i B_s
        return A[i, s] + B[s] * Q_i[i]

    prob += (lam_d * pulp.lpSum(prob_s * cost(s) for s in S)
             + (1 - lam_d) * (zeta + tail_d * pulp.lpSum(v[s] for s in S))
             + pulp.lpSum(phi[i] for i in N))
    prob += GF == pulp.lpSum(GF_i[i] * x[i] for i in N), "physical_guarantee"
    prob += Q == pulp.lpSum(Q_i[i] for i in N), "contracted"
    for i in N:
        prob += Q_i[i] <= d * x[i], f"contract_limit_{i}"
        prob += (lam_g * pulp.lpSum(prob_s * revenue(i, s) for s in S)
                 + (1 - lam_g) * (eta[i] - tail_g * pulp.lpSum(w[i, s] for s in S))
                 + phi[i] >= -M * (1 - x[i])), f"participation_{i}"
    for s in S:
        prob += v[s] >= cost(s) - zeta, f"demand_tail_{s}"
    for i, s in pairs:
        prob += w[i, s] >= eta[i] - revenue(i, s), f"plant_tail_{i}_{s}"

    return BuiltModel(prob, extractor(data, var))


@dataclass(frozen=True)
class Variables:
    """The model's variables; shared with ``pulp_dicts_model.py``, which writes the rows
    another way."""

    x: dict  # viability, binary, per plant
    Q_i: dict  # contract per plant
    phi: dict  # side payment per plant
    eta: dict  # VaR of plant i's revenue
    w: dict  # shortfall below eta_i per (plant, scenario)
    v: dict  # demand's cost above zeta per scenario
    GF: pulp.LpVariable
    Q: pulp.LpVariable
    zeta: pulp.LpVariable  # VaR of the demand's cost


def variables(prob: pulp.LpProblem, data: MarketData) -> Variables:
    N, S = range(data.n_plants), range(data.n_scenarios)
    return Variables(
        x=prob.add_variable_dicts("x", N, cat=pulp.LpBinary),
        Q_i=prob.add_variable_dicts("Q_i", N, lowBound=0),
        phi=prob.add_variable_dicts("phi", N, lowBound=0),
        eta=prob.add_variable_dicts("eta", N),
        w=prob.add_variable_dicts("w", [(i, s) for i in N for s in S], lowBound=0),
        v=prob.add_variable_dicts("v", S, lowBound=0),
        GF=prob.add_variable("GF", lowBound=0), Q=prob.add_variable("Q", lowBound=0),
        zeta=prob.add_variable("zeta"))


def extractor(data: MarketData, var: Variables) -> Callable[[], Solution]:
    N, S = range(data.n_plants), range(data.n_scenarios)

    def extract() -> Solution:
        def vector(values) -> np.ndarray:
            return values_of(values[i] for i in N)

        return Solution(solution_arrays(
            x=vector(var.x), Q_i=vector(var.Q_i), phi=vector(var.phi), GF=value_of(var.GF),
            Q=value_of(var.Q), zeta=value_of(var.zeta), v=values_of(var.v[s] for s in S),
            eta=vector(var.eta), w=np.array([values_of(var.w[i, s] for s in S) for i in N])),
            None)

    return extract
