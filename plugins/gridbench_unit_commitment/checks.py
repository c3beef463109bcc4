"""Quantities and independent checks of a unit-commitment solution, from the case data only.

Nothing here knows which backend produced the solution: the arrays ``z`` (units on),
``w`` (units started) and ``x`` (output, MW) of shape (types, periods) are enough.
"""

from __future__ import annotations

import numpy as np

from bench.api import Check, Solution, objective_check, solution_check
from gridbench_unit_commitment.data import UnitCommitmentData

AS_PUBLISHED = "as_published"
STARTUP_COUPLED = "startup_coupled"


def period_costs(data: UnitCommitmentData, z, w, x) -> np.ndarray:
    """Cost of each period: the seed's objective terms summed over generator types (In [24])."""
    a = data.arrays()
    s, m, c, v = a["s"][:, None], a["m"][:, None], a["c"][:, None], a["v"][:, None]
    hours = a["hours"]
    return (s * w + c * m * hours * z + v * hours * (x - m * z)).sum(axis=0)


def units_before(data: UnitCommitmentData, z: np.ndarray) -> np.ndarray:
    """Units on in the period before each period, shape (types, periods)."""
    previous = np.roll(z, 1, axis=1)
    if data.initial_units_on != "cyclic":
        previous[:, 0] = data.initial_units_on
    return previous


def quantities(data: UnitCommitmentData, variant: str, solution: Solution) -> dict[str, float]:
    z, w, x = (solution.values[k] for k in ("z", "w", "x"))
    costs = period_costs(data, z, w, x)
    tariffs = costs / data.arrays()["d"]
    out = {"total_cost": float(costs.sum())}
    out.update({f"tariff_{t + 1}": float(tariff) for t, tariff in enumerate(tariffs)})
    return out


def verify(data: UnitCommitmentData, variant: str, solution: Solution) -> list[Check]:
    """Recompute every constraint and the objective from the case data."""
    a = data.arrays()
    z, w, x = (solution.values[k] for k in ("z", "w", "x"))
    m, M, n = a["m"][:, None], a["M"][:, None], a["n"][:, None]
    tol = 1e-6

    def worst(violation: np.ndarray, scale: np.ndarray | float = 1.0) -> float:
        return float(np.max(np.maximum(violation, 0.0) / np.maximum(1.0, np.abs(scale)),
                            initial=0.0))

    checks = [
        solution_check("integrality[z,w]",
                       float(max(np.abs(z - np.round(z)).max(), np.abs(w - np.round(w)).max())),
                       tol),
        solution_check("nonnegativity[z,w,x]", worst(-np.concatenate([z, w, x])), tol),
        solution_check("operating_range[min]", worst(m * z - x, m * z), tol),
        solution_check("operating_range[max]", worst(x - M * z, M * z), tol),
        solution_check("units_available", worst(z - n, n), tol),
        solution_check("demand", worst(a["d"] - x.sum(axis=0), a["d"]), tol, "relative to d_t"),
    ]
    if data.reserve_margin is not None:
        need = (1 + data.reserve_margin) * a["d"]
        checks.append(solution_check("reserve", worst(need - (M * z).sum(axis=0), need), tol))
    if variant == STARTUP_COUPLED:
        checks.append(solution_check("startup_coupling", worst(z - units_before(data, z) - w),
                                     tol))
    total = float(period_costs(data, z, w, x).sum())
    checks.append(objective_check(solution.objective, total))
    return checks
