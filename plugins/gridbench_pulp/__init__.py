"""PuLP backend: CBC (bundled with PuLP) and HiGHS (highspy); SCIP and commercial on request."""

from __future__ import annotations

from bench.api import DUALS, INTEGER, LINEAR, SOS1, SolverSpec, features, hookimpl
from gridbench_pulp.adapter import PulpBackend, solver_available, solver_version

BACKEND = "pulp"


def _spec(name: str, native: str, can, commercial: bool = False,
          default: bool = True) -> SolverSpec:
    return SolverSpec(
        name=name, backend=BACKEND, native=native, problem_classes=LINEAR,
        available=lambda: solver_available(native), version=lambda: solver_version(native),
        commercial=commercial, default=default, features=can)


@hookimpl
def gridbench_backends():
    return [PulpBackend()]


@hookimpl
def gridbench_solvers():
    return [
        # PuLP writes SOS1 sets only to LP files: CBC reads them, the API solvers drop them
        _spec("cbc", "PULP_CBC_CMD", features(INTEGER, SOS1, DUALS)),
        _spec("highs", "HiGHS", features(INTEGER, DUALS)),
        # not in the default run: CBC and HiGHS are
        _spec("scip", "SCIP_PY", features(INTEGER), default=False),
        _spec("gurobi", "GUROBI", features(INTEGER, DUALS), commercial=True),
        _spec("cplex", "CPLEX_PY", features(INTEGER, DUALS), commercial=True),
        _spec("xpress", "XPRESS_PY", features(INTEGER, DUALS), commercial=True),
    ]
