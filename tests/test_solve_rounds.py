"""A run's time limit covers every solve round a formulation's review asks for (heuristic
big-Ms doubled while active): the watchdog allows the limit once, not once per round."""

from __future__ import annotations

import time

from bench.records import BuiltModel, Review, RunResult, SolveLimits, SolveOutcome, Status
from bench.runner import _solve_rounds


class _SlowBackend:
    """Each solve takes ``seconds`` and records the limit it was given."""

    def __init__(self, seconds: float, status: Status) -> None:
        self.seconds, self.status, self.limits = seconds, status, []

    def model_size(self, native):
        return None

    def solve(self, native, solver, limits: SolveLimits) -> SolveOutcome:
        self.limits.append(limits.time_limit_s)
        time.sleep(min(self.seconds, limits.time_limit_s or self.seconds))
        return SolveOutcome(self.status, None)


def _always_rebuild():
    def build() -> BuiltModel:
        return BuiltModel(None, lambda: None,
                          lambda outcome, solution: Review(rebuild=build, note="again"))
    return build


def _result() -> RunResult:
    return RunResult(formulation="f", variant="v", case="c", backend="b", solver="s",
                     status=Status.ERROR)


def test_rounds_share_one_time_limit_and_an_unfinished_infeasible_is_a_time_limit():
    backend, result = _SlowBackend(0.2, Status.INFEASIBLE), _result()
    outcome, _ = _solve_rounds(_always_rebuild(), backend, None,
                               SolveLimits(time_limit_s=0.5), result)
    assert 2 <= len(backend.limits) < 8  # 8 rounds of 0.2 s would need 1.6 s
    assert backend.limits[0] == 0.5 and all(0 < x < 0.5 for x in backend.limits[1:])
    assert outcome.status is Status.TIME_LIMIT and result.status is Status.TIME_LIMIT
    assert "over every round) reached before round" in result.message


def test_without_a_time_limit_the_rounds_stop_at_max_solves():
    backend, result = _SlowBackend(0.0, Status.INFEASIBLE), _result()
    _solve_rounds(_always_rebuild(), backend, None, SolveLimits(time_limit_s=None), result)
    assert len(backend.limits) == 8 and result.status is Status.INFEASIBLE


def test_an_algorithm_stops_at_its_time_limit_and_reports_time_limit():
    from bench.algorithm import AlgorithmBackend, AlgorithmRun, check_time

    steps = []

    def compute():
        while True:  # an oracle's main loop: it would never end on its own
            check_time(f"{len(steps)} steps")
            steps.append(1)
            time.sleep(0.01)

    backend = AlgorithmBackend("loop")
    outcome = backend.solve(AlgorithmRun(compute), backend.solver(),
                            SolveLimits(time_limit_s=0.1))
    assert outcome.status is Status.TIME_LIMIT and outcome.objective is None
    assert outcome.message.startswith("time limit (0.1 s) reached after ")
    assert steps  # it ran until the limit, then stopped
    check_time()  # outside a timed solve (a certificate's oracle): never stops anything
