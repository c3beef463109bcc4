"""``gridbench pbpm`` and ``gridbench pbpm-sim``: the method's own front end.

Both read a spec file (TOML or JSON; a bare spec or a case file with a [data] table). A
spec that cannot be read or does not validate is one line on stderr and exit code 2, as
everywhere in gridbench.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import click
import numpy as np
from tabulate import tabulate

from bench.api import InputError, data_dir
from gridbench_pbpm.core import MODE_MEANINGS
from gridbench_pbpm.spec import PbpmSpec, load_spec

EXIT_INPUT = 2


def _fail(message: str) -> None:
    click.echo(f"gridbench: error: {message}", err=True)
    sys.exit(EXIT_INPUT)


def _compute(spec: PbpmSpec, implementation: str) -> tuple[np.ndarray, np.ndarray]:
    if implementation == "numpy":
        from gridbench_pbpm.vectorised import arrays, compute

        solution = compute(arrays(spec))
    else:
        from gridbench_pbpm.reference import compute_spec

        solution = compute_spec(spec)
    return solution.values["price_vector"], solution.values["prm"]


def prm_table(spec: PbpmSpec, price_vector: np.ndarray, prm: np.ndarray) -> str:
    rows, r = [], 0
    for element in spec.elements:
        for q, condition in enumerate(element.conditions, start=1):
            rows.append([element.name, element.kind, element.regulator,
                         f"{q}{' ' + condition.label if condition.label else ''}",
                         "" if condition.buy_price is None else f"{condition.buy_price:g}",
                         "" if condition.sell_price is None else f"{condition.sell_price:g}",
                         *prm[r].tolist()])
            r += 1
    headers = ["element", "kind", "regulator", "condition", "buy", "sell",
               *(str(p) for p in price_vector)]
    return tabulate(rows, headers, disable_numparse=True)


@click.command("pbpm")
@click.argument("spec_path", metavar="SPEC", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the prices-per-element bar chart (PNG).")
@click.option("--implementation", type=click.Choice(["python", "numpy"]), default="python",
              show_default=True, help="Which implementation computes the PRMs.")
def pbpm_command(spec_path: Path, plot_path: Path | None, implementation: str) -> None:
    """Price vector and price response matrices (PRMs) of the elements in SPEC.

    SPEC is TOML or JSON with min_price, max_price and [[elements]] (name, kind Source /
    Load / Bidirectional, regulator "Linear Regulator" / "Not Regulator", conditions with
    buy_price and/or sell_price), optionally tie_order = "regulators_first"; a case file
    from cases/pbpm/ works too. docs/pbpm.md.
    """
    try:
        spec = load_spec(spec_path)
    except InputError as exc:
        _fail(str(exc))
    price_vector, prm = _compute(spec, implementation)
    click.echo("Price vector: " + " ".join(str(p) for p in price_vector))
    if spec.tie_order != "notebook":
        click.echo(f"Tie order: {spec.tie_order} (not the notebook's; docs/pbpm.md)")
    click.echo("\nPrice response matrices (one row per operating condition, one column per "
               "price):")
    click.echo(prm_table(spec, price_vector, prm))
    used = sorted(set(np.unique(prm).tolist()))
    click.echo("\nModes\n" + "\n".join(f"{m:>3}  {MODE_MEANINGS[m]}" for m in used))
    if plot_path is not None:
        from gridbench_pbpm.plots import price_chart

        try:
            price_chart(spec, price_vector, prm, plot_path)
        except OSError as exc:
            _fail(f"cannot write {plot_path}: {exc.strerror or exc}")
        click.echo(f"chart written to {plot_path}")


def _default_spec() -> Path:
    return data_dir("cases") / "pbpm" / "pbpm_c_snippet.toml"


@click.command("pbpm-sim")
@click.argument("spec_path", metavar="[SPEC]", required=False,
                type=click.Path(dir_okay=False, path_type=Path))
@click.option("--png", "png_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw price, modes, powers and SOC over time (PNG).")
@click.option("--hours", type=click.FloatRange(min=0, min_open=True), default=48.0,
              show_default=True)
@click.option("--step-minutes", type=click.FloatRange(min=0, min_open=True), default=5.0,
              show_default=True)
@click.option("--initial-soc", type=click.FloatRange(0, 1), default=0.5, show_default=True)
@click.option("--initial-price", type=int, default=5, show_default=True,
              help="The snippet's `int price = 5`; clamped into the price range.")
def pbpm_sim_command(spec_path: Path | None, png_path: Path | None, hours: float,
                     step_minutes: float, initial_soc: float, initial_price: int) -> None:
    """Simulate the C snippet's DC-bus price controller on the elements of SPEC.

    Without SPEC: the snippet's own system (cases/pbpm/pbpm_c_snippet.toml). Sources are
    PV arrays, loads household loads, bidirectional elements batteries whose operating
    condition is their SOC band; docs/pbpm.md describes the model.
    """
    from gridbench_pbpm.controller import SimulationSettings, simulate

    path = spec_path or _default_spec()
    settings = replace(SimulationSettings(), hours=hours, step_minutes=step_minutes,
                       initial_soc=initial_soc, initial_price=initial_price)
    try:
        spec = load_spec(path)
        result = simulate(spec, settings)
    except InputError as exc:
        _fail(str(exc))
    dt = settings.step_minutes / 60.0
    low, high = result.price_range
    click.echo(f"{path}: {len(result.hours)} steps of {settings.step_minutes:g} min, "
               f"price range [{low}, {high}]"
               + (f", initial price {initial_price} clamped to {result.price[0]}"
                  if result.clamped_initial else ""))
    counts = [[p, f"{dt * int((result.price == p).sum()):.2f}"] for p in range(low, high + 1)]
    click.echo(tabulate(counts, ["price", "hours at price"], disable_numparse=True))
    click.echo(f"events: {int((result.events > 0).sum())} low-voltage (price up), "
               f"{int((result.events < 0).sum())} high-voltage (price down)")
    rows = []
    for name, modes in result.modes.items():
        energy = float(result.power_kw[name].sum() * dt)
        rows.append([name, result.kinds[name],
                     " ".join(f"{m}:{dt * int((modes == m).sum()):.1f}h"
                              for m in sorted(set(modes.tolist()))),
                     f"{energy:.2f}"])
    click.echo(tabulate(rows, ["element", "kind", "time in each mode", "energy to bus kWh"],
                        disable_numparse=True))
    for name, soc in result.soc.items():
        click.echo(f"{name}: SOC {100 * soc.min():.1f} % to {100 * soc.max():.1f} %, "
                   f"ends at {100 * soc[-1]:.1f} %")
    if png_path is not None:
        from gridbench_pbpm.plots import simulation_chart

        try:
            simulation_chart(result, png_path)
        except OSError as exc:
            _fail(f"cannot write {png_path}: {exc.strerror or exc}")
        click.echo(f"chart written to {png_path}")
