"""Market equilibrium in PuLP: variable dicts on the problem and lpSum."""

from __future__ import annotations

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
    x = prob.add_variable_dicts("x", N, cat=pulp.LpBinary)
    Q_i = prob.add_variable_dicts("Q_i", N, lowBound=0)
    phi = prob.add_variable_dicts("phi", N, lowBound=0)
    eta = prob.add_variable_dicts("eta", N)  # VaR of plant i's revenue
    w = prob.add_variable_dicts("w", pairs, lowBound=0)  # shortfall below eta_i
    v = prob.add_variable_dicts("v", S, lowBound=0)  # demand's cost above zeta
    GF = prob.add_variable("GF", lowBound=0)
    Q = prob.add_variable("Q", lowBound=0)
    zeta = prob.add_variable("zeta")  # VaR of the demand's cost

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

    def extract() -> Solution:
        def vector(var) -> np.ndarray:
            return values_of(var[i] for i in N)

        return Solution(solution_arrays(
            x=vector(x), Q_i=vector(Q_i), phi=vector(phi), GF=value_of(GF), Q=value_of(Q),
            zeta=value_of(zeta), v=values_of(v[s] for s in S),
            eta=vector(eta), w=np.array([values_of(w[i, s] for s in S) for i in N])),
            None)

    return BuiltModel(prob, extract)
