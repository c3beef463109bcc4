"""Pyomo backend: solves through ``pyomo.contrib.solver`` (HiGHS, SCIP, Gurobi when present)."""

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
from gridbench_pyomo.adapter import PyomoBackend, solver_available, solver_version

BACKEND = "pyomo"


def _spec(name: str, native: str, classes, can, commercial: bool = False) -> SolverSpec:
    return SolverSpec(
        name=name, backend=BACKEND, native=native, problem_classes=classes,
        available=lambda: solver_available(native),
        version=lambda: solver_version(native), commercial=commercial, features=can)


@hookimpl
def gridbench_backends():
    return [PyomoBackend()]


@hookimpl
def gridbench_solvers():
    return [
        # Pyomo's HiGHS interface refuses SOS constraints; its SCIP interface returns no duals
        _spec("highs", "highs", LINEAR_AND_QP, features(INTEGER, QUAD_OBJ, DUALS)),
        # SCIP and Gurobi (>= 9) solve nonconvex bilinear rows to global optimality
        _spec("scip", "scip_direct", ALL_MATH,
              features(INTEGER, SOS1, QUAD_OBJ, QUAD_CON, BILINEAR)),
        _spec("gurobi", "gurobi_direct", ALL_MATH,
              features(INTEGER, SOS1, QUAD_OBJ, QUAD_CON, BILINEAR, DUALS), commercial=True),
    ]

