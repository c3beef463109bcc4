"""Quantities, independent checks and the economics table, from the case data only.

Nothing here knows which backend produced the solution: arrays ``D``, ``S``, ``Qch``,
``Qdis``, ``E`` shaped (prosumers, periods), and ``price`` (periods,) where the backend
returned the dual of the sharing balance, normalised so that price = d welfare / d (one
more kWh from the grid), in $/kWh.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from tabulate import tabulate

from bench.api import Check, Solution, objective_check, solution_check
from gridbench_prosumer_sharing.data import ProsumerSharingData
from gridbench_prosumer_sharing.welfare import (
    has_binaries,
    is_pwl,
    linearised_welfare,
    marginal_value,
    pwl_error_bound,
    terms,
    welfare,
)

FEASIBILITY_TOL = 1e-6  # kWh, relative to the bound's size when it is above 1
# a quantity per prosumer (D_1, ..., payment_1) for cases of at most this many prosumers
# in one period; larger (generated) cases report totals only
PER_PROSUMER_LIMIT = 10
# price consistency: the dual and the marginal utilities agree to this ($/kWh, relative
# above 1 $/kWh), after allowing the primal values their own FEASIBILITY_TOL. QP solvers
# return duals less precisely than primals: HiGHS's QP solver gives 1.750007 for the seed's
# exact 1.75 (4e-6) with an exact primal, so 1e-5; the measured gap is the quantity
# price_kkt_gap of every run with a price.
PRICE_TOL = 1e-5
# a variable this close to a bound (relative above 1 kWh) counts as at the bound in the KKT
# price check: interior-point solvers (Clarabel) leave variables ~1e-4 kWh inside an active
# bound whose reduced cost is small (0.001 $/kWh), more than FEASIBILITY_TOL
ACTIVE_TOL = 1e-5


def state_of_charge(data: ProsumerSharingData, charge: np.ndarray, discharge: np.ndarray
                    ) -> np.ndarray:
    """Energy in each battery at the end of each period, recomputed from the flows."""
    a = data.arrays
    flow = a["eta_ch"][:, None] * charge - discharge / a["eta_dis"][:, None]
    return a["energy_initial"][:, None] + np.cumsum(flow, axis=1)


def price_interval(data: ProsumerSharingData, variant: str, values: dict[str, np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per period, the prices the KKT conditions of D and S allow at this solution.

    For a variable x with sign k in the balance (D: +1, S: -1) and marginal value v'(x):
    interior needs v'(x) = k price, at its upper bound v'(x) >= k price, at its lower bound
    v'(x) <= k price. Batteries are left out: their state of charge couples periods.
    Returns (lowest, highest) price per period (-inf / inf where nothing constrains it).
    """
    segments = data.pwl_segments if is_pwl(variant) else None
    lowest, highest = np.full(data.periods, -np.inf), np.full(data.periods, np.inf)
    for name in ("D", "S"):
        term = terms(data)[name]
        x = values[name]
        step = FEASIBILITY_TOL * np.maximum(1.0, np.abs(x))
        m_lo, m_hi = marginal_value(term, x, segments, step)
        # k price lies in [m_lo, m_hi] when x is interior; at its upper bound only
        # k price <= m_hi holds, at its lower bound only k price >= m_lo
        k_lo = np.where(x >= term.hi - ACTIVE_TOL * np.maximum(1.0, np.abs(term.hi)),
                        -np.inf, m_lo)
        k_hi = np.where(x <= term.lo + ACTIVE_TOL * np.maximum(1.0, np.abs(term.lo)),
                        np.inf, m_hi)
        if term.balance > 0:
            lower, upper = k_lo, k_hi
        else:
            lower, upper = -k_hi, -k_lo
        lowest = np.maximum(lowest, lower.max(axis=0))
        highest = np.minimum(highest, upper.min(axis=0))
    return lowest, highest


def price_kkt_gap(data: ProsumerSharingData, variant: str, values: dict[str, np.ndarray]
                  ) -> float:
    """How far the backend's price lies outside the KKT interval (relative above 1 $/kWh)."""
    price = values["price"]
    lowest, highest = price_interval(data, variant, values)
    miss = np.maximum(lowest - price, price - highest) / np.maximum(1.0, np.abs(price))
    return float(np.max(np.maximum(miss, 0.0)))


def _pinned_price(lowest: np.ndarray, highest: np.ndarray) -> np.ndarray | None:
    """The KKT price per period, where an interior D or S pins it (else None)."""
    width = highest - lowest
    if not np.all(np.isfinite(width)) or np.any(width > 1e-4 * np.maximum(1.0, np.abs(lowest))):
        return None
    return 0.5 * (lowest + highest)


def quantities(data: ProsumerSharingData, variant: str, solution: Solution
               ) -> dict[str, float]:
    v = solution.values
    out: dict[str, float] = {}
    per_prosumer = data.periods == 1 and data.n_prosumers <= PER_PROSUMER_LIMIT
    if per_prosumer:
        for name in ("D", "S", "E", "Qch", "Qdis"):
            out.update({f"{name}_{i + 1}": float(v[name][i, 0]) for i in range(data.n_prosumers)})
    exact = welfare(data, v)
    out["social_welfare"] = exact
    if is_pwl(variant):
        linearised = linearised_welfare(data, v)
        out["model_objective"] = linearised
        out["pwl_welfare_error"] = linearised - exact
        out["pwl_error_bound"] = pwl_error_bound(data)
    else:
        out["model_objective"] = exact
    out["total_demand_kwh"] = float(v["D"].sum())
    out["total_supply_kwh"] = float(v["S"].sum())
    out["total_charge_kwh"] = float(v["Qch"].sum())
    out["total_discharge_kwh"] = float(v["Qdis"].sum())
    # energy a battery charges and discharges in the same period (0 with complementarity)
    out["simultaneous_kwh"] = float(np.minimum(v["Qch"], v["Qdis"]).sum())
    out["shared_kwh"] = float(np.maximum(v["E"], 0.0).sum())

    kkt = _pinned_price(*price_interval(data, variant, v))
    if kkt is not None:
        if data.periods == 1:
            out["price_kkt"] = float(kkt[0])
        else:
            out["price_kkt_mean"] = float(kkt.mean())
    price = v.get("price")
    if price is not None:
        out["price_kkt_gap"] = price_kkt_gap(data, variant, v)
        payments = (v["E"] * price[None, :]).sum(axis=1)  # > 0: the prosumer pays
        if data.periods == 1:
            out["price"] = float(price[0])
        else:
            out.update(price_mean=float(price.mean()), price_min=float(price.min()),
                       price_max=float(price.max()))
        if per_prosumer:
            out.update({f"payment_{i + 1}": float(p) for i, p in enumerate(payments)})
        # what importers pay = what exporters receive when the grid exchange is zero
        out["traded_value"] = float((np.maximum(v["E"], 0.0) * price[None, :]).sum())
        out["payments_sum"] = float(payments.sum())
    return out


def _worst(violation: np.ndarray, scale: np.ndarray | float = 1.0) -> float:
    return float(np.max(np.maximum(violation, 0.0) / np.maximum(1.0, np.abs(scale)),
                        initial=0.0))


def verify(data: ProsumerSharingData, variant: str, solution: Solution) -> list[Check]:
    """Recompute every constraint, the objective and the price from the case data."""
    a = data.arrays
    v = solution.values
    D, S, Qch, Qdis, E = (np.asarray(v[k], float) for k in ("D", "S", "Qch", "Qdis", "E"))
    tol = FEASIBILITY_TOL
    soc = state_of_charge(data, Qch, Qdis)
    checks = [
        solution_check("demand_limits", max(_worst(a["demand_min"] - D, a["demand_min"]),
                                            _worst(D - a["demand_max"], a["demand_max"])), tol),
        solution_check("supply_limits", max(_worst(-S), _worst(S - a["supply_max"],
                                                               a["supply_max"])), tol),
        solution_check("battery_limits", max(
            _worst(-Qch), _worst(-Qdis),
            _worst(Qch - a["charge_max"][:, None], a["charge_max"][:, None]),
            _worst(Qdis - a["discharge_max"][:, None], a["discharge_max"][:, None])), tol),
        solution_check("prosumer_balance", _worst(np.abs(E - (D + Qch - S - Qdis)), D), tol,
                       "E = D + Qch - S - Qdis"),
        solution_check("sharing_balance", _worst(np.abs(E.sum(axis=0) - a["grid"]),
                                                 np.abs(E).sum(axis=0)), tol,
                       "sum over prosumers of E = grid exchange"),
        solution_check("state_of_charge", max(
            _worst(-soc, a["energy_max"][:, None]),
            _worst(soc - a["energy_max"][:, None], a["energy_max"][:, None]),
            _worst(a["energy_final_min"] - soc[:, -1], a["energy_final_min"])), tol,
            "recomputed from the flows and efficiencies"),
    ]
    if has_binaries(variant):
        checks.append(solution_check("complementarity", _worst(np.minimum(Qch, Qdis),
                                                               np.maximum(Qch, Qdis)), tol,
                                     "no battery charges and discharges in the same period"))
    exact = welfare(data, v)
    if is_pwl(variant):
        linearised = linearised_welfare(data, v)
        checks.append(objective_check(solution.objective, linearised))
        bound = pwl_error_bound(data)
        gap = linearised - exact
        checks.append(solution_check(
            "pwl_error_within_bound", max(0.0, -gap, gap - bound) / max(1.0, abs(exact)), tol,
            f"0 <= linearised - exact welfare = {gap:.3g} <= a-priori bound {bound:.3g} $"))
    else:
        checks.append(objective_check(solution.objective, exact))
    if v.get("price") is not None:
        checks.append(solution_check(
            "price_kkt", price_kkt_gap(data, variant, v), PRICE_TOL,
            "dual of the sharing balance within the marginal utilities of D and S (KKT)"))
    return checks


def report_section(runs: list[dict[str, Any]]) -> str:
    """Economics per run: welfare, market-clearing price (dual and KKT), net payments."""
    rows = []
    for run in runs:
        q = run.get("quantities") or {}
        if "social_welfare" not in q:
            continue
        price = q.get("price", q.get("price_mean"))
        kkt = q.get("price_kkt", q.get("price_kkt_mean"))
        payments = [f"{q[k]:+.4f}" for k in sorted(
            (k for k in q if k.startswith("payment_")), key=lambda k: int(k.split("_")[1]))]
        rows.append([run["case"], run["variant"], f"{run['backend']}/{run['solver']}",
                     f"{q['social_welfare']:.6f}", "" if price is None else f"{price:.6f}",
                     "" if kkt is None else f"{kkt:.6f}", " ".join(payments),
                     f"{q['simultaneous_kwh']:.4g}",
                     f"{q['pwl_welfare_error']:.3g}" if "pwl_welfare_error" in q else ""])
    if not rows:
        return ""
    headers = ["case", "variant", "run", "welfare $", "price $/kWh (dual)",
               "price $/kWh (KKT)", "net payment $ per prosumer (+ pays)",
               "simultaneous charge+discharge kWh", "pwl error $"]
    note = ("price (dual): the sharing balance's dual where the backend returns one (not for "
            "mixed-integer runs); price (KKT): the price the marginal utilities of D and S pin "
            "down at the solution, from the case data; payment = price x E.")
    return tabulate(rows, headers, disable_numparse=True) + "\n" + note
