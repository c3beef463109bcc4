"""Market equilibrium in PyOptInterface: tupledicts built straight into HiGHS, rows as
``ExprBuilder`` expressions and ``quicksum``."""

from __future__ import annotations

import math

import numpy as np
import pyoptinterface as poi

from bench.api import BuiltModel, Solution
from gridbench_market_equilibrium.checks import solution_arrays
from gridbench_market_equilibrium.data import MarketData
from gridbench_pyoptinterface.adapter import new_model


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

    model = new_model()
    free = -math.inf
    x = model.add_variables(N, domain=poi.VariableDomain.Binary, name="x")
    Q_i = model.add_variables(N, lb=0.0, name="Q_i")
    phi = model.add_variables(N, lb=0.0, name="phi")
    eta = model.add_variables(N, lb=free, name="eta")  # VaR of plant i's revenue
    w = model.add_variables(N, S, lb=0.0, name="w")  # shortfall below eta_i
    v = model.add_variables(S, lb=0.0, name="v")  # demand's cost above zeta
    GF = model.add_variable(lb=0.0, name="GF")
    Q = model.add_variable(lb=0.0, name="Q")
    zeta = model.add_variable(lb=free, name="zeta")  # VaR of the demand's cost

    objective = poi.ExprBuilder()
    for s in S:  # lam_d E[C_s], C_s = d P_s + Q B_s
        objective += lam_d * prob_s * (d * P[s] + B[s] * Q)
    objective += (1 - lam_d) * zeta
    objective += (1 - lam_d) * tail_d * poi.quicksum(v)
    objective += poi.quicksum(phi)
    model.set_objective(poi.ScalarAffineFunction(objective), poi.ObjectiveSense.Minimize)

    model.add_linear_constraint(GF - poi.quicksum(GF_i[i] * x[i] for i in N), poi.Eq, 0.0)
    model.add_linear_constraint(Q - poi.quicksum(Q_i), poi.Eq, 0.0)
    for i in N:
        model.add_linear_constraint(Q_i[i] - d * x[i], poi.Leq, 0.0)
        row = poi.ExprBuilder()  # R_i,s = A_i,s + Q_i B_s
        for s in S:
            row += lam_g * prob_s * (A[i, s] + B[s] * Q_i[i])
            row -= (1 - lam_g) * tail_g * w[i, s]
        row += (1 - lam_g) * eta[i] + phi[i] - M * x[i]
        model.add_linear_constraint(row, poi.Geq, -M)
    for s in S:  # v_s >= C_s - zeta
        model.add_linear_constraint(v[s] - B[s] * Q + zeta, poi.Geq, d * P[s])
    for i in N:
        for s in S:  # w_i,s >= eta_i - R_i,s
            model.add_linear_constraint(w[i, s] - eta[i] + B[s] * Q_i[i], poi.Geq, -A[i, s])

    def extract() -> Solution:
        def vector(var) -> np.ndarray:
            return np.array([model.get_value(var[i]) for i in N])

        return Solution(solution_arrays(
            x=vector(x), Q_i=vector(Q_i), phi=vector(phi), GF=model.get_value(GF),
            Q=model.get_value(Q), zeta=model.get_value(zeta),
            v=np.array([model.get_value(v[s]) for s in S]), eta=vector(eta),
            w=np.array([[model.get_value(w[i, s]) for s in S] for i in N])), None)

    return BuiltModel(model, extract)
