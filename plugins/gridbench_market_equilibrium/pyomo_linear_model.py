"""Market equilibrium in Pyomo, built the fast way Pyomo documents (backend
``pyomo_linear``): every row a ``LinearExpression`` from coefficient and variable lists, the
scenario sums folded into one coefficient each, every rule returning a (lower, body, upper)
tuple. Same model, rows and names as ``pyomo_model.py``; docs/benchmarks/raw_limit.md gives
the ratio between the two.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from bench.api import BuiltModel
from gridbench_market_equilibrium.data import MarketData
from gridbench_market_equilibrium.pyomo_model import declare_variables, extractor


def _row(coefs: list[float], variables: list, constant: float = 0.0) -> LinearExpression:
    return LinearExpression(constant=constant, linear_coefs=coefs, linear_vars=variables)


def build(data: MarketData, variant: str) -> BuiltModel:
    terms = data.scenario_terms
    N, S = range(data.n_plants), range(data.n_scenarios)
    A = np.asarray(terms.plant_margin, float)
    B, P = np.asarray(terms.contract, float), np.asarray(terms.spot_cost, float)
    GF_i = np.asarray(terms.physical_guarantee, float).tolist()
    d, M = float(data.demand_mw), float(data.big_m_value)
    lam_d, lam_g = data.lambda_demand, data.lambda_plants
    tail_d = 1.0 / ((1 - data.alpha) * data.n_scenarios)
    tail_g = 1.0 / ((1 - data.plant_alpha) * data.n_scenarios)
    prob_s = 1.0 / data.n_scenarios

    m = pyo.ConcreteModel(name="market_equilibrium")
    m.N = pyo.Set(initialize=N)
    m.S = pyo.Set(initialize=S)
    declare_variables(m)
    x, Q_i, phi, eta, w, v = m.x, m.Q_i, m.phi, m.eta, m.w, m.v

    # E[C_s] = d E[P] + Q E[B], the CVaR tail as zeta + tail_d sum_s v_s, plus side payments
    m.cost = pyo.Objective(expr=_row(
        [lam_d * prob_s * B.sum(), 1 - lam_d, *[(1 - lam_d) * tail_d] * len(S),
         *[1.0] * len(N)],
        [m.Q, m.zeta, *(v[s] for s in S), *(phi[i] for i in N)],
        constant=lam_d * prob_s * d * P.sum()), sense=pyo.minimize)
    # a (body, value) pair is Pyomo's equality row
    m.physical_guarantee = pyo.Constraint(expr=(_row(
        [1.0, *(-g for g in GF_i)], [m.GF, *(x[i] for i in N)]), 0.0))
    m.contracted = pyo.Constraint(expr=(_row(
        [1.0, *[-1.0] * len(N)], [m.Q, *(Q_i[i] for i in N)]), 0.0))
    m.contract_limit = pyo.Constraint(
        m.N, rule=lambda _, i: (None, _row([1.0, -d], [Q_i[i], x[i]]), 0.0))
    expected_b = lam_g * prob_s * B.sum()
    expected_a = (lam_g * prob_s * A.sum(axis=1)).tolist()
    w_coefs = [-(1 - lam_g) * tail_g] * len(S)
    # lam_g E[A_i + B Q_i] + (1 - lam_g)(eta_i - tail_g sum_s w_is) + phi_i >= -M (1 - x_i)
    m.participation = pyo.Constraint(m.N, rule=lambda _, i: (
        -M - expected_a[i],
        _row([expected_b, 1 - lam_g, *w_coefs, 1.0, -M],
             [Q_i[i], eta[i], *(w[i, s] for s in S), phi[i], x[i]]),
        None))
    dP, Bs, A_list = (d * P).tolist(), B.tolist(), A.tolist()
    m.demand_tail = pyo.Constraint(m.S, rule=lambda _, s: (  # v_s >= C_s - zeta
        dP[s], _row([1.0, -Bs[s], 1.0], [v[s], m.Q, m.zeta]), None))
    m.plant_tail = pyo.Constraint(m.N, m.S, rule=lambda _, i, s: (  # w_is >= eta_i - R_is
        -A_list[i][s], _row([1.0, -1.0, Bs[s]], [w[i, s], eta[i], Q_i[i]]), None))

    return BuiltModel(m, extractor(data, m))
