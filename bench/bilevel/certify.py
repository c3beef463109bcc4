"""Certification of a bilevel result, independent of the modelling backend and its solver.

A reformulation's answer (x, y) is certified optimal only when

1. (x, y) satisfies the follower's and the leader's rows, bounds, grids and integrality;
2. y is optimal for the follower at x: the follower LP is re-solved at x with HiGHS
   (scipy) and the *follower optimality gap* sign*c(x).y - v*(x) is ~0;
3. y is the optimistic answer: no other follower-optimal y gives the leader more (a second
   LP over the follower's optimal face);
4. the leader's value is optimal: it equals the exact oracle's (enumeration / complementarity
   branch-and-bound) where that is affordable; otherwise the reformulation must rest only on
   proven bounds (no stated big-M), because
5. an unproven big-M (stated in the case, or the engine's heuristic one) can cut off the
   optimum while leaving a follower-optimal answer (Pineda & Morales 2019): checks 2 and 3
   cannot see that. Every unproven big-M that is active at the solution is named, and the
   result is uncertified unless the oracle confirms the leader's value.

An answer the oracle calls infeasible or unbounded, or one at a solver's infinity (a value
of 1e12 or more), is never certified.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.bilevel.dual import stack_follower
from bench.bilevel.oracle import OracleResult, optimistic_response
from bench.bilevel.problem import BilevelProblem
from bench.bilevel.reformulate import SingleLevelModel
from bench.bilevel.tolerances import POLICY, relative_error
from bench.records import Check, Verdict

# the policy's values (bench.bilevel.tolerances says why), under the names checks print
FEASIBILITY_TOL = POLICY.feasibility.absolute
GAP_RTOL = POLICY.optimality.relative
# a value this large is a solver's stand-in for infinity (CBC's SOS1 branching reports an
# unbounded problem "optimal" at x = y = 1e15), never an optimum a result can be certified at
SOLVER_INFINITY = 1e12


_rel = relative_error


@dataclass
class Certificate:
    leader_value: float
    follower_value: float
    follower_violation: float
    leader_violation: float
    follower_status: str = ""
    follower_optimum: float | None = None  # v*(x), min form
    follower_gap: float | None = None  # sign*c(x).y - v*(x)
    optimistic_value: float | None = None
    optimistic_gap: float | None = None  # > 0: another optimal answer is better for the leader
    oracle: OracleResult | None = None
    oracle_note: str = ""
    oracle_gap: float | None = None  # > 0: the oracle's leader value is better
    active_stated: list[str] = field(default_factory=list)
    active_proven: list[str] = field(default_factory=list)
    n_stated: int = 0  # unproven big-Ms: stated in the case or heuristic
    unproven_sources: list[str] = field(default_factory=list)
    largest_value: float = 0.0  # the largest |x|, |y|: at SOLVER_INFINITY, no optimum
    # why the follower was re-solved with relaxed rows ("" when it was not)
    resolve_relaxed: str = ""
    reasons: list[str] = field(default_factory=list)

    @property
    def oracle_confirms(self) -> bool:
        return self.oracle_gap is not None and _rel(self.oracle_gap, self.oracle.leader_value) \
            <= GAP_RTOL

    @property
    def certified(self) -> bool:
        return not self.reasons

    # ------------------------------------------------------------------ checks

    def checks(self) -> list[Check]:
        out = [_solution("follower_feasibility", self.follower_violation,
                         "follower rows and bounds at the reported (x, y)"),
               _solution("leader_feasibility", self.leader_violation,
                         "leader rows, bounds, grid and integrality")]
        if self.largest_value >= SOLVER_INFINITY:
            out.append(Check("finite_solution", SOLVER_INFINITY, self.largest_value, None, None,
                             Verdict.FAIL, "certificate", f"below {SOLVER_INFINITY:g}",
                             f"a variable is {self.largest_value:.3g}: a solver's infinity, "
                             "not an optimum (the bilevel problem is probably unbounded)"))
        if self.follower_gap is None:
            out.append(Check("follower_optimality_gap", 0.0, None, None, None, Verdict.FAIL,
                             "certificate", f"rel {GAP_RTOL:g}",
                             f"follower LP at x is {self.follower_status}"))
        else:
            rel = _rel(self.follower_gap, self.follower_optimum)
            relaxed = (f"; {self.resolve_relaxed}; the largest row violation accepted is "
                       f"{self.follower_violation:.3g}" if self.resolve_relaxed else "")
            out.append(_certificate(
                "follower_optimality_gap", rel, GAP_RTOL,
                f"follower re-solved at x (HiGHS): value {self.follower_optimum:.10g}, "
                f"gap {self.follower_gap:.3g}{relaxed}"))
        if self.optimistic_gap is not None:
            out.append(_certificate(
                "optimistic_tie_break", _rel(max(self.optimistic_gap, 0.0), self.leader_value),
                GAP_RTOL, f"best leader value among the follower's optimal answers at x: "
                          f"{self.optimistic_value:.10g}"))
        if self.n_stated:
            ok = self.oracle_confirms
            active = (f"unproven big-M active at the solution: {', '.join(self.active_stated)}"
                      if self.active_stated else "no unproven big-M active")
            verdict = ("the oracle confirms the leader's value" if ok
                       else "not certified without the oracle (" + (self.oracle_note
                                                                    or "oracle disagrees") + ")")
            out.append(Check("big_m", 0.0, float(len(self.active_stated)), None, None,
                             Verdict.PASS if ok else Verdict.FAIL, "certificate",
                             "unproven big-Ms need the oracle",
                             f"{active} ({self.n_stated} unproven big-M/bounds: "
                             f"{', '.join(self.unproven_sources)}); {verdict}"))
        if self.oracle is not None and self.oracle.status != "optimal":
            out.append(Check("oracle_status", None, None, None, None, Verdict.FAIL,
                             "certificate", "status",
                             f"the exact oracle ({self.oracle.method}) finds the bilevel "
                             f"problem {self.oracle.status}; this result claims a solution "
                             f"with leader value {self.leader_value:.10g}"))
        if self.oracle_gap is not None:
            o = self.oracle
            out.append(_certificate(
                "oracle_agreement", _rel(self.oracle_gap, o.leader_value), GAP_RTOL,
                f"exact oracle ({o.method}, {o.lps} LPs) finds {o.leader_value:.10g}; this "
                f"result {self.leader_value:.10g} (gap {self.oracle_gap:.6g})"))
        return out

    def summary(self) -> str:
        if self.certified:
            return "certified"
        return "uncertified: " + "; ".join(self.reasons)


def _solution(name: str, violation: float, note: str) -> Check:
    verdict = Verdict.PASS if violation <= FEASIBILITY_TOL else Verdict.FAIL
    return Check(name, 0.0, violation, violation, None, verdict, "solution",
                 f"abs {FEASIBILITY_TOL:g}", note)


def _certificate(name: str, rel_gap: float, tol: float, note: str) -> Check:
    verdict = Verdict.PASS if rel_gap <= tol else Verdict.FAIL
    return Check(name, 0.0, rel_gap, None, rel_gap, verdict, "certificate", f"rel {tol:g}",
                 note)


def certify(problem: BilevelProblem, x: np.ndarray, y: np.ndarray,
            model: SingleLevelModel | None = None, v: np.ndarray | None = None,
            oracle: OracleResult | None = None, oracle_note: str = "") -> Certificate:
    """Certify (x, y); ``model`` and its solution vector ``v`` add the big-M report;
    ``oracle`` (an exact optimum of the same problem) adds the comparison."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    cert = Certificate(problem.leader_objective(x, y), problem.follower_objective(x, y),
                       problem.follower_violation(x, y), problem.leader_violation(x, y),
                       oracle=oracle, oracle_note=oracle_note)
    lead = 1.0 if problem.leader_sense == "min" else -1.0
    cert.largest_value = float(max(np.abs(x).max(initial=0.0), np.abs(y).max(initial=0.0)))
    if cert.largest_value >= SOLVER_INFINITY:
        cert.reasons.append(f"a variable is {cert.largest_value:.3g}: a solver's infinity")
    if cert.follower_violation > FEASIBILITY_TOL:
        cert.reasons.append(f"follower rows violated by {cert.follower_violation:.3g}")
    if cert.leader_violation > FEASIBILITY_TOL:
        cert.reasons.append(f"leader rows/grid violated by {cert.leader_violation:.3g}")
    stacked = stack_follower(problem)
    response = optimistic_response(problem, x, stacked)
    violation = max(cert.follower_violation, cert.leader_violation)
    if response.status in ("follower_infeasible", "coupling_infeasible") \
            and violation <= FEASIBILITY_TOL:
        # x as reported is off by up to the feasibility tolerance (CBC writes 8 digits): the
        # follower is re-solved with its rows relaxed by the violation the row check accepted
        # (then, if that is not enough, by the whole tolerance); relaxing by more than needed
        # would lower the follower's optimum and fail its gap for a correct answer
        for relax in (min(FEASIBILITY_TOL, 1.5 * violation + 1e-9), FEASIBILITY_TOL):
            relaxed = optimistic_response(problem, x, stacked, relax=relax)
            if relaxed.status == "optimal":
                cert.resolve_relaxed = (f"at x as reported the follower LP is "
                                        f"{response.status.replace('_', ' ')}; re-solved with "
                                        f"its rows relaxed by {relax:.3g} (feasibility "
                                        f"tolerance {FEASIBILITY_TOL:g})")
                response = relaxed
                break
    cert.follower_status = response.status
    if response.follower_value is not None:
        cert.follower_optimum = response.follower_value
        cert.follower_gap = float(stacked.cost(x) @ y - response.follower_value)
        if _rel(cert.follower_gap, response.follower_value) > GAP_RTOL:
            cert.reasons.append(f"y is not follower-optimal (gap {cert.follower_gap:.3g})")
    else:
        cert.reasons.append(f"follower LP at x: {response.status}")
    if response.leader_value is not None:
        cert.optimistic_value = response.leader_value
        cert.optimistic_gap = lead * (cert.leader_value - response.leader_value)
        if _rel(max(cert.optimistic_gap, 0.0), cert.leader_value) > GAP_RTOL:
            cert.reasons.append("another follower-optimal answer is better for the leader "
                                f"({response.leader_value:.10g})")
    if oracle is not None and oracle.status != "optimal":
        # a definitive "unbounded" or "infeasible": no solution can be the optimum
        cert.reasons.append(f"the exact oracle finds the problem {oracle.status}")
    elif oracle is not None and oracle.leader_value is not None:
        cert.oracle_gap = lead * (cert.leader_value - oracle.leader_value)
        if not cert.oracle_confirms:
            cert.reasons.append(f"the oracle's leader value is {oracle.leader_value:.10g}, this "
                                f"result {cert.leader_value:.10g}")
    if model is not None and v is not None:
        table = model.big_m
        cert.n_stated = int(np.sum(~table.valid))
        cert.unproven_sources = sorted({s for s, ok in zip(table.sources, table.valid,
                                                           strict=True) if not ok})
        for i in table.active(v):
            label = f"{table.names[i]} = {table.limits[i]:g} ({table.sources[i]})"
            (cert.active_proven if table.valid[i] else cert.active_stated).append(label)
        if cert.n_stated and not cert.oracle_confirms:
            if cert.active_stated:
                cert.reasons.append("unproven big-M active at the solution: "
                                    + ", ".join(cert.active_stated))
            else:
                cert.reasons.append("unproven (stated or heuristic) big-Ms and no oracle "
                                    "confirmation")
    return cert
