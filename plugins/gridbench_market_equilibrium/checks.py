"""Quantities and independent checks of a market-equilibrium solution, from the case data only.

Nothing here knows which backend produced the solution. Every risk measure is recomputed by
sorting scenario outcomes (``data.cvar_upper`` / ``data.cvar_lower``), not from the solver's
Rockafellar-Uryasev variables, and the optimum is confirmed by enumerating every viability
pattern with scipy's LP solver (``oracle.py``).
"""

from __future__ import annotations

import numpy as np

from bench.api import Check, Solution, Verdict, objective_check, solution_check
from bench.api import relative_errors as errors
from gridbench_market_equilibrium.data import (
    MarketData,
    cvar_lower,
    cvar_upper,
    demand_cost_scenarios,
    demand_risk_cost,
    plant_npv,
    plant_revenue_scenarios,
)
from gridbench_market_equilibrium.oracle import MAX_ENUMERATED_PLANTS

RU_MILP = "ru_milp"
TOL = 1e-6  # feasibility, relative to max(1, |scale|); optima compared at rel 1e-6


def solution_arrays(**values) -> dict[str, np.ndarray]:
    """Every backend's extract returns the same names as float arrays."""
    return {name: np.asarray(value, dtype=float) for name, value in values.items()}


def decisions(solution: Solution) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (rounded to the chosen pattern), Q_i and phi_i."""
    values = solution.values
    return np.round(values["x"]), values["Q_i"], values["phi"]


def quantities(data: MarketData, variant: str, solution: Solution) -> dict[str, float]:
    """The seed's quantities recomputed from x, Q_i and phi_i (money in M$, power in MW avg)."""
    viable, contracted, payments = decisions(solution)
    total = float(contracted.sum())
    cost = demand_cost_scenarios(data, total)
    risk_cost = demand_risk_cost(data, total)
    expected = float(cost.mean())
    side_payments = float(payments.sum())
    fully_hedged = data.demand_mw * float(data.scenario_terms.spot_cost.mean())
    return {
        "demand_cost": risk_cost + side_payments,  # the seed's objective Phi + sum phi_i
        "expected_demand_cost": expected,  # E[Phi-hat]
        "cvar_demand": float(cvar_upper(cost, data.alpha)),  # CVaR_alpha[Phi-hat]
        "risk_adjusted_cost": risk_cost,  # Phi = lambda_d E + (1 - lambda_d) CVaR
        "side_payments_total": side_payments,  # sum phi_i
        "viable_plants": float(viable.sum()),  # sum x_i
        "contracted_total": total,  # Q = sum Q_i
        "hedge_ratio": total / data.demand_mw,  # Q / d
        "physical_guarantee_total": float(data.scenario_terms.physical_guarantee @ viable),
        # what the decisions can change: the cost above buying d at the contract price
        "risk_premium": risk_cost + side_payments - fully_hedged,
    }


def _worst(violation: np.ndarray, scale: np.ndarray | float = 1.0) -> float:
    return float(np.max(np.maximum(violation, 0.0) / np.maximum(1.0, np.abs(scale)),
                        initial=0.0))


def _compare(name: str, expected: float, actual: float, kind: str, note: str,
             rel: float = TOL) -> Check:
    abs_err, rel_err = errors(expected, actual)
    ok = abs_err <= rel * max(1.0, abs(expected))
    return Check(name, expected, actual, abs_err, rel_err, Verdict.PASS if ok else Verdict.FAIL,
                 kind, f"rel {rel:g} (abs below 1)", note)


def verify(data: MarketData, variant: str, solution: Solution) -> list[Check]:
    """Feasibility, the CVaR linearisations against sorting, the big-M, the objective, and
    (N <= 12) the optimum against enumeration."""
    values = solution.values
    x = values["x"]
    viable, contracted, payments = decisions(solution)
    chosen = viable > 0.5
    d, M = data.demand_mw, data.big_m_value
    terms = data.scenario_terms
    total = float(contracted.sum())
    cost = demand_cost_scenarios(data, total)
    scale = float(np.abs(cost).max())
    n_s = data.n_scenarios

    checks = [
        solution_check("integrality[x]", float(np.abs(x - viable).max(initial=0.0)), TOL),
        solution_check("nonnegativity[Q_i,phi_i]", _worst(-np.concatenate([contracted, payments])),
                       TOL),
        solution_check("contract_limit[Q_i<=d x_i]", _worst(contracted - d * viable, d), TOL,
                       "with x rounded to the pattern"),
        solution_check("definitions[GF,Q]", max(
            abs(float(values["GF"]) - float(terms.physical_guarantee @ viable))
            / max(1.0, float(terms.physical_guarantee.sum())),
            abs(float(values["Q"]) - total) / max(1.0, d)), TOL),
    ]

    # the plants' participation with the CVaR by sorting (M vanishes for a chosen plant)
    npv = plant_npv(data, contracted)
    revenue_scale = np.abs(plant_revenue_scenarios(data, contracted)).max(axis=1)
    checks.append(solution_check(
        "participation[VPL_i+phi_i>=0, chosen]",
        _worst(np.where(chosen, -(npv + payments), 0.0), revenue_scale), TOL,
        "VPL_i with CVaR by sorting"))

    # Rockafellar-Uryasev variables: feasible, and the demand's linear CVaR equals sorting
    zeta, v, eta, w = (values[k] for k in ("zeta", "v", "eta", "w"))
    revenue = plant_revenue_scenarios(data, contracted)
    checks.append(solution_check("ru_constraints", max(
        _worst(cost - zeta - v, scale), _worst(-v), _worst(-w),
        _worst(np.where(chosen[:, None], eta[:, None] - revenue - w, 0.0), revenue_scale[:, None])),
        TOL, "v_s >= C_s - zeta, w_i,s >= eta_i - R_i,s (chosen plants), v, w >= 0"))
    sorted_cvar = float(cvar_upper(cost, data.alpha))
    linear_cvar = float(zeta + v.sum() / ((1 - data.alpha) * n_s))
    if data.lambda_demand < 1:
        checks.append(_compare("cvar_demand[linear=sorted]", sorted_cvar, linear_cvar,
                               "certificate",
                               "zeta + sum v_s/((1-alpha)S) against the sorted upper tail"))
    else:  # CVaR has weight 0: zeta and v are free, the linear form is only an upper bound
        checks.append(solution_check(
            "cvar_demand[linear>=sorted]", max(0.0, sorted_cvar - linear_cvar)
            / max(1.0, abs(sorted_cvar)), TOL,
            "lambda_d = 1: CVaR not in the objective, any feasible (zeta, v) bounds it above"))
    linear_plants = eta - w.sum(axis=1) / ((1 - data.plant_alpha) * n_s)
    sorted_plants = cvar_lower(revenue, data.plant_alpha)
    checks.append(solution_check(
        "cvar_plants[linear<=sorted, chosen]",
        _worst(np.where(chosen, linear_plants - sorted_plants, 0.0), revenue_scale), TOL,
        "the lower-tail linear form never exceeds the sorted CVaR (any eta_i is a bound)"))

    # big-M: no leak for chosen plants (the M term vanishes), valid for every plant left out
    leak = float(np.max(np.where(chosen, M * (1 - x), 0.0), initial=0.0))
    checks.append(_certificate(
        "big_M[chosen: M(1-x_i)]", leak, TOL * max(1.0, abs(solution.objective or 1.0)),
        f"M = {M:.6g} M$; for a chosen plant the M term must vanish (integrality tolerance "
        "must not relax its participation)"))
    standalone = plant_npv(data, np.zeros(data.n_plants))
    slack = standalone + M  # a plant left out (Q_i = 0, phi_i = 0) needs VPL_i(0) + M >= 0
    worst = int(np.argmin(slack))
    checks.append(_certificate(
        "big_M[valid: VPL_i(0)+M>=0, all i]", max(0.0, -float(slack[worst])), 0.0,
        f"min slack {slack[worst]:.6g} M$ ({data.plant_names[worst]}) of M = {M:.6g} M$"))
    checks.append(solution_check(
        "no_payment_unchosen", _worst(np.where(chosen, 0.0, payments)), TOL,
        "phi_i = 0 for x_i = 0 (M never forced a payment to a plant left out)"))

    recomputed = quantities(data, variant, solution)["demand_cost"]
    checks.append(objective_check(solution.objective, recomputed))

    if data.n_plants <= MAX_ENUMERATED_PLANTS:
        from gridbench_market_equilibrium.oracle import enumeration_oracle

        oracle = enumeration_oracle(data)
        best = oracle.best
        pattern = "".join("1" if b else "0" for b in best.viable)
        checks.append(_compare(
            "enumeration_optimum", best.objective, recomputed, "solution",
            f"scipy linprog, {oracle.summary()}; best x = {pattern}"))
        fully_hedged = d * float(terms.spot_cost.mean())
        checks.append(_compare(
            "enumeration_risk_premium", best.objective - fully_hedged,
            recomputed - fully_hedged, "solution",
            "demand_cost - d E[P] (the part the decisions change) against enumeration"))
    return checks


def _certificate(name: str, violation: float, tolerance: float, note: str) -> Check:
    verdict = Verdict.PASS if violation <= tolerance else Verdict.FAIL
    return Check(name, 0.0, violation, violation, None, verdict, "certificate",
                 f"abs {tolerance:g}", note)
