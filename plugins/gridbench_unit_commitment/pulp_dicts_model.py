"""Unit commitment in PuLP, built the fast way PuLP allows (backend ``pulp_dicts``): each
row's ``LpAffineExpression`` made from (variable, coefficient) pairs and each
``LpConstraint`` from its expression, sense and right-hand side, with no operator
overloading. Same model, rows and names as ``pulp_model.py``, which writes it with ``lpSum``
and comparisons; docs/benchmarks/raw_limit.md gives the ratio between the two.
"""

from __future__ import annotations

import numpy as np
import pulp

from bench.api import BuiltModel
from gridbench_unit_commitment.checks import STARTUP_COUPLED
from gridbench_unit_commitment.data import UnitCommitmentData
from gridbench_unit_commitment.pulp_model import extractor, variables

_LE, _GE = pulp.LpConstraintLE, pulp.LpConstraintGE


def build(data: UnitCommitmentData, variant: str) -> BuiltModel:
    G, T = range(data.n_types), range(data.n_periods)
    a = data.arrays()
    n, m, M = a["n"].tolist(), a["m"].tolist(), a["M"].tolist()
    c, v, s = a["c"], a["v"], a["s"]
    d, hours = a["d"].tolist(), a["hours"]
    index = [(g, t) for g in G for t in T]

    prob = pulp.LpProblem("unit_commitment", pulp.LpMinimize)
    z, w, x = variables(prob, index)
    zs, ws, xs = list(z.values()), list(w.values()), list(x.values())  # in index order

    # per unit on: (c_g - v_g) m_g l_t; per start-up: s_g; per MWh: v_g l_t
    on_cost = np.outer((c - v) * a["m"], hours).ravel().tolist()
    start_cost = np.repeat(s, len(T)).tolist()
    mwh_cost = np.outer(v, hours).ravel().tolist()
    prob.setObjective(pulp.LpAffineExpression([*zip(zs, on_cost, strict=True),
                                               *zip(ws, start_cost, strict=True),
                                               *zip(xs, mwh_cost, strict=True)]))

    add, Row, Expr = prob.addConstraint, pulp.LpConstraint, pulp.LpAffineExpression
    for (g, t), z_gt, x_gt in zip(index, zs, xs, strict=True):
        add(Row(Expr([(z_gt, m[g]), (x_gt, -1.0)]), _LE, f"output_min_{g}_{t}", 0.0))
        add(Row(Expr([(x_gt, 1.0), (z_gt, -M[g])]), _LE, f"output_max_{g}_{t}", 0.0))
        add(Row(Expr([(z_gt, 1.0)]), _LE, f"units_available_{g}_{t}", n[g]))
    for t in T:
        add(Row(Expr([(x[g, t], 1.0) for g in G]), _GE, f"demand_{t}", d[t]))
        if data.reserve_margin is not None:
            add(Row(Expr([(z[g, t], M[g]) for g in G]), _GE, f"reserve_{t}",
                    (1 + data.reserve_margin) * d[t]))
    if variant == STARTUP_COUPLED:
        for (g, t), z_gt, w_gt in zip(index, zs, ws, strict=True):
            before = data.previous_period(t)
            if before is None:  # the first period: units on before the horizon are data
                row, rhs = [(w_gt, 1.0), (z_gt, -1.0)], -float(data.initial_units_on[g])
            elif before == t:  # one cyclic period: z_gt - z_g,t-1 is 0
                row, rhs = [(w_gt, 1.0)], 0.0
            else:
                row, rhs = [(w_gt, 1.0), (z_gt, -1.0), (z[g, before], 1.0)], 0.0
            add(Row(Expr(row), _GE, f"startup_{g}_{t}", rhs))

    return BuiltModel(prob, extractor(data, z, w, x))
