"""PyOptInterface backend: models built straight into HiGHS through its C API.

Only HiGHS is declared (the solver the tests run). PyOptInterface loads HiGHS's shared
library at run time (see ``adapter.highs_library``); without one the solver is reported
``unavailable`` with the reason, never an error.
"""

from __future__ import annotations

from bench.api import (
    DUALS,
    INTEGER,
    LINEAR_AND_QP,
    QUAD_OBJ,
    SolverSpec,
    features,
    hookimpl,
)
from gridbench_pyoptinterface.adapter import (
    PyOptInterfaceBackend,
    solver_available,
    solver_version,
)

BACKEND = "pyoptinterface"


@hookimpl
def gridbench_backends():
    return [PyOptInterfaceBackend()]


@hookimpl
def gridbench_solvers():
    return [
        SolverSpec(name="highs", backend=BACKEND, native="highs", problem_classes=LINEAR_AND_QP,
                   available=lambda: solver_available("highs"),
                   version=lambda: solver_version("highs"),
                   features=features(INTEGER, QUAD_OBJ, DUALS)),
    ]
