"""Pyomo backend: solves through ``pyomo.contrib.solver`` (HiGHS, SCIP, Gurobi when present)."""

from __future__ import annotations

from bench.backend_support import ALL_MATH, LINEAR_AND_QP
from bench.hookspecs import hookimpl
from bench.records import SolverSpec
from gridbench_pyomo.adapter import PyomoBackend, solver_available, solver_version

BACKEND = "pyomo"


def _spec(name: str, native: str, classes, commercial: bool = False) -> SolverSpec:
    return SolverSpec(
        name=name, backend=BACKEND, native=native, problem_classes=classes,
        available=lambda: solver_available(native),
        version=lambda: solver_version(native), commercial=commercial)


@hookimpl
def gridbench_backends():
    return [PyomoBackend()]


@hookimpl
def gridbench_solvers():
    return [
        _spec("highs", "highs", LINEAR_AND_QP),
        _spec("scip", "scip_direct", ALL_MATH),
        _spec("gurobi", "gurobi_direct", ALL_MATH, commercial=True),
    ]

