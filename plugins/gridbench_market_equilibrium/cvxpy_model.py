"""Market equilibrium in CVXPY: vectors over plants, scenario vectors and a plants x scenarios
revenue matrix, every constraint vectorised."""

from __future__ import annotations

import cvxpy as cp

from bench.api import BuiltModel, Solution
from gridbench_market_equilibrium.checks import solution_arrays
from gridbench_market_equilibrium.data import MarketData


def build(data: MarketData, variant: str) -> BuiltModel:
    terms = data.scenario_terms
    n, S = data.n_plants, data.n_scenarios
    A, B, P = terms.plant_margin, terms.contract, terms.spot_cost
    d, M = data.demand_mw, data.big_m_value
    lam_d, lam_g = data.lambda_demand, data.lambda_plants

    x = cp.Variable(n, boolean=True, name="x")
    Q_i = cp.Variable(n, nonneg=True, name="Q_i")
    phi = cp.Variable(n, nonneg=True, name="phi")
    GF = cp.Variable(nonneg=True, name="GF")
    Q = cp.Variable(nonneg=True, name="Q")
    zeta = cp.Variable(name="zeta")  # VaR of the demand's cost
    v = cp.Variable(S, nonneg=True, name="v")  # cost above zeta
    eta = cp.Variable(n, name="eta")  # VaR of each plant's revenue
    w = cp.Variable((n, S), nonneg=True, name="w")  # revenue shortfall below eta

    cost = d * P + Q * B  # Phi-hat per scenario, (S,)
    revenue = A + cp.reshape(Q_i, (n, 1), order="C") @ B.reshape(1, S)  # VPL-hat, (n, S)
    cvar_demand = zeta + cp.sum(v) / ((1 - data.alpha) * S)
    cvar_plants = eta - cp.sum(w, axis=1) / ((1 - data.plant_alpha) * S)
    npv = lam_g * cp.sum(revenue, axis=1) / S + (1 - lam_g) * cvar_plants

    objective = cp.Minimize(lam_d * cp.sum(cost) / S + (1 - lam_d) * cvar_demand + cp.sum(phi))
    constraints = [
        GF == terms.physical_guarantee @ x,
        Q == cp.sum(Q_i),
        Q_i <= d * x,
        v >= cost - zeta,
        w >= cp.reshape(eta, (n, 1), order="C") - revenue,
        npv + phi >= -M * (1 - x),
    ]
    problem = cp.Problem(objective, constraints)

    def extract() -> Solution:
        return Solution(solution_arrays(
            x=x.value, Q_i=Q_i.value, phi=phi.value, GF=GF.value, Q=Q.value, zeta=zeta.value,
            v=v.value, eta=eta.value, w=w.value), None)

    return BuiltModel(problem, extract)
