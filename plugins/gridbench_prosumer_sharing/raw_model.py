"""Prosumer sharing as raw matrices (gridbench_raw), the relaxed QP only: vectorised numpy,
one scipy.sparse COO matrix and a diagonal Hessian, handed to HiGHS as one ``HighsModel``.
The complementarity and tangent-line variants are not written here (NotApplicable).

Columns, each (prosumers x periods) row-major: D, S, Qch, Qdis, E, soc. Rows: the prosumer
balance E - D - Qch + S + Qdis = 0 per (i, t); the sharing balance sum_i E_it = grid_t per
t (its dual is the price); the battery per (i, t): soc_it - soc_i,t-1 - eta_ch Qch +
Qdis / eta_dis = initial energy in period 1, else 0; soc_i,T >= final energy per i.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bench.api import BuiltModel, NotApplicable, Solution
from gridbench_prosumer_sharing.data import ProsumerSharingData
from gridbench_prosumer_sharing.welfare import QUADRATIC_VARIABLES, RELAXED, terms
from gridbench_raw import RawModel

# the maximisation goes to HiGHS as one: its row dual is d objective / d right-hand side,
# as PyOptInterface's (checked against the KKT price in verify)
DUAL_SIGN = 1.0


def build(data: ProsumerSharingData, variant: str) -> BuiltModel:
    if variant != RELAXED:
        raise NotApplicable(f"prosumer_sharing/{variant} is not written for raw HiGHS "
                            "(only the relaxed QP)")
    a = data.arrays
    N, T = data.n_prosumers, data.periods
    K = N * T
    term_of = terms(data)
    cell = np.arange(K)  # (i, t) -> i * T + t
    i_of, t_of = cell // T, cell % T
    D, S, QCH, QDIS, E, SOC = (k * K + cell for k in range(6))
    n_cols = 6 * K

    blocks = [term_of[name] for name in QUADRATIC_VARIABLES]  # D, S, Qch, Qdis
    cost = np.concatenate([*(t.linear.ravel() for t in blocks), np.zeros(2 * K)])
    # welfare - q/2 x^2 per term: Hessian -q on the diagonal of D, S, Qch, Qdis
    hessian = sp.diags(np.concatenate([*(-t.quadratic.ravel() for t in blocks),
                                       np.zeros(2 * K)]), format="csc")
    col_lower = np.concatenate([*(t.lo.ravel() for t in blocks), np.full(K, -np.inf),
                                np.zeros(K)])
    col_upper = np.concatenate([*(t.hi.ravel() for t in blocks), np.full(K, np.inf),
                                np.repeat(a["energy_max"], T)])

    eta_ch, eta_dis = a["eta_ch"][i_of], a["eta_dis"][i_of]
    first, later = t_of == 0, t_of > 0
    plants = np.arange(N)
    # row numbers: balance (K), sharing (T), battery (K), final energy (N)
    BALANCE, SHARING, BATTERY, FINAL = cell, K + np.arange(T), K + T + cell, 2 * K + T + plants
    rows = [np.tile(BALANCE, 5), SHARING[t_of], np.tile(BATTERY, 3), BATTERY[later], FINAL]
    cols = [np.concatenate([E, D, QCH, S, QDIS]), E, np.concatenate([SOC, QCH, QDIS]),
            SOC[later] - 1, SOC[plants * T + T - 1]]
    vals = [np.repeat([1.0, -1.0, -1.0, 1.0, 1.0], K), np.ones(K),
            np.concatenate([np.ones(K), -eta_ch, 1.0 / eta_dis]), -np.ones(int(later.sum())),
            np.ones(N)]
    battery_rhs = np.where(first, a["energy_initial"][i_of], 0.0)
    row_lower = np.concatenate([np.zeros(K), a["grid"], battery_rhs, a["energy_final_min"]])
    row_upper = np.concatenate([np.zeros(K), a["grid"], battery_rhs, np.full(N, np.inf)])
    A = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(2 * K + T + N, n_cols)).tocsc()
    model = RawModel(c=cost, A=A, row_lower=row_lower, row_upper=row_upper,
                     col_lower=col_lower, col_upper=col_upper, hessian=hessian, sense="max")

    def extract() -> Solution:
        x = model.x.reshape(6, N, T)
        values = dict(zip((*QUADRATIC_VARIABLES, "E"), x[:5], strict=True))
        if model.row_dual is not None:
            values["price"] = DUAL_SIGN * model.row_dual[SHARING]
        return Solution(values, None)

    return BuiltModel(model, extract)
