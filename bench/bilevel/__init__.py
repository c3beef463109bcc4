"""A linear-bilevel engine: state an optimistic linear bilevel problem once, derive the
follower's dual automatically, reformulate it into a single-level MILP (strong duality with
the thesis's binary price expansion, KKT with big-Ms, KKT with SOS1), emit that MILP to
Pyomo, PuLP or CVXPY, and certify every result against an exact oracle.

See docs/bilevel.md for the mathematics, the public API and how certification works. The
names below are imported lazily, so that registering a bilevel plugin stays cheap. The
functions ``reformulate`` and ``certify`` share their modules' names: import them as
``from bench.bilevel.reformulate import reformulate`` and ``from bench.bilevel.certify import
certify``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BilevelBuilder": "problem", "BilevelError": "problem", "BilevelProblem": "problem",
    "Constraint": "problem", "LinExpr": "problem", "Vars": "problem",
    "FollowerSolution": "dual", "StackedFollower": "dual", "solve_dual": "dual",
    "solve_follower": "dual", "stack_follower": "dual",
    "BoundOptions": "bounds",
    "SingleLevelModel": "reformulate",
    "strong_duality": "reformulate", "kkt_bigm": "reformulate", "kkt_sos1": "reformulate",
    "OracleResult": "oracle", "solve_exact": "oracle", "optimistic_response": "oracle",
    "Certificate": "certify",
    "BilevelKit": "plugin_kit",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"bench.bilevel.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'bench.bilevel' has no attribute {name!r}")
