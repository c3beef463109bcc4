"""Plugin commands: ``gridbench market-sensitivity`` and ``gridbench market-oracle``.

market-sensitivity: the optimum over a grid of lambda_d and alpha. Each grid point re-solves
the MILP of the chosen case with one backend/solver through the harness
(``bench.runner.execute``), so every point carries the same independent checks as a
``gridbench run`` (the enumeration oracle for N <= 12, the CVaR by sorting, the big-M).
The plants' CVaR level follows alpha unless the case sets ``alpha_plants``.

market-oracle: the enumeration oracle alone, with or without the lower-bound pruning, timed.
"""

from __future__ import annotations

from dataclasses import replace

import click
from tabulate import tabulate

DEFAULT_LAMBDAS = "0,0.5,0.7,0.8,0.9,1"
DEFAULT_ALPHAS = "0.8,0.9,0.95"


def _floats(text: str) -> list[float]:
    try:
        return [float(item) for item in text.split(",") if item.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"expected comma-separated numbers: {exc}") from None


def _current_registry():
    """The registry the ``gridbench`` command loaded (honouring -p), else a fresh one."""
    from bench.api import load_registry

    context = click.get_current_context(silent=True)
    registry = context.find_root().meta.get("registry") if context else None
    return registry if registry is not None else load_registry()


def _load_case(case_name: str):
    from bench.api import load_case

    registry = _current_registry()
    formulation = registry.formulations["market_equilibrium"]
    source = registry.cases.get(case_name)
    if source is None or source.formulation != "market_equilibrium":
        raise click.BadParameter(f"unknown market_equilibrium case {case_name!r}")
    return registry, formulation, load_case(source, formulation)


def sensitivity_rows(case_name: str, lambdas: list[float], alphas: list[float],
                     backend: str = "pyomo", solver: str = "highs",
                     time_limit: float = 60.0) -> list[dict]:
    """One dict per (lambda_d, alpha): quantities, status and whether every check passed."""
    from bench.api import PlannedRun, ReferenceBook, captured_output, execute

    registry, formulation, case = _load_case(case_name)
    spec = registry.solvers.get((backend, solver))
    if spec is None:
        raise click.BadParameter(f"unknown backend/solver {backend}/{solver}")
    book = ReferenceBook([], [])  # no published values: the oracle checks are the evidence
    rows = []
    for lambda_d in lambdas:
        for alpha in alphas:
            data = case.data.model_copy(update={"lambda_demand": lambda_d, "alpha": alpha})
            data = type(data).model_validate(data.model_dump())  # fresh cached properties
            point = replace(case, name=f"{case_name}[lambda_d={lambda_d},alpha={alpha}]",
                            data=data)
            with captured_output(None):  # solver banners stay out of the table
                result = execute(PlannedRun(formulation, formulation.variants[0], point,
                                            backend, spec), registry, book, time_limit)
            failed = [c.quantity for c in result.checks if c.verdict != "pass"]
            pattern = next((c.note.rsplit("best x = ", 1)[-1] for c in result.checks
                            if c.quantity == "enumeration_optimum"), "")
            rows.append({"lambda_d": lambda_d, "alpha": alpha, "status": str(result.status),
                         "failed_checks": failed, "oracle_pattern": pattern,
                         **result.quantities})
    return rows


@click.command("market-sensitivity")
@click.option("-c", "--case", "case_name", default="market_small", show_default=True,
              help="A market_equilibrium case.")
@click.option("--lambdas", default=DEFAULT_LAMBDAS, show_default=True,
              help="lambda_d values (weight of the expectation).")
@click.option("--alphas", default=DEFAULT_ALPHAS, show_default=True, help="CVaR levels.")
@click.option("-b", "--backend", default="pyomo", show_default=True)
@click.option("-s", "--solver", default="highs", show_default=True)
def market_sensitivity(case_name: str, lambdas: str, alphas: str, backend: str,
                       solver: str) -> None:
    """Optimal demand cost, hedge and side payments over lambda_d x alpha (one MILP each,
    every point checked against enumeration for N <= 12)."""
    rows = sensitivity_rows(case_name, _floats(lambdas), _floats(alphas), backend, solver)
    table = [[r["lambda_d"], r["alpha"], r["status"],
              f"{r.get('demand_cost', float('nan')):.4f}",
              f"{r.get('expected_demand_cost', float('nan')):.4f}",
              f"{r.get('cvar_demand', float('nan')):.4f}",
              f"{r.get('side_payments_total', float('nan')):.4f}",
              f"{r.get('viable_plants', float('nan')):.0f}",
              f"{r.get('hedge_ratio', float('nan')):.3f}", r["oracle_pattern"],
              "all pass" if not r["failed_checks"] else "FAILED: " + ", ".join(
                  r["failed_checks"])] for r in rows]
    click.echo(f"market_equilibrium sensitivity, case {case_name}, {backend}/{solver} "
               "(money in M$; Q/d = contracted share of demand)")
    click.echo(tabulate(table, ["lambda_d", "alpha", "status", "demand_cost", "E cost", "CVaR",
                                "side pay", "viable", "Q/d", "oracle x", "checks"],
                        disable_numparse=True))
    if any(r["failed_checks"] or r["status"] != "optimal" for r in rows):
        raise SystemExit(1)


@click.command("market-oracle")
@click.option("-c", "--case", "case_names", multiple=True,
              help="market_equilibrium cases with N <= 12 (default: small and medium).")
@click.option("--full", is_flag=True, help="Solve all 2^N LPs (no lower-bound pruning).")
def market_oracle(case_names: tuple[str, ...], full: bool) -> None:
    """Time the enumeration oracle (scipy linprog per viability pattern) on its own."""
    from gridbench_market_equilibrium.oracle import enumerate_patterns

    rows = []
    for name in case_names or ("market_small", "market_medium"):
        _, _, case = _load_case(name)
        result = enumerate_patterns(case.data, prune=False if full else None)
        best = result.best
        rows.append([name, case.data.n_plants, result.patterns, result.lps_solved,
                     result.pruned, f"{result.seconds:.3f}", f"{best.objective:.9f}",
                     "".join("1" if b else "0" for b in best.viable),
                     f"{best.contracted.sum():.4f}", f"{best.side_payments.sum():.6f}"])
    click.echo(tabulate(rows, ["case", "N", "patterns", "LPs solved", "bounded", "seconds",
                               "demand_cost M$", "best x", "Q MW", "side pay M$"],
                        disable_numparse=True))
