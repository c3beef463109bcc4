"""Market equilibrium as raw matrices (gridbench_raw): the model of ``pulp_model.py``, built
with vectorised numpy and one scipy.sparse COO matrix (converted to CSC for HiGHS).

Columns: x (N), Q_i (N), phi (N), eta (N), w (N x S, row-major), v (S), GF, Q, zeta. Rows:
physical_guarantee, contracted, contract_limit (N), participation (N), demand_tail (S),
plant_tail (N x S).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bench.api import BuiltModel, Solution
from gridbench_market_equilibrium.checks import solution_arrays
from gridbench_market_equilibrium.data import MarketData
from gridbench_raw import RawModel


def build(data: MarketData, variant: str) -> BuiltModel:
    terms = data.scenario_terms
    N, S = data.n_plants, data.n_scenarios
    A, B, P = (np.asarray(a, float) for a in (terms.plant_margin, terms.contract,
                                               terms.spot_cost))
    GF_i = np.asarray(terms.physical_guarantee, float)
    d, M = float(data.demand_mw), float(data.big_m_value)
    lam_d, lam_g = data.lambda_demand, data.lambda_plants
    tail_d = 1.0 / ((1 - data.alpha) * S)
    tail_g = 1.0 / ((1 - data.plant_alpha) * S)
    prob_s = 1.0 / S

    plants, scenarios = np.arange(N), np.arange(S)
    X, QI, PHI, ETA = (k * N + plants for k in range(4))
    W = 4 * N + np.arange(N * S).reshape(N, S)
    V = 4 * N + N * S + scenarios
    GF, Q, ZETA = 4 * N + N * S + S + np.arange(3)
    n_cols = int(ZETA) + 1

    cost = np.zeros(n_cols)
    cost[Q] = lam_d * prob_s * B.sum()
    cost[ZETA] = 1 - lam_d
    cost[V] = (1 - lam_d) * tail_d
    cost[PHI] = 1.0
    offset = lam_d * prob_s * d * P.sum()

    rows, cols, vals, lower, upper = [], [], [], [], []
    n_rows = 0

    def add(row_of, col, val) -> None:
        row_of, col = np.broadcast_arrays(np.asarray(row_of), np.asarray(col))
        rows.append(n_rows + row_of.ravel())
        cols.append(col.ravel())
        vals.append(np.broadcast_to(np.asarray(val, float), col.shape).ravel())

    def close(count: int, lo, hi) -> None:
        nonlocal n_rows
        lower.append(np.broadcast_to(np.asarray(lo, float), (count,)))
        upper.append(np.broadcast_to(np.asarray(hi, float), (count,)))
        n_rows += count

    # physical_guarantee: GF - sum_i GF_i x_i = 0; contracted: Q - sum_i Q_i = 0
    add(0, GF, 1.0)
    add(0, X, -GF_i)
    close(1, 0.0, 0.0)
    add(0, Q, 1.0)
    add(0, QI, -1.0)
    close(1, 0.0, 0.0)
    # contract_limit: Q_i - d x_i <= 0
    add(plants, QI, 1.0)
    add(plants, X, -d)
    close(N, -np.inf, 0.0)
    # participation: lam_g E[A_i + B Q_i] + (1 - lam_g)(eta_i - tail_g sum_s w_is) + phi_i
    #                >= -M (1 - x_i)
    add(plants, QI, lam_g * prob_s * B.sum())
    add(plants, ETA, 1 - lam_g)
    add(plants[:, None], W, -(1 - lam_g) * tail_g)
    add(plants, PHI, 1.0)
    add(plants, X, -M)
    close(N, -M - lam_g * prob_s * A.sum(axis=1), np.inf)
    # demand_tail: v_s - B_s Q + zeta >= d P_s
    add(scenarios, V, 1.0)
    add(scenarios, Q, -B)
    add(scenarios, ZETA, 1.0)
    close(S, d * P, np.inf)
    # plant_tail: w_is >= eta_i - (A_is + B_s Q_i)
    cell = np.arange(N * S).reshape(N, S)
    add(cell, W, 1.0)
    add(cell, ETA[:, None], -1.0)
    add(cell, QI[:, None], B[None, :])
    close(N * S, -A.ravel(), np.inf)

    col_lower = np.zeros(n_cols)
    col_lower[ETA] = col_lower[ZETA] = -np.inf
    col_upper = np.full(n_cols, np.inf)
    col_upper[X] = 1.0
    integrality = np.zeros(n_cols, bool)
    integrality[X] = True
    model = RawModel(
        c=cost, A=sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows),
                                                        np.concatenate(cols))),
                                shape=(n_rows, n_cols)).tocsc(),
        row_lower=np.concatenate(lower), row_upper=np.concatenate(upper),
        col_lower=col_lower, col_upper=col_upper, integrality=integrality, offset=offset)

    def extract() -> Solution:
        x = model.x
        return Solution(solution_arrays(
            x=x[X], Q_i=x[QI], phi=x[PHI], GF=x[GF], Q=x[Q], zeta=x[ZETA], v=x[V],
            eta=x[ETA], w=x[W]), None)

    return BuiltModel(model, extract)
