"""Pyomo backends: solve through ``pyomo.contrib.solver`` (HiGHS, SCIP, Gurobi when present).

Two backends share Pyomo's adapter: ``pyomo``, the models written with quicksum and
comparisons as Pyomo's documentation teaches, and ``pyomo_linear``, the same models with
every row a ``LinearExpression`` from lists and every rule returning a (lower, body, upper)
tuple, the faster way Pyomo documents (docs/benchmarks/raw_limit.md measures the two).
"""

from __future__ import annotations

from bench.api import (
    ALL_MATH,
    BILINEAR,
    DUALS,
    INTEGER,
    LINEAR_AND_QP,
    QUAD_CON,
    QUAD_OBJ,
    SOS1,
    SolverSpec,
    features,
    hookimpl,
)
from gridbench_pyomo.adapter import (
    PyomoBackend,
    PyomoLinearBackend,
    solver_available,
    solver_version,
)

BACKEND = "pyomo"
LINEAR_BACKEND = "pyomo_linear"


def _spec(backend: str, name: str, native: str, classes, can,
          commercial: bool = False) -> SolverSpec:
    return SolverSpec(
        name=name, backend=backend, native=native, problem_classes=classes,
        available=lambda: solver_available(native),
        version=lambda: solver_version(native), commercial=commercial, features=can)


@hookimpl
def gridbench_backends():
    return [PyomoBackend(), PyomoLinearBackend()]


@hookimpl
def gridbench_solvers():
    return [*_solvers(BACKEND), *_solvers(LINEAR_BACKEND)]


def _solvers(backend: str) -> list[SolverSpec]:
    return [
        # Pyomo's HiGHS interface refuses SOS constraints; its SCIP interface returns no duals
        _spec(backend, "highs", "highs", LINEAR_AND_QP, features(INTEGER, QUAD_OBJ, DUALS)),
        # SCIP and Gurobi (>= 9) solve nonconvex bilinear rows to global optimality
        _spec(backend, "scip", "scip_direct", ALL_MATH,
              features(INTEGER, SOS1, QUAD_OBJ, QUAD_CON, BILINEAR)),
        _spec(backend, "gurobi", "gurobi_direct", ALL_MATH,
              features(INTEGER, SOS1, QUAD_OBJ, QUAD_CON, BILINEAR, DUALS), commercial=True),
    ]

