"""Emit a :class:`SingleLevelModel` as a Pyomo ``ConcreteModel``: one indexed ``Var`` per
(block, kind), one indexed ``Constraint`` per row block built by a rule from the sparse
rows with ``quicksum``, SOS1 sets as an indexed ``SOSConstraint`` (SCIP supports them;
Pyomo's HiGHS interface refuses them)."""

from __future__ import annotations

import numpy as np

from bench.bilevel.reformulate import BIN, INT, SingleLevelModel


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def to_pyomo(model: SingleLevelModel):
    """(ConcreteModel, extract) where ``extract()`` returns the model's variable vector."""
    import pyomo.environ as pyo

    m = pyo.ConcreteModel(name=model.name)
    ref: list = [None] * model.n_vars
    domains = {BIN: pyo.Binary, INT: pyo.Integers}
    for name, idx, kind in model.groups():
        lo, hi = model.lower[idx], model.upper[idx]
        var = pyo.Var(range(len(idx)), domain=domains.get(kind, pyo.Reals),
                      bounds=lambda _m, i, lo=lo, hi=hi: (_finite(lo[i]), _finite(hi[i])))
        m.add_component(name, var)
        for local, j in enumerate(idx):
            ref[j] = var[local]

    A = model.A.tocsr()
    indptr, indices, data = A.indptr, A.indices, A.data

    # bilinear terms by row (strong_duality_bilinear; SCIP handles them)
    bilinear: dict[int, list[tuple[int, int, float]]] = {}
    if model.row_bilinear is not None:
        for r, i, j, coef in zip(*model.row_bilinear, strict=True):
            bilinear.setdefault(int(r), []).append((int(i), int(j), float(coef)))

    def row_expr(i: int):
        start, end = indptr[i], indptr[i + 1]
        linear = pyo.quicksum(data[t] * ref[indices[t]] for t in range(start, end))
        if i not in bilinear:
            return linear
        return linear + pyo.quicksum(c * ref[a] * ref[b] for a, b, c in bilinear[i])

    for block, rows in model.row_blocks.items():
        def rule(_m, r, rows=rows):
            i = rows[r]
            if indptr[i] == indptr[i + 1] and i not in bilinear:  # a constant, not a row
                if model.row_lower[i] > 1e-9 or model.row_upper[i] < -1e-9:
                    raise ValueError(f"row {model.row_names[i]} is 0 in [{model.row_lower[i]}, "
                                     f"{model.row_upper[i]}]: infeasible")
                return pyo.Constraint.Skip
            lo, hi = model.row_lower[i], model.row_upper[i]
            if lo == hi:
                return row_expr(i) == float(lo)
            return (_finite(lo), row_expr(i), _finite(hi))

        m.add_component(block, pyo.Constraint(range(len(rows)), rule=rule))

    nonzero = np.flatnonzero(model.c)
    sense = pyo.minimize if model.sense == "min" else pyo.maximize
    expr = pyo.quicksum(float(model.c[j]) * ref[j] for j in nonzero) + model.c0
    if model.objective_bilinear is not None:
        expr += pyo.quicksum(float(c) * ref[int(a)] * ref[int(b)]
                             for a, b, c in zip(*model.objective_bilinear, strict=True))
    m.objective = pyo.Objective(expr=expr, sense=sense)
    if model.sos1:
        sets = model.sos1
        m.sos1 = pyo.SOSConstraint(
            range(len(sets)), sos=1,
            rule=lambda _m, k: ([ref[j] for j in sets[k][0]], [float(w) for w in sets[k][1]]))

    def extract() -> np.ndarray:
        return np.array([np.nan if var.value is None else float(var.value) for var in ref])

    return m, extract
