"""Emit a :class:`SingleLevelModel` as a PuLP ``LpProblem``: variables per (block, kind) with
``add_variable_dicts``, each sparse row as one ``LpAffineExpression``.

SOS1 and PuLP: ``LpProblem.sos1`` is written only to LP files. PuLP's bundled CBC reads an
MPS file by default, whose writer has no SOS section, so the sets are dropped *silently*;
its HiGHS and SCIP interfaces ignore them too (checked with PuLP 3.3: a two-variable SOS1
returns both variables non-zero). Through an LP file CBC does honour them, so a model with
SOS1 sets is solved with ``use_mps=False`` on CBC, and refused on solvers that would drop them.
CBC 2.10.3 (bundled with PuLP 3.3) also needs its strong branching off on these models: with
it on, it reports a suboptimal KKT point as optimal on Candler & Townsley (1982) (-23 instead
of -29.2; tests/test_bilevel_textbook.py shows it), so ``strong 0`` is added for SOS models.
"""

from __future__ import annotations

import numpy as np

from bench.bilevel.problem import BilevelError
from bench.bilevel.reformulate import BIN, INT, SingleLevelModel
from bench.pulp_values import values_of

# PuLP solver classes that receive SOS sets (they write an LP file or pass them natively)
_SOS_AWARE = ("CPLEX_CMD", "CPLEX_PY", "GUROBI", "GUROBI_CMD", "XPRESS", "XPRESS_PY",
              "COPT", "COPT_CMD")


def _problem_class():
    import pulp

    class SosAwareProblem(pulp.LpProblem):
        """An ``LpProblem`` that keeps its SOS1 sets on CBC and refuses solvers dropping them."""

        def solve(self, solver=None, **kwargs):
            if self.sos1 and solver is not None:
                name = type(solver).__name__
                if isinstance(solver, pulp.PULP_CBC_CMD | pulp.COIN_CMD):
                    kwargs.setdefault("use_mps", False)  # the LP file keeps the SOS section
                    if not any(str(o).startswith("strong") for o in solver.options):
                        solver.options = [*solver.options, "strong 0"]  # see the module doc
                elif name not in _SOS_AWARE:
                    raise RuntimeError(f"PuLP does not pass SOS1 constraints to {name}: they "
                                       "would be dropped silently (use CBC)")
            return super().solve(solver, **kwargs)

    return SosAwareProblem


def to_pulp(model: SingleLevelModel):
    """(LpProblem, extract) where ``extract()`` returns the model's variable vector."""
    import pulp

    if model.row_bilinear is not None or model.objective_bilinear is not None:
        raise BilevelError("PuLP states linear models only: a bilinear model needs a "
                           "backend/solver with the 'bilinear' feature")

    sense = pulp.LpMinimize if model.sense == "min" else pulp.LpMaximize
    prob = _problem_class()(model.name.replace(" ", "_"), sense)
    ref: list = [None] * model.n_vars
    cats = {BIN: pulp.LpBinary, INT: pulp.LpInteger}
    for name, idx, kind in model.groups():
        variables = prob.add_variable_dicts(name, range(len(idx)),
                                            cat=cats.get(kind, pulp.LpContinuous))
        for local, j in enumerate(idx):
            var = variables[local]
            if kind != BIN:
                var.lowBound = float(model.lower[j]) if np.isfinite(model.lower[j]) else None
                var.upBound = float(model.upper[j]) if np.isfinite(model.upper[j]) else None
            ref[j] = var

    A = model.A.tocsr()
    indptr, indices, data = A.indptr, A.indices, A.data
    for i in range(A.shape[0]):
        terms = [(ref[indices[t]], float(data[t])) for t in range(indptr[i], indptr[i + 1])]
        lo, hi = model.row_lower[i], model.row_upper[i]
        if not terms:
            if lo > 1e-9 or hi < -1e-9:
                raise ValueError(f"row {model.row_names[i]} is 0 in [{lo}, {hi}]: infeasible")
            continue
        expr = pulp.LpAffineExpression(terms)
        if lo == hi:
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{i}", float(lo)))
            continue
        if np.isfinite(hi):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{i}_le",
                                                 float(hi)))
        if np.isfinite(lo):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{i}_ge",
                                                 float(lo)))
    nonzero = np.flatnonzero(model.c)
    prob.setObjective(pulp.LpAffineExpression([(ref[j], float(model.c[j])) for j in nonzero],
                                              constant=float(model.c0)))
    for k, (members, weights) in enumerate(model.sos1):
        prob.sos1[f"sos{k}"] = {ref[j]: float(w) for j, w in zip(members, weights, strict=True)}

    def extract() -> np.ndarray:
        return values_of(ref)

    return prob, extract
