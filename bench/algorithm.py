"""Hosting non-optimisation methods (problem class ``algorithm``) as backends.

An algorithm implementation's ``build(data, variant)`` returns
``BuiltModel(native=run, extract=...)`` where ``run()`` computes and returns a
:class:`~bench.records.Solution`; :class:`AlgorithmBackend` times that call as the "solve"
and ``extract`` hands the stored solution back. Register one backend per implementation
(e.g. a plain-Python reference and a vectorised one) and one ``builtin`` solver for each.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from bench.records import (
    BuiltModel,
    ModelSize,
    ProblemClass,
    Solution,
    SolveLimits,
    SolveOutcome,
    SolverSpec,
    Status,
)

ALGORITHM_SOLVER = "builtin"


class NoSolution(Exception):  # noqa: N818  (an answer, not a failure)
    """Raised by an algorithm's ``compute`` when the problem has no optimum: its status
    (``infeasible`` or ``unbounded``) is the run's status, as a solver's would be."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status


class TimeLimitReached(Exception):  # noqa: N818  (an answer: the run's time_limit)
    """Raised by :func:`check_time` once the run's time limit has passed."""


# when the algorithm being solved must stop (perf_counter seconds); None: no limit
_DEADLINE: ContextVar[float | None] = ContextVar("gridbench_algorithm_deadline", default=None)


def check_time(progress: str = "") -> None:
    """Stop an algorithm at its run's time limit: call it in the algorithm's main loop.
    Raises :class:`TimeLimitReached` (``progress``, e.g. "412 of 528 sets", goes into the
    run's message) once the limit has passed; does nothing outside a timed solve (an
    oracle asked for by a certificate runs to its end)."""
    deadline = _DEADLINE.get()
    if deadline is not None and time.perf_counter() > deadline:
        raise TimeLimitReached(progress)


class AlgorithmRun:
    """The native "model" of an algorithm: a callable and, after the solve, its result."""

    def __init__(self, compute: Callable[[], Solution]) -> None:
        self.compute = compute
        self.solution: Solution | None = None

    def built(self) -> BuiltModel:
        def extract() -> Solution:
            if self.solution is None:
                raise RuntimeError("the algorithm has not run")
            return self.solution

        return BuiltModel(self, extract)


@dataclass
class AlgorithmBackend:
    name: str
    version_text: str | None = None

    def available(self) -> bool:
        return True

    def version(self) -> str | None:
        return self.version_text

    def solve(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolveOutcome:
        limit = limits.time_limit_s
        token = _DEADLINE.set(None if limit is None else time.perf_counter() + limit)
        try:
            native.solution = native.compute()
        except NoSolution as answer:
            return SolveOutcome(answer.status, None, message=str(answer))
        except TimeLimitReached as stop:
            return SolveOutcome(Status.TIME_LIMIT, None, message=f"time limit ({limit:g} s) "
                                f"reached" + (f" after {stop}" if str(stop) else ""))
        finally:
            _DEADLINE.reset(token)
        return SolveOutcome(Status.OPTIMAL, native.solution.objective, message="computed")

    def model_size(self, native: Any) -> ModelSize | None:
        return None

    def solver(self) -> SolverSpec:
        return SolverSpec(name=ALGORITHM_SOLVER, backend=self.name, native=ALGORITHM_SOLVER,
                          problem_classes=frozenset({ProblemClass.ALGORITHM}),
                          available=lambda: True, version=lambda: self.version_text)
