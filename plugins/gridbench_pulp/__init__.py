"""PuLP backends: CBC (bundled with PuLP) and HiGHS (highspy); SCIP and commercial on request.

Two backends share PuLP's adapter: ``pulp``, the models written with ``lpSum`` and
comparisons as PuLP's documentation teaches, and ``pulp_dicts``, the same models with each
row's ``LpAffineExpression`` built from (variable, coefficient) pairs, the fastest way PuLP
offers (docs/benchmarks/raw_limit.md measures the two).
"""

from __future__ import annotations

from bench.api import DUALS, INTEGER, LINEAR, SOS1, SolverSpec, features, hookimpl
from gridbench_pulp.adapter import PulpBackend, PulpDictsBackend, solver_available, solver_version

BACKEND = "pulp"
DICTS_BACKEND = "pulp_dicts"


def _spec(backend: str, name: str, native: str, can, commercial: bool = False,
          default: bool = True) -> SolverSpec:
    return SolverSpec(
        name=name, backend=backend, native=native, problem_classes=LINEAR,
        available=lambda: solver_available(native), version=lambda: solver_version(native),
        commercial=commercial, default=default, features=can)


def _solvers(backend: str) -> list[SolverSpec]:
    return [
        # PuLP writes SOS1 sets only to LP files: CBC reads them, the API solvers drop them
        _spec(backend, "cbc", "PULP_CBC_CMD", features(INTEGER, SOS1, DUALS)),
        _spec(backend, "highs", "HiGHS", features(INTEGER, DUALS)),
        # not in the default run: CBC and HiGHS are
        _spec(backend, "scip", "SCIP_PY", features(INTEGER), default=False),
        _spec(backend, "gurobi", "GUROBI", features(INTEGER, DUALS), commercial=True),
        _spec(backend, "cplex", "CPLEX_PY", features(INTEGER, DUALS), commercial=True),
        _spec(backend, "xpress", "XPRESS_PY", features(INTEGER, DUALS), commercial=True),
    ]


@hookimpl
def gridbench_backends():
    return [PulpBackend(), PulpDictsBackend()]


@hookimpl
def gridbench_solvers():
    return [*_solvers(BACKEND), *_solvers(DICTS_BACKEND)]
