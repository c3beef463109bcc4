"""Raw backend: a formulation's LP/MILP/QP as numpy/scipy matrices, handed to HiGHS (highspy)
with ``passModel``: no modelling layer at all, the reference the layers' build and handoff
times are measured against (docs/benchmarks/raw_limit.md)."""

from __future__ import annotations

from bench.api import DUALS, INTEGER, LINEAR_AND_QP, QUAD_OBJ, SolverSpec, features, hookimpl
from gridbench_raw.adapter import RawBackend, RawModel

BACKEND = "raw"

__all__ = ["BACKEND", "RawBackend", "RawModel"]


@hookimpl
def gridbench_backends():
    return [RawBackend()]


@hookimpl
def gridbench_solvers():
    backend = RawBackend()
    return [SolverSpec(name="highs", backend=BACKEND, native="highspy",
                       problem_classes=LINEAR_AND_QP,
                       available=backend.available, version=backend.version,
                       features=features(INTEGER, QUAD_OBJ, DUALS))]
