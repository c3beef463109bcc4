"""PyOptInterface backend adapter: native models are ``pyoptinterface.highs.Model`` objects.

How the model reaches the solver: there is no intermediate model. A formulation builds into
``highs.Model()`` (:func:`new_model`), and every ``add_variables`` / ``add_linear_constraint``
is a call into HiGHS's C API (``Highs_addCol``, ``Highs_addRow``), so the translation into
the solver is part of the build time; the solve call is ``Model.optimize()`` and the
handoff (the solve call minus HiGHS's own ``getruntime()``, ``solver_time_s``) is only
setting options, HiGHS's setup and reading the status back.

Finding HiGHS: ``pyoptinterface.highs`` dlopens ``libhighs`` when imported
(``autoload_library``): from ``$HiGHS_HOME/lib``, from the ``highsbox`` package's
``highs_dist`` folder, then the system's library path. highspy's extension module does not
export HiGHS's C API, so the ``pyoptinterface`` extra installs ``highsbox`` (a wheel that
ships ``libhighs.so``); nothing is downloaded at run time. Without a library the solver
is unavailable (:func:`highs_library` says why) and its runs are ``unavailable``.
"""

from __future__ import annotations

import ctypes
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

from bench.api import (
    INFEASIBLE_OR_UNBOUNDED,
    BackendAdapter,
    ModelSize,
    SolveLimits,
    SolverReport,
    SolverSpec,
    Status,
    dist_version,
    installed,
)

# HiGHS's primal_solution_status: 2 is a feasible point (an incumbent at a limit)
_FEASIBLE_POINT = 2

NO_LIBRARY = ("PyOptInterface found no HiGHS shared library (libhighs): install the "
              "'highsbox' package (gridbench[pyoptinterface]) or set HiGHS_HOME; highspy's "
              "extension does not export HiGHS's C API")


def _candidates() -> list[str]:
    """The library files PyOptInterface's ``autoload_library`` tries first, in its order."""
    homes = [os.environ.get("HiGHS_HOME")]
    if installed("highsbox"):
        try:
            import highsbox

            homes.append(highsbox.highs_dist_dir())
        except Exception:
            pass
    return [str(path) for home in homes if home
            for path in [Path(home) / "lib" / "libhighs.so"] if path.exists()]


def _preload_isolated() -> None:
    """Load libhighs with RTLD_DEEPBIND before PyOptInterface does (Linux).

    PuLP loads highspy's extension with RTLD_GLOBAL (``pulp/__init__.py``), so highspy's
    HiGHS (another version, C++ symbols of the same names) would otherwise take the place of
    libhighs's own functions: in a process that imported PuLP, PyOptInterface's first option
    call crashed (a segmentation fault). Deep binding makes libhighs use its own symbols;
    PyOptInterface's ``dlopen`` of the same file then gets this copy."""
    if "pyoptinterface._src.highs" in sys.modules or not hasattr(os, "RTLD_DEEPBIND"):
        return
    for library in _candidates():
        try:
            ctypes.CDLL(library, mode=os.RTLD_LOCAL | os.RTLD_NOW | os.RTLD_DEEPBIND)
            return
        except OSError:
            continue


@cache
def highs_library() -> tuple[bool, str]:
    """Whether PyOptInterface has loaded HiGHS, and why not when it has not."""
    if not installed("pyoptinterface"):
        return False, "pyoptinterface is not installed"
    try:
        _preload_isolated()
        from pyoptinterface import highs

        if highs.autoload_library():
            return True, ""
    except Exception as exc:  # a broken install: unavailable, with the reason
        return False, f"pyoptinterface.highs failed to load: {exc}"
    return False, NO_LIBRARY


def solver_available(native: str) -> bool:
    return native == "highs" and highs_library()[0]


def solver_version(native: str) -> str | None:
    if not solver_available(native):
        return None
    return dist_version("highsbox") or "libhighs"


def new_model() -> Any:
    """An empty model in HiGHS, built into directly (the only solver declared)."""
    ok, reason = highs_library()
    if not ok:
        raise RuntimeError(reason)
    from pyoptinterface import highs

    model = highs.Model()
    # quiet while building (HiGHS logs a note on every objective it is handed); the
    # adapter sets output_flag from the run's limits before optimize
    model.set_raw_option_bool("output_flag", False)
    return model


def _word(native: Any) -> str:
    import pyoptinterface as poi

    return native.get_model_attribute(poi.ModelAttribute.RawStatusString)


class PyOptInterfaceBackend(BackendAdapter):
    name = module = distribution = "pyoptinterface"
    # HiGHS's model status as PyOptInterface's RawStatusString spells it
    status_map = {
        "kHighsModelStatusOptimal": Status.OPTIMAL,
        "kHighsModelStatusInfeasible": Status.INFEASIBLE,
        "kHighsModelStatusUnbounded": Status.UNBOUNDED,
        "kHighsModelStatusUnboundedOrInfeasible": INFEASIBLE_OR_UNBOUNDED,
        "kHighsModelStatusTimeLimit": Status.TIME_LIMIT,
    }

    def _optimize(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> None:
        if solver.native != "highs":
            raise ValueError(f"the PyOptInterface adapter drives HiGHS only, not {solver.native}")
        native.set_raw_option_bool("output_flag", bool(limits.solver_output))
        native.set_raw_option_double("mip_rel_gap", float(limits.mip_rel_gap))
        if limits.time_limit_s is not None:
            native.set_raw_option_double("time_limit", float(limits.time_limit_s))
        if limits.threads is not None:
            native.set_raw_option_int("threads", int(limits.threads))
        native.optimize()

    def run_solver(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolverReport:
        import pyoptinterface as poi

        self._optimize(native, solver, limits)
        word = _word(native)
        incumbent = word == "kHighsModelStatusOptimal" or (
            word == "kHighsModelStatusTimeLimit"
            and native.get_raw_info_int("primal_solution_status") == _FEASIBLE_POINT)
        sense = "max" if native.get_model_attribute(
            poi.ModelAttribute.ObjectiveSense) == poi.ObjectiveSense.Maximize else "min"
        objective = float(native.get_model_attribute(poi.ModelAttribute.ObjectiveValue)) \
            if incumbent else None
        # HiGHS reports -1 nodes for a model it solved as an LP
        nodes = int(native.get_raw_info_int64("mip_node_count"))
        mip = nodes >= 0
        bound = None
        if incumbent:
            # HiGHS holds the objective's constant as its offset: the bound includes it
            bound = float(native.get_raw_info_double("mip_dual_bound")) if mip else objective
        return SolverReport(word, word.removeprefix("kHighsModelStatus"),
                            objective=objective, has_incumbent=incumbent,
                            solver_time_s=float(native.getruntime()), sense=sense, bound=bound,
                            nodes=nodes if mip else None)

    def feasible(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> bool | None:
        """Solve with zero costs (read back per column), then put the costs back."""
        import pyoptinterface as poi

        columns = [poi.VariableIndex(i) for i in range(native.number_of_variables())]
        costs = [native.get_objective_coefficient(v) for v in columns]
        for v in columns:
            native.set_objective_coefficient(v, 0.0)
        try:
            self._optimize(native, solver, limits)
            word = _word(native)
        finally:
            for v, cost in zip(columns, costs, strict=True):
                native.set_objective_coefficient(v, cost)
        if word == "kHighsModelStatusOptimal":
            return True
        if word == "kHighsModelStatusInfeasible":
            return False
        return None

    def model_size(self, native: Any) -> ModelSize | None:
        import pyoptinterface as poi

        columns = [poi.VariableIndex(i) for i in range(native.number_of_variables())]
        integer = sum(native.get_variable_type(v) != poi.VariableDomain.Continuous
                      for v in columns)
        return ModelSize(len(columns), int(integer), int(native.getnumrow()))
