"""Unit commitment as raw matrices (gridbench_raw): the model of ``pulp_model.py``, built
with vectorised numpy and one scipy.sparse COO matrix (converted to CSC for HiGHS).

Columns: z, w, x, each (types x periods) row-major (column g * T + t of each block). Rows,
in PuLP's order: output_min, output_max, units_available per (g, t); demand and reserve per
t; start-up coupling per (g, t) in ``startup_coupled``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from bench.api import BuiltModel, Solution
from gridbench_raw import RawModel
from gridbench_unit_commitment.checks import STARTUP_COUPLED
from gridbench_unit_commitment.data import UnitCommitmentData


def build(data: UnitCommitmentData, variant: str) -> BuiltModel:
    a = data.arrays()
    G, T = data.n_types, data.n_periods
    K = G * T
    n, m, M = a["n"], a["m"], a["M"]
    c, v, s, d, hours = a["c"], a["v"], a["s"], a["d"], a["hours"]
    cell = np.arange(K)  # (g, t) -> g * T + t
    g_of = cell // T
    Z, W, X = cell, K + cell, 2 * K + cell  # column of z, w, x at each cell

    # per unit on: c_g m_g l_t - v_g l_t m_g; per start-up: s_g; per MWh: v_g l_t
    cost = np.concatenate([np.outer((c - v) * m, hours).ravel(), np.repeat(s, T),
                           np.outer(v, hours).ravel()])

    rows, cols, vals, lower, upper = [], [], [], [], []
    n_rows = 0

    def add(row_of: np.ndarray, col: np.ndarray, val: np.ndarray) -> None:
        rows.append(n_rows + row_of)
        cols.append(col)
        vals.append(np.broadcast_to(np.asarray(val, float), col.shape))

    def close(count: int, lo: np.ndarray | float, hi: np.ndarray | float) -> None:
        nonlocal n_rows
        lower.append(np.broadcast_to(np.asarray(lo, float), (count,)))
        upper.append(np.broadcast_to(np.asarray(hi, float), (count,)))
        n_rows += count

    # output_min: m_g z - x <= 0; output_max: x - M_g z <= 0; units_available: z <= n_g
    add(cell, Z, m[g_of])
    add(cell, X, -1.0)
    close(K, -np.inf, 0.0)
    add(cell, X, 1.0)
    add(cell, Z, -M[g_of])
    close(K, -np.inf, 0.0)
    add(cell, Z, 1.0)
    close(K, -np.inf, n[g_of])
    # demand: sum_g x_gt >= d_t; reserve: sum_g M_g z_gt >= (1 + p) d_t
    t_of = cell % T
    add(t_of, X, 1.0)
    close(T, d, np.inf)
    if data.reserve_margin is not None:
        add(t_of, Z, M[g_of])
        close(T, (1 + data.reserve_margin) * d, np.inf)
    if variant == STARTUP_COUPLED:
        # w_gt - z_gt + z_g,t-1 >= 0, or >= -initial_g in period 1 without "cyclic"
        add(cell, W, 1.0)
        add(cell, Z, -1.0)
        rhs = np.zeros(K)
        if data.initial_units_on == "cyclic":
            add(cell, g_of * T + (t_of - 1) % T, 1.0)
        else:
            later = t_of > 0
            add(cell[later], Z[later] - 1, 1.0)
            rhs[~later] = -np.asarray(data.initial_units_on, float)
        close(K, rhs, np.inf)

    A = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n_rows, 3 * K)).tocsc()
    model = RawModel(
        c=cost, A=A, row_lower=np.concatenate(lower), row_upper=np.concatenate(upper),
        col_lower=np.zeros(3 * K), col_upper=np.full(3 * K, np.inf),
        integrality=np.concatenate([np.ones(2 * K, bool), np.zeros(K, bool)]))

    def extract() -> Solution:
        z, w, x = model.x.reshape(3, G, T)
        return Solution({"z": z, "w": w, "x": x}, None)

    return BuiltModel(model, extract)
