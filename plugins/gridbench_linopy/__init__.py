"""linopy backend: labelled (xarray) models handed to HiGHS in memory (``io_api="direct"``).

Only HiGHS is declared: it is the solver the tests run through linopy. linopy can drive
CBC, SCIP, Gurobi and others too; declaring one means testing it first.
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
from gridbench_linopy.adapter import LinopyBackend, solver_available, solver_version

BACKEND = "linopy"


@hookimpl
def gridbench_backends():
    return [LinopyBackend()]


@hookimpl
def gridbench_solvers():
    return [
        SolverSpec(name="highs", backend=BACKEND, native="highs", problem_classes=LINEAR_AND_QP,
                   available=lambda: solver_available("highs"),
                   version=lambda: solver_version("highs"),
                   features=features(INTEGER, QUAD_OBJ, DUALS)),
    ]
