"""The formulation's report section: one row per case, from the run dicts only."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

SENSITIVITY_CASE = "market_small"
SENSITIVITY_LAMBDAS = (0.0, 0.5, 0.7, 0.8, 0.9, 1.0)
SENSITIVITY_ALPHAS = (0.8, 0.9, 0.95)
SENSITIVITY_HINT = ("The MILP over any grid, every point checked against enumeration: "
                    "`gridbench market-sensitivity -c CASE --lambdas ... --alphas ...`; "
                    "the oracle alone, timed: `gridbench market-oracle [--full]` "
                    "(docs/market_equilibrium.md).")


def _check(run: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((c for c in run["checks"] if c["quantity"] == name), None)


def report_section(runs: list[dict[str, Any]]) -> str:
    """Per case: the optimum (first run with a solution), how many pairs agree with the
    enumeration oracle, and the big-M margin."""
    by_case: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_case.setdefault(run["case"], []).append(run)
    rows = []
    for case, case_runs in sorted(by_case.items()):
        solved = [r for r in case_runs if r["quantities"]]
        if not solved:
            rows.append([case, "no solution"] + [""] * 9)
            continue
        q = solved[0]["quantities"]
        enumerated = [_check(r, "enumeration_optimum") for r in solved]
        agree = sum(c is not None and c["verdict"] == "pass" for c in enumerated)
        first = enumerated[0]
        oracle = (f"{agree}/{len(solved)} pairs agree; "
                  + first["note"].removeprefix("scipy linprog, ")) if first else (
            "N > 12: not enumerated")
        cvar = [c for c in (_check(r, "cvar_demand[linear=sorted]") for r in solved) if c]
        worst_cvar = f"{max(c['abs_err'] or 0.0 for c in cvar):.1e}" if cvar else "n/a"
        big_m = _check(solved[0], "big_M[valid: VPL_i(0)+M>=0, all i]")
        rows.append([case, f"{q['demand_cost']:.6f}", f"{q['expected_demand_cost']:.4f}",
                     f"{q['cvar_demand']:.4f}", f"{q['side_payments_total']:.4f}",
                     f"{q['viable_plants']:.0f}", f"{q['contracted_total']:.3f}",
                     f"{q['hedge_ratio']:.3f}", worst_cvar,
                     big_m["note"] if big_m else "", oracle])
    headers = ["case", "demand_cost M$", "E cost M$", "CVaR M$", "side pay M$", "viable",
               "Q MW", "Q/d", "CVaR |lin-sort|", "big-M", "enumeration oracle"]
    table = tabulate(rows, headers, tablefmt="github", disable_numparse=True)
    parts = [table]
    if SENSITIVITY_CASE in by_case:
        parts.append(sensitivity_table())
    parts.append(SENSITIVITY_HINT)
    return "\n\n".join(parts)


def sensitivity_table(lambdas=SENSITIVITY_LAMBDAS, alphas=SENSITIVITY_ALPHAS) -> str:
    """The optimum of market_small over lambda_d x alpha by the enumeration oracle (scipy,
    16 LPs a point, about a second in all); alpha is the demand's and the plants' level."""
    from gridbench_market_equilibrium import CASES
    from gridbench_market_equilibrium.data import MarketData, cvar_upper, demand_cost_scenarios
    from gridbench_market_equilibrium.generator import generate_arrays
    from gridbench_market_equilibrium.oracle import enumerate_patterns

    parameters = next(c.parameters for c in CASES if c.name == SENSITIVITY_CASE)
    rows = []
    for lambda_d in lambdas:
        for alpha in alphas:
            data = MarketData.model_validate(generate_arrays(
                parameters.with_(lambda_demand=lambda_d, alpha=alpha)))
            best = enumerate_patterns(data).best
            total = float(best.contracted.sum())
            cost = demand_cost_scenarios(data, total)
            rows.append([f"{lambda_d:g}", f"{alpha:g}", f"{best.objective:.4f}",
                         f"{cost.mean():.4f}", f"{float(cvar_upper(cost, alpha)):.4f}",
                         f"{best.side_payments.sum():.4f}",
                         "".join("1" if b else "0" for b in best.viable),
                         f"{total / data.demand_mw:.3f}"])
    title = (f"Sensitivity of {SENSITIVITY_CASE} (enumeration oracle; money in M$; "
             "x = viability pattern, Q/d = hedge ratio)")
    return title + "\n\n" + tabulate(
        rows, ["lambda_d", "alpha", "demand_cost", "E cost", "CVaR", "side pay", "x", "Q/d"],
        tablefmt="github", disable_numparse=True)
