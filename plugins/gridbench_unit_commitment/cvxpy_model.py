"""Unit commitment in CVXPY: (types x periods) matrix variables, vectorised constraints."""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from bench.api import BuiltModel, Solution
from gridbench_unit_commitment.checks import STARTUP_COUPLED
from gridbench_unit_commitment.data import UnitCommitmentData


def build(data: UnitCommitmentData, variant: str) -> BuiltModel:
    a = data.arrays()
    shape = (data.n_types, data.n_periods)
    n, m, M = a["n"][:, None], a["m"][:, None], a["M"][:, None]
    c, v, s, d, hours = a["c"], a["v"], a["s"], a["d"], a["hours"]

    # nonneg as an attribute, not a constraint: CVXPY hands it to a solver that takes column
    # bounds (HiGHS) as bounds, and to the others as rows; as `z >= 0` it is always K rows
    z = cp.Variable(shape, integer=True, nonneg=True, name="z")
    w = cp.Variable(shape, integer=True, nonneg=True, name="w")
    x = cp.Variable(shape, nonneg=True, name="x")

    # objective coefficients per (type, period): s_g, c_g m_g l_t - v_g l_t m_g, v_g l_t
    cost_w = np.repeat(s[:, None], data.n_periods, axis=1)
    cost_z = np.outer(c * a["m"] - v * a["m"], hours)
    cost_x = np.outer(v, hours)
    objective = cp.Minimize(cp.sum(cp.multiply(cost_w, w) + cp.multiply(cost_z, z)
                                   + cp.multiply(cost_x, x)))
    constraints = [
        cp.multiply(m, z) <= x,
        x <= cp.multiply(M, z),
        z <= n,
        cp.sum(x, axis=0) >= d,
    ]
    if data.reserve_margin is not None:
        constraints.append(M[:, 0] @ z >= (1 + data.reserve_margin) * d)
    if variant == STARTUP_COUPLED:
        if data.initial_units_on == "cyclic":
            before = cp.hstack([z[:, -1:], z[:, :-1]])
        else:
            initial = np.asarray(data.initial_units_on, float)[:, None]
            before = cp.hstack([initial, z[:, :-1]])
        constraints.append(w >= z - before)
    problem = cp.Problem(objective, constraints)

    def extract() -> Solution:
        return Solution({"z": z.value, "w": w.value, "x": x.value}, None)

    return BuiltModel(problem, extract)
