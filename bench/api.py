"""The public plugin API: everything a gridbench plugin needs, from one module.

Plugins (the built-in ones, ``tests/example_plugin`` and third-party ones) import only from
here; every other ``bench`` module is the harness's own and may change (a test enforces it).
Names are resolved on first use (PEP 562), so ``from bench.api import hookimpl`` does not
import numpy, scipy or a modelling library: listing plugins stays fast.

Groups: hooks (``hookimpl``); records (``Formulation``, ``Variant``, ``CaseSource``,
``SolverSpec``, ``BuiltModel``, ``Solution``, ``Check``, ...); solver features
(``Feature``, ``features`` and the shorthands); check helpers (``objective_check``,
``solution_check``, ``relative_errors``); case helpers (``case_files``, ``shipped_cases``,
``shipped_reference``, ``data_dir``, ``read_toml``, ``load_case``); algorithm hosting
(``AlgorithmBackend``, ``AlgorithmRun``, ``NoSolution``, ``check_time``: stop at the run's
time limit); backend adapters (``BackendAdapter``,
``SolverReport``, ``INFEASIBLE_OR_UNBOUNDED``) and helpers (``installed``, ``dist_version``,
``values_of``, ``value_of``, ``captured_output``); running a run from a
plugin command (``load_registry``, ``ReferenceBook``, ``PlannedRun``, ``execute``); and the
linear-bilevel kit (``BilevelKit``, ``BILEVEL_QUANTITIES``, ``BilevelBuilder``,
``BilevelProblem``, ``LinExpr``, ``BoundOptions``, ``SingleLevelModel`` (a reformulation
as matrices, for a backend's own emitter), ``standard_variants``, ``ORACLE_BACKEND``,
``certify``, ``solve_exact``, ``optimistic_response``, ``solve_follower``, ``stack_follower``
(the follower in min form with its bounds stacked: the engine's dual), ``OracleResult``,
``OPTIMALITY_TOL``).
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE: dict[str, str] = {
    # hooks
    "hookimpl": "bench.hookspecs",
    # records
    **dict.fromkeys(("Agreement", "Backend", "Benchmark", "BuiltModel", "Case", "CaseSource",
                     "Check", "Feature", "Fidelity", "Formulation", "ModelSize",
                     "ProblemClass", "Review", "RunResult", "Solution", "SolveLimits",
                     "SolveOutcome", "SolverSpec", "Status", "Variant", "Verdict"),
                    "bench.records"),
    # errors a plugin raises
    **dict.fromkeys(("InputError", "NotApplicable"), "bench.errors"),
    "CaseError": "bench.cases",
    # solver features and problem-class sets
    **dict.fromkeys(("ALL_MATH", "CONTINUOUS", "CONVEX_QP", "DUALS", "INTEGER", "LINEAR",
                     "LINEAR_AND_QP", "BILINEAR", "QUAD_CON", "QUAD_OBJ", "SOS1", "features",
                     "installed", "dist_version"), "bench.backend_support"),
    # checks
    **dict.fromkeys(("objective_check", "solution_check"), "bench.validation"),
    "relative_errors": "bench.references:errors",
    "ReferenceBook": "bench.references",
    # cases
    **dict.fromkeys(("case_files", "shipped_cases", "shipped_reference", "read_toml",
                     "load_case"), "bench.cases"),
    "data_dir": "bench.paths",
    # algorithms hosted as backends
    **dict.fromkeys(("AlgorithmBackend", "AlgorithmRun", "NoSolution", "check_time",
                     "TimeLimitReached"), "bench.algorithm"),
    # backend helpers
    **dict.fromkeys(("values_of", "value_of"), "bench.pulp_values"),
    "captured_output": "bench.capture",
    **dict.fromkeys(("BackendAdapter", "SolverReport", "INFEASIBLE_OR_UNBOUNDED"),
                    "bench.adapter"),
    # running runs from a plugin's own command
    "load_registry": "bench.registry",
    **dict.fromkeys(("PlannedRun", "execute"), "bench.runner"),
    # the linear-bilevel engine
    **dict.fromkeys(("BilevelBuilder", "BilevelProblem", "LinExpr"), "bench.bilevel"),
    "BoundOptions": "bench.bilevel.bounds",
    "SingleLevelModel": "bench.bilevel.reformulate",
    **dict.fromkeys(("ORACLE_BACKEND", "BilevelKit", "BILEVEL_QUANTITIES"),
                    "bench.bilevel.plugin_kit"),
    "standard_variants": "bench.bilevel.variants",
    "bilinear_variant": "bench.bilevel.variants",
    "certify": "bench.bilevel.certify",
    **dict.fromkeys(("solve_exact", "optimistic_response", "OracleResult", "OPTIMALITY_TOL",
                     "OracleLimit"), "bench.bilevel.oracle"),
    **dict.fromkeys(("solve_follower", "stack_follower", "StackedFollower"),
                    "bench.bilevel.dual"),
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"bench.api has no {name!r} (the public API: {', '.join(__all__)})")
    module, _, attribute = where.partition(":")
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return __all__
