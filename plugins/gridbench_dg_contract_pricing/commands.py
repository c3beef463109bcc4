"""gridbench commands: the published-table self-consistency check and voltage profiles."""

from __future__ import annotations

import sys

import click


@click.command("dg-published-check")
@click.option("--json", "json_path", type=click.Path(dir_okay=False),
              help="write every identity of Tables 2-63 as a JSON list (table, identity, cells, "
                   "expected, printed, verdict)")
@click.option("--all", "every", is_flag=True,
              help="list every identity of Tables 2-63, not only those that do not hold")
def dg_published_check(json_path: str | None, every: bool) -> None:
    """Check the printed tables of the thesis without a solver: the reference file's Tables 2-7,
    then every identity of Tables 2-63 (sums, profits, CF from energy, Q = P tan(acos 0.92),
    present values, savings, difference percentages, copied cells, nesting orderings) with
    interval arithmetic on the printed precision. Exits 0 even when some are broken."""
    import json
    from pathlib import Path

    from gridbench_dg_contract_pricing.published import (
        check_published_tables,
        check_thesis_tables,
        findings_report,
        identities_report,
    )

    click.echo(findings_report(check_published_tables()))
    click.echo("")
    identities = check_thesis_tables()
    click.echo(identities_report(identities, every=every))
    if json_path:
        Path(json_path).write_text(json.dumps([i.as_dict() for i in identities], indent=1,
                                              ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(f"wrote {len(identities)} identities to {json_path}")
    sys.exit(0)


@click.command("dg-voltage")
@click.argument("case")
@click.option("--png", "png", required=True, type=click.Path(dir_okay=False),
              help="where to write the figure")
@click.option("--price", "prices", multiple=True, type=float,
              help="contract price per DG (default: the exact oracle's optimum)")
def dg_voltage(case: str, png: str, prices: tuple[float, ...]) -> None:
    """Voltage magnitude per bus and load block at the optimal contract prices (thesis
    Figures 27-29 and 32): the follower LP re-solved at the prices (scipy/HiGHS)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from bench.api import load_case, load_registry, optimistic_response, solve_exact
    from gridbench_dg_contract_pricing.models import KIT

    registry = load_registry()
    if case not in registry.cases:
        raise click.UsageError(f"unknown case {case}")
    data = load_case(registry.cases[case], registry.formulations["dg_contract_pricing"]).data
    problem = KIT.problem(data)
    if prices:
        x = np.asarray(prices, float)
    else:
        x = np.asarray(solve_exact(problem).x, float)
    response = optimistic_response(problem, x)
    if response.y is None:
        raise click.ClickException(f"follower LP at prices {x}: {response.status}")
    volt = problem.block("v", response.y)  # (T, N) kV
    fig, ax = plt.subplots(figsize=(9, 4.5))
    buses = np.arange(1, volt.shape[1] + 1)
    for t, row in enumerate(volt):
        ax.plot(buses, row, marker=".", label=f"block {t + 1}")
    ax.axhline(data.v_min_kv, color="grey", ls="--", lw=0.8)
    ax.axhline(data.v_max_kv, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("bus (thesis numbering)")
    ax.set_ylabel("voltage magnitude [kV]")
    ax.set_title(f"{case}: voltage per load block at contract prices "
                 + ", ".join(f"{p:g}" for p in x) + " EUR/MWh")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    click.echo(f"wrote {png}: min {volt.min():.4f} kV, max {volt.max():.4f} kV, "
               f"prices {list(map(float, x))}")
