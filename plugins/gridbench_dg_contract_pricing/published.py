"""The published Tables 2-7 (reference_results/dg_contract_pricing.toml) and their identities.

This module reads the reference file back (single source of truth) and checks the tables' own
identities with interval arithmetic on each printed number's precision: no solver involved.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bench.api import data_dir

CAPACITY_MW = 1.5
HOURS = 8760.0
LOPEZ = "Lopez-Lezama et al. 2011"
SCENARIOS = {"dg34_scenario_A": "A", "dg34_scenario_B": "B", "dg34_scenario_C": "C"}


@dataclass(frozen=True)
class Printed:
    """A printed number and its rounding half-width (half a unit of its last digit)."""

    value: float
    half: float
    where: str

    @property
    def lo(self) -> float:
        return self.value - self.half

    @property
    def hi(self) -> float:
        return self.value + self.half


@dataclass(frozen=True)
class Finding:
    identity: str
    where: str
    holds: bool
    detail: str


def reference_path() -> Path:
    return data_dir("reference_results") / "dg_contract_pricing.toml"


def load_published(path: Path | None = None) -> dict[tuple[str, str], dict[str, Printed]]:
    """(case, source) -> quantity -> Printed, read from the reference file."""
    raw = tomllib.loads((path or reference_path()).read_text())
    out: dict[tuple[str, str], dict[str, Printed]] = {}
    for group in raw["reference"]:
        key = (group["case"], group.get("source", ""))
        table = out.setdefault(key, {})
        for name, entry in group["quantities"].items():
            # the tolerance is half a unit of the printed number's last digit
            table[name] = Printed(entry["value"], entry["tolerance"]["abs"], entry["where"])
    return out


def _interval_mul(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    products = [x * y for x in a for y in b]
    return min(products), max(products)


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _profit_interval(price: Printed, cf: Printed, cost: float) -> tuple[float, float]:
    margin = (price.lo - cost, price.hi - cost)
    energy = (CAPACITY_MW * HOURS * cf.lo / 100, CAPACITY_MW * HOURS * cf.hi / 100)
    return _interval_mul(margin, energy)


def _sum_interval(items: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(i[0] for i in items), sum(i[1] for i in items)


def _pct(value: float) -> str:
    return f"{value:.4f}"


def check_published_tables(path: Path | None = None) -> list[Finding]:
    """Every identity of Tables 2-7 with its verdict (holds = within printed rounding)."""
    pub = load_published(path)
    findings: list[Finding] = []

    def add(identity: str, where: str, computed: tuple[float, float], printed: Printed) -> None:
        holds = _overlap(computed, (printed.lo, printed.hi))
        findings.append(Finding(identity, where, holds,
                                f"computed [{computed[0]:,.4f}, {computed[1]:,.4f}] vs "
                                f"printed {printed.value:,.4f} +- {printed.half:g}"))

    for case, scen in SCENARIOS.items():
        own, lopez = pub[(case, "")], pub[(case, LOPEZ)]
        profits = []
        for dg in ("gd1", "gd2"):
            interval = _profit_interval(own[f"price_{dg}"], own[f"capacity_factor_{dg}"], 60.0)
            add(f"profit_{dg} = (price - 60) x 1.5 x 8760 x CF", f"Table 2, GD{dg[-1]}, "
                f"Cenario {scen}", interval, own[f"profit_{dg}"])
            profits.append((own[f"profit_{dg}"].lo, own[f"profit_{dg}"].hi))
        add("Total = GD1 + GD2", f"Table 2, Total, Cenario {scen}", _sum_interval(profits),
            own["profit_total"])
        lopez_profit = _sum_interval([
            _profit_interval(lopez[f"price_{dg}"], lopez[f"capacity_factor_{dg}"], 60.0)
            for dg in ("gd1", "gd2")])
        add("Total[*] = sum (price* - 60) x 1.5 x 8760 x CF*",
            f"Table 2, Total [*], Cenario {scen}", lopez_profit, lopez["profit_total"])
        tot, tot_l = own["profit_total"], lopez["profit_total"]
        add("Diferenca = Total / Total[*] - 1 (%)", f"Table 2, Diferenca, Cenario {scen}",
            (100 * (tot.lo / tot_l.hi - 1), 100 * (tot.hi / tot_l.lo - 1)),
            own["percent_profit_difference"])
        without, with_dg = own["payment_without_dg"], own["payment_with_dg"]
        add("Economia = Sem GD - Com GD", f"Table 5, Economia, Cenario {scen}",
            (without.lo - with_dg.hi, without.hi - with_dg.lo), own["saving"])
        sav, sav_l = own["saving"], lopez["saving"]
        add("Diferenca = Economia / Economia[*] - 1 (%)", f"Table 5, Diferenca, Cenario {scen}",
            (100 * (sav.lo / sav_l.hi - 1), 100 * (sav.hi / sav_l.lo - 1)),
            own["percent_saving_difference"])
    own = pub[("dg85", "")]
    profits = []
    for k in (1, 2, 3):
        add(f"profit_gd{k} = (price - 55) x 1.5 x 8760 x CF", f"Table 6, GD{k}",
            _profit_interval(own[f"price_gd{k}"], own[f"capacity_factor_gd{k}"], 55.0),
            own[f"profit_gd{k}"])
        profits.append((own[f"profit_gd{k}"].lo, own[f"profit_gd{k}"].hi))
    add("Total = GD1 + GD2 + GD3", "Table 6, Total", _sum_interval(profits), own["profit_total"])
    without, with_dg, sav = own["payment_without_dg"], own["payment_with_dg"], own["saving"]
    add("Economia = Sem GD - Com GD", "Table 7, Economia",
        (without.lo - with_dg.hi, without.hi - with_dg.lo), sav)
    add("saving % = Economia / Sem GD (text '3,70%')", "Table 7 text (line before the table)",
        (100 * sav.lo / without.hi, 100 * sav.hi / without.lo), own["percent_saving"])
    return findings


def findings_report(findings: list[Finding]) -> str:
    lines = ["Published-table self-consistency (Tables 2-7, interval arithmetic on printed "
             "precision):"]
    for f in findings:
        mark = "ok   " if f.holds else "BREAK"
        lines.append(f"  {mark} {f.where}: {f.identity}; {f.detail}")
    broken = [f for f in findings if not f.holds]
    lines.append(f"{len(findings)} identities checked, {len(broken)} broken beyond rounding")
    return "\n".join(lines)
