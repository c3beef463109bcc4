"""PuLP backend: CBC (bundled with PuLP) and HiGHS (highspy); SCIP and commercial on request."""

from __future__ import annotations

from bench.backend_support import LINEAR
from bench.hookspecs import hookimpl
from bench.records import SolverSpec
from gridbench_pulp.adapter import PulpBackend, solver_available, solver_version

BACKEND = "pulp"


def _spec(name: str, native: str, commercial: bool = False, default: bool = True) -> SolverSpec:
    return SolverSpec(
        name=name, backend=BACKEND, native=native, problem_classes=LINEAR,
        available=lambda: solver_available(native), version=lambda: solver_version(native),
        commercial=commercial, default=default)


@hookimpl
def gridbench_backends():
    return [PulpBackend()]


@hookimpl
def gridbench_solvers():
    return [
        _spec("cbc", "PULP_CBC_CMD"),
        _spec("highs", "HiGHS"),
        _spec("scip", "SCIP_PY", default=False),  # not in the default run: CBC and HiGHS are
        _spec("gurobi", "GUROBI", commercial=True),
        _spec("cplex", "CPLEX_PY", commercial=True),
        _spec("xpress", "XPRESS_PY", commercial=True),
    ]
