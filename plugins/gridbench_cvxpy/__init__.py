"""CVXPY backend: HiGHS and SCIP for (mixed-integer) models, Clarabel/OSQP/SCS for convex ones."""

from __future__ import annotations

from bench.api import (
    ALL_MATH,
    CONVEX_QP,
    DUALS,
    INTEGER,
    LINEAR_AND_QP,
    QUAD_CON,
    QUAD_OBJ,
    SolverSpec,
    features,
    hookimpl,
)
from gridbench_cvxpy.adapter import CvxpyBackend, solver_available, solver_version
from gridbench_cvxpy.isolation import preload_osqp_isolated

BACKEND = "cvxpy"

# before anything imports CVXPY (which imports OSQP): see isolation.py
preload_osqp_isolated()


def _spec(name: str, native: str, classes, can, commercial: bool = False) -> SolverSpec:
    return SolverSpec(
        name=name, backend=BACKEND, native=native, problem_classes=classes,
        available=lambda: solver_available(native), version=lambda: solver_version(native),
        commercial=commercial, features=can)


_COMMERCIAL = features(INTEGER, QUAD_OBJ, QUAD_CON, DUALS)


@hookimpl
def gridbench_backends():
    return [CvxpyBackend()]


@hookimpl
def gridbench_solvers():
    return [
        # CVXPY has no SOS1 constraints at all
        _spec("highs", "HIGHS", LINEAR_AND_QP, features(INTEGER, QUAD_OBJ, DUALS)),
        _spec("scip", "SCIP", ALL_MATH, features(INTEGER, QUAD_OBJ, QUAD_CON, DUALS)),
        _spec("clarabel", "CLARABEL", CONVEX_QP, features(QUAD_OBJ, QUAD_CON, DUALS)),
        _spec("osqp", "OSQP", CONVEX_QP, features(QUAD_OBJ, DUALS)),
        _spec("scs", "SCS", CONVEX_QP, features(QUAD_OBJ, QUAD_CON, DUALS)),
        _spec("gurobi", "GUROBI", ALL_MATH, _COMMERCIAL, commercial=True),
        _spec("cplex", "CPLEX", ALL_MATH, _COMMERCIAL, commercial=True),
        _spec("mosek", "MOSEK", ALL_MATH, _COMMERCIAL, commercial=True),
        _spec("xpress", "XPRESS", ALL_MATH, _COMMERCIAL, commercial=True),
    ]
