"""CVXPY backend: HiGHS and SCIP for (mixed-integer) models, Clarabel/OSQP/SCS for convex ones."""

from __future__ import annotations

from bench.backend_support import ALL_MATH, CONVEX_QP, LINEAR_AND_QP
from bench.hookspecs import hookimpl
from bench.records import SolverSpec
from gridbench_cvxpy.adapter import CvxpyBackend, solver_available, solver_version

BACKEND = "cvxpy"


def _spec(name: str, native: str, classes, commercial: bool = False) -> SolverSpec:
    return SolverSpec(
        name=name, backend=BACKEND, native=native, problem_classes=classes,
        available=lambda: solver_available(native), version=lambda: solver_version(native),
        commercial=commercial)


@hookimpl
def gridbench_backends():
    return [CvxpyBackend()]


@hookimpl
def gridbench_solvers():
    return [
        _spec("highs", "HIGHS", LINEAR_AND_QP),
        _spec("scip", "SCIP", ALL_MATH),
        _spec("clarabel", "CLARABEL", CONVEX_QP),
        _spec("osqp", "OSQP", CONVEX_QP),
        _spec("scs", "SCS", CONVEX_QP),
        _spec("gurobi", "GUROBI", ALL_MATH, commercial=True),
        _spec("cplex", "CPLEX", ALL_MATH, commercial=True),
        _spec("mosek", "MOSEK", ALL_MATH, commercial=True),
        _spec("xpress", "XPRESS", ALL_MATH, commercial=True),
    ]
