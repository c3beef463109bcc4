"""Market equilibrium in PuLP, built the fast way PuLP allows (backend ``pulp_dicts``):
every row's ``LpAffineExpression`` made from (variable, coefficient) pairs and every
``LpConstraint`` from its expression, sense and right-hand side, the scenario sums folded
into one coefficient each. Same model, rows and names as ``pulp_model.py``;
docs/benchmarks/raw_limit.md gives the ratio between the two.
"""

from __future__ import annotations

import numpy as np
import pulp

from bench.api import BuiltModel
from gridbench_market_equilibrium.data import MarketData
from gridbench_market_equilibrium.pulp_model import extractor, variables

_LE, _GE, _EQ = pulp.LpConstraintLE, pulp.LpConstraintGE, pulp.LpConstraintEQ


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
    pairs = [(i, s) for i in N for s in S]

    prob = pulp.LpProblem("market_equilibrium", pulp.LpMinimize)
    var = variables(prob, data)
    x, Q_i, phi, eta, w, v = var.x, var.Q_i, var.phi, var.eta, var.w, var.v
    GF, Q, zeta = var.GF, var.Q, var.zeta

    Expr, Row, add = pulp.LpAffineExpression, pulp.LpConstraint, prob.addConstraint
    # E[C_s] = d E[P] + Q E[B], the CVaR tail as zeta + tail_d sum_s v_s, plus side payments
    prob.setObjective(Expr(
        [(Q, lam_d * prob_s * B.sum()), (zeta, 1 - lam_d),
         *((v[s], (1 - lam_d) * tail_d) for s in S), *((phi[i], 1.0) for i in N)],
        constant=lam_d * prob_s * d * P.sum()))
    add(Row(Expr([(GF, 1.0), *((x[i], -GF_i[i]) for i in N)]), _EQ, "physical_guarantee", 0.0))
    add(Row(Expr([(Q, 1.0), *((Q_i[i], -1.0) for i in N)]), _EQ, "contracted", 0.0))
    expected_b = lam_g * prob_s * B.sum()
    expected_a = (lam_g * prob_s * A.sum(axis=1)).tolist()
    w_coef = -(1 - lam_g) * tail_g
    for i in N:
        add(Row(Expr([(Q_i[i], 1.0), (x[i], -d)]), _LE, f"contract_limit_{i}", 0.0))
        # lam_g E[A_i + B Q_i] + (1 - lam_g)(eta_i - tail_g sum_s w_is) + phi_i >= -M (1 - x_i)
        add(Row(Expr([(Q_i[i], expected_b), (eta[i], 1 - lam_g),
                      *((w[i, s], w_coef) for s in S), (phi[i], 1.0), (x[i], -M)]),
                _GE, f"participation_{i}", -M - expected_a[i]))
    dP, Bs = (d * P).tolist(), B.tolist()
    for s in S:  # v_s >= C_s - zeta
        add(Row(Expr([(v[s], 1.0), (Q, -Bs[s]), (zeta, 1.0)]), _GE, f"demand_tail_{s}", dP[s]))
    A_list = A.tolist()
    for i, s in pairs:  # w_is >= eta_i - R_is
        add(Row(Expr([(w[i, s], 1.0), (eta[i], -1.0), (Q_i[i], Bs[s])]), _GE,
                f"plant_tail_{i}_{s}", -A_list[i][s]))

    return BuiltModel(prob, extractor(data, var))
