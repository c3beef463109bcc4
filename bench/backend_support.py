"""Small helpers the backend adapter plugins share."""

from __future__ import annotations

import importlib.util
from functools import cache
from importlib import metadata

from bench.records import Feature, ProblemClass

LP, MILP, QP, MIQP = ProblemClass.LP, ProblemClass.MILP, ProblemClass.QP, ProblemClass.MIQP
CONTINUOUS = frozenset({LP})
LINEAR = frozenset({LP, MILP})
CONVEX_QP = frozenset({LP, QP})
LINEAR_AND_QP = frozenset({LP, MILP, QP})
ALL_MATH = frozenset({LP, MILP, QP, MIQP})


@cache
def installed(module: str) -> bool:
    """Whether a module can be imported, without importing it (keeps `list` fast)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def dist_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None

INTEGER, SOS1, DUALS = Feature.INTEGER, Feature.SOS1, Feature.DUALS
QUAD_OBJ, QUAD_CON = Feature.QUADRATIC_OBJECTIVE, Feature.QUADRATIC_CONSTRAINTS
BILINEAR = Feature.BILINEAR


def features(*items: Feature) -> frozenset[Feature]:
    return frozenset(items)
