"""Market equilibrium in Pyomo: plant and scenario sets, indexed variables, rules, quicksum."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyomo.environ as pyo

from bench.api import BuiltModel, Solution
from gridbench_market_equilibrium.checks import solution_arrays
from gridbench_market_equilibrium.data import MarketData


def build(data: MarketData, variant: str) -> BuiltModel:
    terms = data.scenario_terms
    N, S = range(data.n_plants), range(data.n_scenarios)
    d, M = data.demand_mw, data.big_m_value
    lam_d, lam_g = data.lambda_demand, data.lambda_plants
    tail_d = 1.0 / ((1 - data.alpha) * data.n_scenarios)
    tail_g = 1.0 / ((1 - data.plant_alpha) * data.n_scenarios)
    prob = 1.0 / data.n_scenarios

    m = pyo.ConcreteModel(name="market_equilibrium")
    m.N = pyo.Set(initialize=N)
    m.S = pyo.Set(initialize=S)
    m.GF_i = pyo.Param(m.N, initialize=dict(enumerate(terms.physical_guarantee)))
    m.P = pyo.Param(m.S, initialize=dict(enumerate(terms.spot_cost)))
    m.B = pyo.Param(m.S, initialize=dict(enumerate(terms.contract)))
    m.A = pyo.Param(m.N, m.S, initialize={(i, s): terms.plant_margin[i, s] for i in N for s in S})

    declare_variables(m)

    def cost(mdl, s):  # Phi-hat: C_s = d P_s + Q B_s
        return d * mdl.P[s] + mdl.Q * mdl.B[s]

    def revenue(mdl, i, s):  # VPL-hat_i: R_i,s = A_i,s + Q_i B_s
        return mdl.A[i, s] + mdl.Q_i[i] * mdl.B[s]

    m.cost = pyo.Objective(
        expr=lam_d * pyo.quicksum(prob * cost(m, s) for s in S)
        + (1 - lam_d) * (m.zeta + tail_d * pyo.quicksum(m.v[s] for s in S))
        + pyo.quicksum(m.phi[i] for i in N),
        sense=pyo.minimize)
    m.physical_guarantee = pyo.Constraint(
        expr=m.GF == pyo.quicksum(m.GF_i[i] * m.x[i] for i in N))
    m.contracted = pyo.Constraint(expr=m.Q == pyo.quicksum(m.Q_i[i] for i in N))
    m.contract_limit = pyo.Constraint(m.N, rule=lambda mdl, i: mdl.Q_i[i] <= d * mdl.x[i])
    m.demand_tail = pyo.Constraint(m.S, rule=lambda mdl, s: mdl.v[s] >= cost(mdl, s) - mdl.zeta)
    m.plant_tail = pyo.Constraint(
        m.N, m.S, rule=lambda mdl, i, s: mdl.w[i, s] >= mdl.eta[i] - revenue(mdl, i, s))
    m.participation = pyo.Constraint(
        m.N, rule=lambda mdl, i:
        lam_g * pyo.quicksum(prob * revenue(mdl, i, s) for s in S)
        + (1 - lam_g) * (mdl.eta[i] - tail_g * pyo.quicksum(mdl.w[i, s] for s in S))
        + mdl.phi[i] >= -M * (1 - mdl.x[i]))

    return BuiltModel(m, extractor(data, m))


def declare_variables(m: pyo.ConcreteModel) -> None:
    """The variables over the model's sets N and S; shared with ``pyomo_linear_model.py``,
    which writes the rows another way."""
    m.x = pyo.Var(m.N, within=pyo.Binary)
    m.Q_i = pyo.Var(m.N, within=pyo.NonNegativeReals)
    m.phi = pyo.Var(m.N, within=pyo.NonNegativeReals)
    m.GF = pyo.Var(within=pyo.NonNegativeReals)
    m.Q = pyo.Var(within=pyo.NonNegativeReals)
    m.zeta = pyo.Var()  # VaR of the demand's cost (Rockafellar-Uryasev)
    m.v = pyo.Var(m.S, within=pyo.NonNegativeReals)  # cost above zeta
    m.eta = pyo.Var(m.N)  # VaR of plant i's revenue
    m.w = pyo.Var(m.N, m.S, within=pyo.NonNegativeReals)  # revenue shortfall below eta_i


def extractor(data: MarketData, m: pyo.ConcreteModel) -> Callable[[], Solution]:
    N, S = range(data.n_plants), range(data.n_scenarios)

    def extract() -> Solution:
        def vector(var) -> np.ndarray:
            return np.array([pyo.value(var[i]) for i in N])

        return Solution(solution_arrays(
            x=vector(m.x), Q_i=vector(m.Q_i), phi=vector(m.phi), GF=pyo.value(m.GF),
            Q=pyo.value(m.Q), zeta=pyo.value(m.zeta),
            v=np.array([pyo.value(m.v[s]) for s in S]), eta=vector(m.eta),
            w=np.array([[pyo.value(m.w[i, s]) for s in S] for i in N])), None)

    return extract
