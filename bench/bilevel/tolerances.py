"""The bilevel engine's one tolerance policy: every tolerance the certificate, the oracle, the
bound derivation and the checks use, stated once, per quantity (issue 15).

A quantity ``q`` with reference scale ``s`` is within a :class:`Tolerance` when
``|q| <= absolute + relative * |s|``. Why each value:

* **feasibility** (row and bound violations at a reported point, absolute 1e-5): MILP
  solvers accept violations of about 1e-6 (HiGHS, CBC, SCIP defaults); through big-M and grid
  coefficients (x = sum v_q z_q) that grows to ~1e-5. The certificate's follower re-solve
  holds the leader's decision to the *same* tolerance: when the follower LP at the reported
  x is infeasible, it is re-solved with its rows relaxed by this much, and the largest
  violation so accepted is reported (CBC's 8-digit answers, issue 15).
* **optimality** (follower gap, optimistic tie-break, agreement with the oracle or a
  published decision; relative 1e-5 of the value, absolute 1e-5 below 1): far below any
  modelling difference, above the solvers' MIP gap (1e-7) plus the feasibility above.
* **active** (a big-M counts as active at a solution, relative 1e-6 + absolute 1e-7):
  tighter than feasibility, so a bound the solver only touched within its own tolerance
  still counts.
* **bound padding** (relative 1e-7): LP-computed bounds are widened by this, never
  tightened; a bound that is 0 up to 1e-9 stays 0 (a big-M of 1e-7 makes MILPs fragile).
* **tie-break** (relative 1e-9, then 1e-7): the follower's optimal value is capped at
  ``v* + tol * max(1, |v*|)`` in the optimistic tie-break LP: HiGHS's own tolerance first,
  widened only when that LP is infeasible by round-off.
* **complementarity** (absolute 1e-8): the oracle's branch-and-bound treats a pair as
  complementary below this product.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerance:
    absolute: float
    relative: float

    def limit(self, scale: float = 0.0) -> float:
        return self.absolute + self.relative * abs(scale)

    def allows(self, error: float, scale: float = 0.0) -> bool:
        return abs(error) <= self.limit(scale)

    def describe(self) -> str:
        parts = [f"abs {self.absolute:g}"] if self.absolute else []
        if self.relative:
            parts.append(f"rel {self.relative:g}")
        return " + ".join(parts)


@dataclass(frozen=True)
class TolerancePolicy:
    feasibility: Tolerance = Tolerance(1e-5, 0.0)
    optimality: Tolerance = Tolerance(0.0, 1e-5)  # of max(1, |value|): see relative_error
    active: Tolerance = Tolerance(1e-7, 1e-6)
    bound_padding: float = 1e-7
    bound_zero: float = 1e-9
    tie_break: tuple[float, ...] = (0.0, 1e-9, 1e-7)
    complementarity: float = 1e-8

    def optimal(self, gap: float, value: float) -> bool:
        """Whether a gap is within the optimality tolerance of ``value``."""
        return relative_error(gap, value) <= self.optimality.relative


def relative_error(error: float, scale: float) -> float:
    """|error| / max(1, |scale|): relative above 1, absolute below."""
    return abs(error) / max(1.0, abs(scale))


POLICY = TolerancePolicy()
