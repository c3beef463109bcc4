"""One base for the modelling-backend adapters (Pyomo, PuLP, CVXPY, and third parties').

A subclass says how to hand its native model to a solver and what the solver said
(:meth:`BackendAdapter.run_solver`); the base does what every adapter must do the same way,
so that a status or a dual means the same thing whichever backend produced it:

- times the solve (``elapsed_s``, for adapters whose solver does not say "time limit");
- turns an exception from the solver into an ``error`` outcome whose traceback is kept in
  the run's JSON (the message stays one line);
- maps the backend's status words through one declared table, ``status_map``; a word not in
  the table is an ``error`` that keeps the word;
- resolves "infeasible or unbounded" (HiGHS's answer when presolve cannot tell) with a
  feasibility solve of the same model, so a problem is ``infeasible`` or ``unbounded`` in
  every backend;
- applies the per-solver dual-sign rules (:meth:`normalise_duals`) before any formulation
  reads a dual, so every formulation reads one convention: the objective's change per unit
  of right-hand side.
"""

from __future__ import annotations

import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from bench.backend_support import dist_version, installed
from bench.errors import short_error
from bench.records import ModelSize, SolveLimits, SolveOutcome, SolverSpec, Status

# a value of ``status_map``: the solver could not tell infeasible from unbounded
INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"


@dataclass
class SolverReport:
    """What the solver said, in the backend's own words, before the base interprets it."""

    word: Hashable  # looked up in ``status_map``
    message: str  # the backend's words for the run record
    objective: float | None = None
    has_incumbent: bool = False  # variable values can be read from the native model
    solver_time_s: float | None = None
    bound: float | None = None  # the solver's proven bound on the objective, when it says
    sense: str | None = None  # "min" or "max"
    nodes: int | None = None  # branch-and-bound nodes the solver reports, when it does


class BackendAdapter(ABC):
    """Base of a modelling-backend adapter; subclasses declare the class attributes."""

    name: ClassVar[str]
    module: ClassVar[str]  # import name: the backend is available when it can be imported
    distribution: ClassVar[str]  # PyPI name: its version is the backend's version
    status_map: ClassVar[Mapping[Hashable, Status | str]]
    # the solver does not report hitting the time limit: a feasible or failed solve that
    # took 95 % of the limit is ``time_limit``
    infers_time_limit: ClassVar[bool] = False

    def available(self) -> bool:
        return installed(self.module)

    def version(self) -> str | None:
        return dist_version(self.distribution)

    @abstractmethod
    def run_solver(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolverReport:
        """Solve ``native`` and report; load variable values (and duals) when there are."""

    @abstractmethod
    def feasible(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> bool | None:
        """Whether ``native``'s constraints have a solution (its objective ignored), or None
        when the solver cannot tell; leaves the model as it was."""

    @abstractmethod
    def model_size(self, native: Any) -> ModelSize | None: ...

    def normalise_duals(self, native: Any, solver: SolverSpec) -> None:  # noqa: B027 (optional)
        """Bring the solver's duals to the objective-change-per-unit-of-rhs convention."""

    def solve(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolveOutcome:
        start = time.perf_counter()
        try:
            report = self.run_solver(native, solver, limits)
            status = self._status(report, limits, time.perf_counter() - start)
            message = report.message
            if status == INFEASIBLE_OR_UNBOUNDED:
                status, message = self._resolve_ambiguous(native, solver, limits, message)
            if report.has_incumbent:
                self.normalise_duals(native, solver)
        except Exception as exc:  # the solver or its interface broke: a result, not a crash
            return SolveOutcome(Status.ERROR, None, message=f"{solver.name}: {short_error(exc)}",
                                traceback=traceback.format_exc())
        return SolveOutcome(status, report.objective if report.has_incumbent else None,
                            message=message, solver_time_s=report.solver_time_s,
                            has_incumbent=report.has_incumbent, sense=report.sense,
                            bound=report.bound, nodes=report.nodes)

    def _status(self, report: SolverReport, limits: SolveLimits,
                elapsed_s: float) -> Status | str:
        status = self.status_map.get(report.word, Status.ERROR)
        limit = limits.time_limit_s
        if (self.infers_time_limit and limit is not None and elapsed_s >= 0.95 * limit
                and status in (Status.FEASIBLE, Status.ERROR)):
            return Status.TIME_LIMIT
        return status

    def _resolve_ambiguous(self, native: Any, solver: SolverSpec, limits: SolveLimits,
                           message: str) -> tuple[Status, str]:
        feasible = self.feasible(native, solver, limits)
        if feasible is None:
            return Status.ERROR, f"{message}; a feasibility solve could not tell which"
        if feasible:
            return Status.UNBOUNDED, f"{message}; feasible without the objective: unbounded"
        return Status.INFEASIBLE, f"{message}; a feasibility solve: infeasible"
