"""The welfare function and its piecewise-linear outer approximation, in numpy.

Shared by the three backends (which take the tangent lines from here) and by the
independent checks (which recompute everything from the case data and the solution).

Welfare per prosumer i and period t (the seed's objective, maximised)::

    a D - b/2 D^2 - alpha S - beta/2 S^2 + cch Qch - dch/2 Qch^2
      - cdis Qdis - ddis/2 Qdis^2 - gamma (Qch + Qdis)

Each quadratic term q/2 x^2 is convex on its range [lo, hi]. The outer approximation
replaces it by the maximum of K tangent lines at equally spaced points lo..hi (both ends
included, so a variable at a bound is approximated exactly); the envelope lies below the
parabola, so the linearised welfare is an upper bound, and the gap is at most
q h^2 / 8 with h = (hi - lo) / (K - 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gridbench_prosumer_sharing.data import ProsumerSharingData

COMPLEMENTARITY = "complementarity"
RELAXED = "relaxed"
COMPLEMENTARITY_PWL = "complementarity_pwl"
RELAXED_PWL = "relaxed_pwl"

# the decision variables with a quadratic utility term, in the order of TERMS below
QUADRATIC_VARIABLES = ("D", "S", "Qch", "Qdis")


def has_binaries(variant: str) -> bool:
    """Variants with the battery complementarity (a binary per battery and period)."""
    return variant in (COMPLEMENTARITY, COMPLEMENTARITY_PWL)


def is_pwl(variant: str) -> bool:
    """Variants whose quadratic terms are replaced by tangent lines (linear models)."""
    return variant in (COMPLEMENTARITY_PWL, RELAXED_PWL)


@dataclass(frozen=True)
class Term:
    """value(x) = linear * x - quadratic/2 * x^2 on lo <= x <= hi, all shaped (N, T).

    ``balance`` is the sign of x in the prosumer balance E = D + Qch - S - Qdis.
    """

    variable: str
    linear: np.ndarray
    quadratic: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    balance: int


def terms(data: ProsumerSharingData) -> dict[str, Term]:
    """The four welfare terms of the case, broadcast to (N, T)."""
    a = data.arrays
    shape = (data.n_prosumers, data.periods)

    def full(values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, float)
        return np.broadcast_to(values[:, None] if values.ndim == 1 else values, shape)

    zero = np.zeros(shape)
    return {
        "D": Term("D", full(a["a"]), full(a["b"]), a["demand_min"], a["demand_max"], +1),
        "S": Term("S", full(-a["alpha"]), full(a["beta"]), zero, a["supply_max"], -1),
        "Qch": Term("Qch", full(a["cch"] - a["gamma"]), full(a["dch"]), zero,
                    full(a["charge_max"]), +1),
        "Qdis": Term("Qdis", full(-a["cdis"] - a["gamma"]), full(a["ddis"]), zero,
                     full(a["discharge_max"]), -1),
    }


def welfare(data: ProsumerSharingData, values: dict[str, np.ndarray]) -> float:
    """The exact (quadratic) social welfare of a solution, in $."""
    return float(sum(np.sum(term.linear * values[name] - 0.5 * term.quadratic * values[name] ** 2)
                     for name, term in terms(data).items()))


@dataclass(frozen=True)
class TangentLines:
    """Tangents of q/2 x^2 at K points: w >= slope * x + intercept, shaped (N, T, K)."""

    slope: np.ndarray
    intercept: np.ndarray


def tangent_lines(term: Term, segments: int) -> TangentLines:
    fractions = np.linspace(0.0, 1.0, segments)
    points = term.lo[..., None] + (term.hi - term.lo)[..., None] * fractions
    q = term.quadratic[..., None]
    return TangentLines(q * points, -0.5 * q * points ** 2)


def envelope(lines: TangentLines, x: np.ndarray) -> np.ndarray:
    """The outer approximation of q/2 x^2 at x: the highest tangent."""
    return np.max(lines.slope * x[..., None] + lines.intercept, axis=-1)


def linearised_welfare(data: ProsumerSharingData, values: dict[str, np.ndarray]) -> float:
    """The objective of the *_pwl variants at a solution: linear terms minus envelopes."""
    total = 0.0
    for name, term in terms(data).items():
        x = values[name]
        total += float(np.sum(term.linear * x - envelope(tangent_lines(term, data.pwl_segments),
                                                         x)))
    return total


def pwl_error_bound(data: ProsumerSharingData) -> float:
    """A-priori bound on linearised minus exact welfare: sum of q h^2 / 8 over terms.

    It bounds the gap at every point, hence also how far the exact welfare of the
    piecewise model's optimum can fall below the true optimum.
    """
    k = data.pwl_segments
    return float(sum(np.sum(t.quadratic * ((t.hi - t.lo) / (k - 1)) ** 2 / 8)
                     for t in terms(data).values()))


def marginal_value(term: Term, x: np.ndarray, segments: int | None, step: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Interval of d value / dx at x (exact, or the envelope's subgradient when
    ``segments`` is given), taking x as known only to within ``step``."""
    if segments is None:
        return (term.linear - term.quadratic * (x + step),
                term.linear - term.quadratic * (x - step))
    lines = tangent_lines(term, segments)

    def active_slope(at: np.ndarray) -> np.ndarray:
        index = np.argmax(lines.slope * at[..., None] + lines.intercept, axis=-1)
        return np.take_along_axis(lines.slope, index[..., None], axis=-1)[..., 0]

    return term.linear - active_slope(x + step), term.linear - active_slope(x - step)
