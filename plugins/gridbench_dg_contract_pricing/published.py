"""The published tables of the thesis and their identities, checked without a solver.

* `check_published_tables`: Tables 2-7 as held by reference_results/dg_contract_pricing.toml
  (the values the runs are compared with), 27 identities.
* `check_thesis_tables`: every identity of the printed Tables 2-63 (and the text percentages
  derived from them), from thesis_tables.json beside this module, a copy of the seed's cells
  with their seed lines. Interval arithmetic on each printed number's precision; a percentage
  may hold only truncated. docs/dg_published_check.md lists the broken ones as probable errata.
"""

from __future__ import annotations

import json
import math
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


# ---------------------------------------------------------------------------------------------
# Tables 2-63: every identity the printed numbers obey (thesis_tables.json, copied from the seed)
# ---------------------------------------------------------------------------------------------

TABLES_FILE = Path(__file__).with_name("thesis_tables.json")
INF = float("inf")
HOLDS, HOLDS_TRUNCATED, BROKEN = "holds", "holds_truncated", "broken"


@dataclass(frozen=True)
class Cell:
    """One printed cell: its text as printed, value, and interval from its printed precision."""

    table: str
    row: str
    column: str
    text: str
    line: int

    @property
    def value(self) -> float:
        s = self.text.strip().rstrip("%").replace(".", "").replace(",", ".")
        return float(s)

    @property
    def decimals(self) -> int:
        s = self.text.strip().rstrip("%")
        return len(s.split(",")[1]) if "," in s else 0

    @property
    def half(self) -> float:
        return 0.5 * 10.0 ** -self.decimals

    @property
    def percent(self) -> bool:
        return self.text.strip().endswith("%")

    @property
    def iv(self) -> Iv:
        return Iv(self.value - self.half, self.value + self.half)

    def describe(self) -> dict:
        return {"table": self.table, "row": self.row, "column": self.column,
                "printed": self.text, "line": self.line}


@dataclass(frozen=True)
class Iv:
    """A closed interval [lo, hi] with the arithmetic of intervals."""

    lo: float
    hi: float

    @staticmethod
    def of(x: Iv | float) -> Iv:
        return x if isinstance(x, Iv) else Iv(float(x), float(x))

    def __add__(self, other: Iv | float) -> Iv:
        o = Iv.of(other)
        return Iv(self.lo + o.lo, self.hi + o.hi)

    __radd__ = __add__

    def __sub__(self, other: Iv | float) -> Iv:
        o = Iv.of(other)
        return Iv(self.lo - o.hi, self.hi - o.lo)

    def __rsub__(self, other: Iv | float) -> Iv:
        return Iv.of(other) - self

    def __mul__(self, other: Iv | float) -> Iv:
        o = Iv.of(other)
        p = [self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi]
        return Iv(min(p), max(p))

    __rmul__ = __mul__

    def __truediv__(self, other: Iv | float) -> Iv:
        o = Iv.of(other)
        if o.lo <= 0 <= o.hi:
            raise ZeroDivisionError("interval divisor contains 0")
        return self * Iv(1 / o.hi, 1 / o.lo)

    def overlaps(self, other: Iv) -> bool:
        return self.lo <= other.hi and other.lo <= self.hi


@dataclass(frozen=True)
class Identity:
    """One identity of the printed tables and its verdict."""

    table: str  # the table number as printed ("28"), or "7 text" for a number in the text
    identity: str  # readable formula
    cells: tuple[Cell, ...]  # the cells it uses, the checked (printed) cell last
    expected: Iv  # the interval the identity allows for the printed cell
    printed: Cell
    verdict: str
    note: str = ""

    def as_dict(self) -> dict:
        def num(x: float) -> float | None:
            return None if x in (INF, -INF) else round(x, 6)

        out = {"table": self.table, "identity": self.identity,
               "cells": [c.describe() for c in self.cells],
               "expected": [num(self.expected.lo), num(self.expected.hi)],
               "printed": self.printed.value, "printed_as": self.printed.text,
               "line": self.printed.line, "verdict": self.verdict}
        if self.note:
            out["note"] = self.note
        return out


def verdict_of(expected: Iv, printed: Cell) -> str:
    """`holds` if the expected interval meets the printed value's rounding interval; for a
    percentage `holds_truncated` if it only meets the truncation interval ([v, v + 10^-d) for
    v >= 0, (v - 10^-d, v] for v < 0); `broken` otherwise."""
    if expected.overlaps(printed.iv):
        return HOLDS
    if printed.percent:
        v, unit = printed.value, 2 * printed.half
        truncated = Iv(v, v + unit) if v >= 0 else Iv(v - unit, v)
        if expected.overlaps(truncated):
            return HOLDS_TRUNCATED
    return BROKEN


class ThesisTables:
    """thesis_tables.json with cells addressed by (table, row label, column label)."""

    def __init__(self, path: Path | None = None):
        raw = json.loads((path or TABLES_FILE).read_text(encoding="utf-8"))
        self.constants = {k: v["value"] for k, v in raw["constants"].items()}
        self.constant_lines = {k: v["lines"] for k, v in raw["constants"].items()}
        self.text = raw["text"]
        self.cells: dict[tuple[str, str, str], Cell] = {}
        self.captions = {n: (t["caption"], t["line"]) for n, t in raw["tables"].items()}
        for number, table in raw["tables"].items():
            self._index(number, table["rows"])

    @staticmethod
    def _is_number(text: str) -> bool:
        s = text.strip().rstrip("%").lstrip("+-").replace(".", "").replace(",", "")
        return s.isdigit()

    def _index(self, number: str, rows: list[dict]) -> None:
        n_header = 0
        for row in rows:
            if any(self._is_number(c) for c in row["cells"][1:]):
                break
            n_header += 1
        width = max(len(r["cells"]) for r in rows)
        columns = []
        for j in range(width):
            parts = []
            for row in rows[:n_header]:
                cells = row["cells"] + [""] * (width - len(row["cells"]))
                text = cells[j].strip()
                if not text and j > 0 and row is rows[0]:  # merged header: fill forward
                    k = j
                    while k > 0 and not cells[k].strip():
                        k -= 1
                    text = cells[k].strip() if k > 0 else ""
                if text:
                    parts.append(text)
            columns.append(" / ".join(parts) or "value")
        previous = ""
        for row in rows[n_header:]:
            cells = row["cells"]
            labels = []
            for j, text in enumerate(cells):
                if j > 0 and (self._is_number(text) or not text.strip()):
                    break
                labels.append(text.strip())
            if not labels[0]:
                labels[0] = previous
            previous = labels[0]
            label = " / ".join(x for x in labels if x)
            for j in range(len(labels), len(cells)):
                if cells[j].strip():
                    key = (number, label, columns[j])
                    assert key not in self.cells, key
                    self.cells[key] = Cell(number, label, columns[j], cells[j].strip(),
                                           row["line"])

    def __call__(self, table: str | int, row: str, column: str) -> Cell:
        return self.cells[(str(table), row, column)]

    def column(self, table: str | int, prefix: str) -> str:
        """The one column label of `table` that starts with `prefix`."""
        (label,) = {col for (tab, _, col) in self.cells
                    if tab == str(table) and col.startswith(prefix)}
        return label

    def cells_row(self, table: str | int, group: str, quantity: str) -> dict[str, Cell]:
        """column -> Cell of the row "<group> / <quantity>..." (energy tables)."""
        prefix = f"{group} / {quantity}"
        out = {col: cell for (tab, row, col), cell in self.cells.items()
               if tab == str(table) and row.startswith(prefix)}
        assert out, (table, prefix)
        return out

    def text_cell(self, key: str, index: int | None = None) -> Cell:
        entry = self.text[key]
        text = entry["printed"] if index is None else entry["printed"][index]
        return Cell(key, "text", "", text, entry["line"])


class _Checker:
    def __init__(self, tables: ThesisTables):
        self.t = tables
        self.out: list[Identity] = []

    def add(self, table: str, identity: str, inputs: list[Cell], expected: Iv, printed: Cell,
            note: str = "") -> None:
        # an identity belongs to the table of the cell it checks (`table` only names the source)
        self.out.append(Identity(printed.table, identity, (*inputs, printed), expected, printed,
                                 verdict_of(expected, printed), note))

    # --- the kinds of identity ---------------------------------------------------------
    @staticmethod
    def grid(price: Cell) -> float:
        """A thesis contract price is a point of its stated grid of 1 EUR/MWh steps (e.g. '30
        passos com valor menor de 65 €/MWh e um valor maior de 95', L1992; PRICE_GRID_LINES), so
        a printed '79,0' is exactly 79."""
        assert price.value == round(price.value), price
        return price.value

    def profit(self, table, where, price: Cell, cf: Cell, profit: Cell, cost: float) -> None:
        energy = 1.5 * 8760.0 / 100 * cf.iv  # MWh
        self.add(table, f"{where}: profit = (price - {cost:g}) x 1.5 MW x 8760 h x CF",
                 [price, cf], (self.grid(price) - cost) * energy, profit)

    def profit_from_energy(self, table, where, price: Cell, energy: Cell, profit: Cell,
                           cost: float) -> None:
        self.add(table, f"{where}: profit = (price - {cost:g}) x active energy [kWh] / 1000 "
                 f"(energy of Table {energy.table})",
                 [price, energy], (self.grid(price) - cost) * energy.iv / 1000.0, profit)

    def cf_from_energy(self, table, where, energy: Cell, cf: Cell) -> None:
        self.add(table, f"{where}: CF (Table {cf.table}) from Table {energy.table}: "
                 "CF = active energy [kWh] / (1500 kW x 8760 h) x 100",
                 [energy], energy.iv / (1500.0 * 8760.0) * 100.0, cf)

    def reactive(self, table, where, active: Cell, reactive: Cell) -> None:
        tan_phi = math.tan(math.acos(self.t.constants["power_factor"]))
        self.add(table, f"{where}: Q = P x tan(acos 0.92) (= 0.42600 P)", [active],
                 active.iv * tan_phi, reactive)

    def total(self, table, where, parts: list[Cell], total: Cell) -> None:
        self.add(table, f"{where}: total = " + " + ".join(c.row if c.row != total.row
                                                          else c.column for c in parts),
                 parts, sum((c.iv for c in parts), Iv(0.0, 0.0)), total)

    def present_value(self, table, where, stage: int, nominal: Cell, pv: Cell) -> None:
        factor = self.t.constants["pv_factors"][stage - 1]
        self.add(table, f"{where}: present value = nominal x {factor:g} (stage {stage})",
                 [nominal], nominal.iv * factor, pv)

    def saving(self, table, where, without: Cell, with_dg: Cell, saving: Cell) -> None:
        self.add(table, f"{where}: saving = without DG - with DG", [without, with_dg],
                 without.iv - with_dg.iv, saving)

    def difference(self, table, where, new: Cell, old: Cell, pct: Cell, formula: str) -> None:
        self.add(table, f"{where}: {formula}", [new, old], (new.iv / old.iv - 1.0) * 100.0, pct)

    def copy(self, table, where, original: Cell, copy: Cell) -> None:
        self.add(table, f"{where}: copy of Table {original.table} ({original.row} / "
                 f"{original.column})" if original.row != "text" else
                 f"{where}: copy of the text at seed line {original.line}",
                 [original], original.iv, copy)

    def at_least(self, table, where, smaller: Cell, larger: Cell, reason: str) -> None:
        self.add(table, f"{where} (nesting: more freedom on the same data)", [smaller],
                 Iv(smaller.iv.lo, INF), larger, note=reason)


# seed lines stating the contract-price grids (1 EUR/MWh steps) of every chapter and system
PRICE_GRID_LINES = (1992, 2091, 2451, 2535, 3069, 3184, 3435, 3511, 3747, 3833, 4098, 4198,
                    4472, 4576)
SCEN = ("Cenário A", "Cenário B", "Cenário C")
STAGES = ("Estágio 1", "Estágio 2", "Estágio 3")
GD2 = ("GD1", "GD2")
GD3 = ("GD1", "GD2", "GD3")


def _chapter4(k: _Checker) -> None:
    t, c34, c85 = k.t, 60.0, 55.0
    for s in SCEN:
        for g in GD2:
            k.profit("2", f"{g}, {s}", t(3, g, f"{s} / Proposto"), t(4, g, f"{s} / Proposto"),
                     t(2, g, s), c34)
        k.total("2", s, [t(2, g, s) for g in GD2], t(2, "Total", s))
        lopez = [k.t(3, g, f"{s} / [*]") for g in GD2] + [k.t(4, g, f"{s} / [*]") for g in GD2]
        energy = [1.5 * 8760.0 / 100 * cf.iv for cf in lopez[2:]]
        k.add("2", f"Total [*], {s}: Total[*] = sum (price[*] - 60) x 1.5 MW x 8760 h x CF[*]",
              lopez, (lopez[0].iv - c34) * energy[0] + (lopez[1].iv - c34) * energy[1],
              t(2, "Total [*]", s))
        k.difference("2", f"Diferença, {s}", t(2, "Total", s), t(2, "Total [*]", s),
                     t(2, "Diferença", s), "Diferença = Total / Total[*] - 1 (%)")
        k.saving("5", s, t(5, "Sem GD", s), t(5, "Com GD", s), t(5, "Economia", s))
        k.difference("5", f"Diferença, {s}", t(5, "Economia", s), t(5, "Economia [*]", s),
                     t(5, "Diferença", s), "Diferença = Economia / Economia[*] - 1 (%)")
    k.difference("2 text", "Scenario C (seed line 1996, 'lucros de até 41% no Cenário C')",
                 t(2, "Total", "Cenário C"), t(2, "Total [*]", "Cenário C"),
                 t.text_cell("2 text"), "text % = Total / Total[*] - 1 (Table 2)")
    for g in GD3:
        k.profit("6", g, t(6, g, "PC [€/MWh]"), t(6, g, "FC [%]"), t(6, g, "Lucros [€]"), c85)
    k.total("6", "Lucros", [t(6, g, "Lucros [€]") for g in GD3], t(6, "Total", "Lucros [€]"))
    col = "Total de Pagamentos"
    k.saving("7", "Economia", t(7, "Sem GD", col), t(7, "Com GD", col), t(7, "Economia", col))
    k.add("7 text", "seed line 2113 ('a economia foi de 167.801,84 €, ou seja, 3,70%'): "
          "text % = Economia / Sem GD (Table 7)", [t(7, "Economia", col), t(7, "Sem GD", col)],
          t(7, "Economia", col).iv / t(7, "Sem GD", col).iv * 100.0, t.text_cell("7 text"))


def _multistage_profits(k: _Checker, table: str, price, cf, gds, cost: float,
                        pv_row: str, other_pv_row: str | None = None,
                        other_table: str | None = None, other_row: str = "Valor Presente",
                        energy=None) -> None:
    """Profit tables of chapters 5, 8, 10: profit per DG and stage, stage totals, present values,
    their sum; the copied present-value row of the earlier chapter and the differences."""
    t = k.t
    for e, s in enumerate(STAGES, start=1):
        for g in gds:
            k.profit(table, f"{g}, {s}", price(g, s), cf(g, s), t(table, g, s), cost)
            if energy is not None:
                k.profit_from_energy(table, f"{g}, {s}", price(g, s), energy(g, s),
                                     t(table, g, s), cost)
        k.total(table, s, [t(table, g, s) for g in gds], t(table, "Total", s))
        k.present_value(table, s, e, t(table, "Total", s), t(table, pv_row, s))
    k.total(table, "present value", [t(table, pv_row, s) for s in STAGES],
            t(table, pv_row, "TOTAL"))
    if other_pv_row is None:
        return
    for s in (*STAGES, "TOTAL"):
        k.copy(table, f"{other_pv_row}, {s}", t(other_table, other_row, s),
               t(table, other_pv_row, s))
        k.difference(table, f"Diferença, {s}", t(table, pv_row, s), t(table, other_pv_row, s),
                     t(table, "Diferença", s), f"Diferença = {pv_row} / {other_pv_row} - 1 (%)")


def _payments(k: _Checker, table: str, row: str, other_row: str | None = None,
              other_table: str | None = None, original_row: str | None = None) -> None:
    """Multistage payment tables (present value per stage): total = sum of the stages; the
    copied row of the earlier chapter and the differences."""
    t = k.t
    if table in ("11", "15"):
        k.total(table, "present value", [t(table, s, "Pagamentos") for s in STAGES],
                t(table, "Total valor presente", "Pagamentos"))
        return
    total = t.column(table, "Total")  # printed "Total(Valor Presente)" or "Total (Valor ..."
    k.total(table, f"{row}, present value", [t(table, row, s) for s in STAGES],
            t(table, row, total))
    for s in (*STAGES, total):
        if other_table in ("11", "15"):
            original = t(other_table, "Total valor presente" if s == total else s, "Pagamentos")
        else:
            original = t(other_table, original_row,
                         t.column(other_table, "Total") if s == total else s)
        k.copy(table, f"{other_row}, {s}", original, t(table, other_row, s))
        k.difference(table, f"Diferença, {s}", t(table, row, s), t(table, other_row, s),
                     t(table, "Diferença", s), f"Diferença = {row} / {other_row} - 1 (%)")


def _energy_34(k: _Checker, table: str, groups, price, cf, profit, cost: float) -> None:
    """Energy tables of the 34-bus PQ chapters (rows scenario/stage x active/reactive)."""
    t = k.t
    for grp in groups:
        act, rea = t.cells_row(table, grp, "Ativa"), t.cells_row(table, grp, "Reativa")
        for g in GD2:
            where = f"{grp}, {g}"
            k.cf_from_energy(table, where, act[g], cf(g, grp))
            k.reactive(table, where, act[g], rea[g])
            k.profit_from_energy(table, where, price(g, grp), act[g], profit(g, grp), cost)
        k.total(table, f"{grp}, active", [act[g] for g in GD2], act["Total"])
        k.total(table, f"{grp}, reactive", [rea[g] for g in GD2], rea["Total"])


def _ch5(k: _Checker) -> None:
    t = k.t
    _multistage_profits(k, "8", lambda g, s: t(9, g, "[€/MWh]"), lambda g, s: t(10, g, s), GD2,
                        60.0, "Valor Presente")
    _payments(k, "11", "")
    _multistage_profits(k, "12", lambda g, s: t(13, g, "[€/MWh]"), lambda g, s: t(14, g, s),
                        GD3, 55.0, "Valor Presente")
    _payments(k, "15", "")


def _ch6(k: _Checker) -> None:
    t = k.t
    pq = "Modelo PQ"
    for s in SCEN:
        for g in GD2:
            k.profit("16", f"{g}, {s}", t(17, g, f"{s} / {pq}"), t(18, g, f"{s} / {pq}"),
                     t(16, g, s), 60.0)
            for tab, orig in (("17", "3"), ("18", "4")):
                k.copy(tab, f"{g}, {s} / Modelo P", t(orig, g, f"{s} / Proposto"),
                       t(tab, g, f"{s} / Modelo P"))
        k.total("16", s, [t(16, g, s) for g in GD2], t(16, "Total Modelo PQ", s))
        k.copy("16", f"Total Modelo P, {s}", t(2, "Total", s), t(16, "Total Modelo P", s))
        k.difference("16", f"Diferença, {s}", t(16, "Total Modelo PQ", s),
                     t(16, "Total Modelo P", s), t(16, "Diferença", s),
                     "Diferença = Total Modelo PQ / Total Modelo P - 1 (%)")
        k.copy("19", f"Modelo P, {s}", t(5, "Com GD", s), t(19, "Modelo P", s))
        k.difference("19", f"Diferença, {s}", t(19, "Modelo PQ", s), t(19, "Modelo P", s),
                     t(19, "Diferença", s), "Diferença = Modelo PQ / Modelo P - 1 (%)")
    _energy_34(k, "20", SCEN, lambda g, s: t(17, g, f"{s} / {pq}"),
               lambda g, s: t(18, g, f"{s} / {pq}"), lambda g, s: t(16, g, s), 60.0)
    # 85-bus
    for g in GD3:
        k.copy("21", f"{g}, Barra", t(6, g, "Barra"), t(21, g, "Barra"))
        k.copy("21", f"{g}, PC Modelo P", t(6, g, "PC [€/MWh]"), t(21, g, "PC [€/MWh] / Modelo P"))
        k.copy("21", f"{g}, FC Modelo P", t(6, g, "FC [%]"), t(21, g, "FC [%] / Modelo P"))
        k.copy("22", f"{g}, Modelo P", t(6, g, "Lucros [€]"), t(22, g, "Modelo P"))
        price, cf = t(21, g, "PC [€/MWh] / Modelo PQ"), t(21, g, "FC [%] / Modelo PQ")
        k.profit("22", f"{g}, Modelo PQ", price, cf, t(22, g, "Modelo PQ"), 55.0)
        act, rea = t(24, g, "Ativa [kWh]"), t(24, g, "Reativa [kVArh]")
        k.cf_from_energy("24", g, act, cf)
        k.reactive("24", g, act, rea)
        k.profit_from_energy("24", g, price, act, t(22, g, "Modelo PQ"), 55.0)
    k.copy("22", "Total, Modelo P", t(6, "Total", "Lucros [€]"), t(22, "Total", "Modelo P"))
    k.total("22", "Modelo PQ", [t(22, g, "Modelo PQ") for g in GD3], t(22, "Total", "Modelo PQ"))
    for q in ("Ativa [kWh]", "Reativa [kVArh]"):
        k.total("24", q, [t(24, g, q) for g in GD3], t(24, "Total", q))
    k.copy("23", "Modelo P", t(7, "Com GD", "Total de Pagamentos"), t(23, "Modelo P", "value"))
    k.difference("23", "Diferença", t(23, "Modelo PQ", "value"), t(23, "Modelo P", "value"),
                 t(23, "Diferença", "value"), "Diferença = Modelo PQ / Modelo P - 1 (%)")
    k.difference("22 text", "seed line 3198 ('o lucro foi 15% maior no Modelo P')",
                 t(22, "Total", "Modelo P"), t(22, "Total", "Modelo PQ"), t.text_cell("22 text"),
                 "text % = Total Modelo P / Total Modelo PQ - 1 (Table 22)")


def _ch7(k: _Checker) -> None:
    t = k.t
    for s in SCEN:
        for g in GD2:
            k.profit("25", f"{g}, {s}", t(26, g, f"{s} / Preços"), t(27, g, s), t(25, g, s), 60.0)
        k.total("25", s, [t(25, g, s) for g in GD2], t(25, "Total", s))
        k.copy("28", f"Sem GD, {s}", t(5, "Sem GD", s), t(28, "Sem GD", s))
        k.saving("28", s, t(28, "Sem GD", s), t(28, "Com GD", s), t(28, "Economia", s))
    k.difference("25 text", "Scenario C (seed line 3450, 'chegando a 0,6% para o Cenário C')",
                 t(25, "Total", "Cenário C"), t(2, "Total", "Cenário C"), t.text_cell("25 text"),
                 "text % = Total (Table 25) / Total (Table 2) - 1")
    for g in GD3:
        k.profit("29", g, t(29, g, "PC [€/MWh]"), t(29, g, "FC [%]"), t(29, g, "Lucros [€]"), 55.0)
    k.total("29", "Lucros", [t(29, g, "Lucros [€]") for g in GD3], t(29, "Total", "Lucros [€]"))
    col = "Total de Pagamentos"
    k.copy("30", "Sem GD", t(7, "Sem GD", col), t(30, "Sem GD", col))
    k.saving("30", "Economia", t(30, "Sem GD", col), t(30, "Com GD", col), t(30, "Economia", col))
    k.difference("29 text", "seed line 3515 ('4,39% mais elevados que os lucros totais relatados "
                 "no Capítulo 4')", t(29, "Total", "Lucros [€]"), t(6, "Total", "Lucros [€]"),
                 t.text_cell("29 text"), "text % = Total (Table 29) / Total (Table 6) - 1")


def _ch8(k: _Checker) -> None:
    t = k.t
    _multistage_profits(k, "31", lambda g, s: t(32, g, f"{s} / Atual"),
                        lambda g, s: t(34, g, f"{s} / Atual"), GD2, 60.0, "Valor Presente Atual",
                        "Valor Presente Cap.5", "8")
    for g in GD2:
        for s in STAGES:
            k.copy("32", f"{g}, {s} / Cap.5", t(9, g, "[€/MWh]"), t(32, g, f"{s} / Cap.5"))
            k.copy("34", f"{g}, {s} / Cap.5", t(10, g, s), t(34, g, f"{s} / Cap.5"))
    for i, g in enumerate(GD2):
        k.copy("33", f"{g}, Cap.5", t.text_cell("5 locations", i), t(33, g, "Cap.5"))
    _payments(k, "35", "Modelo Atual", "Modelo Cap.5", "11")
    _multistage_profits(k, "36", lambda g, s: t(37, g, f"{s} / Atual"),
                        lambda g, s: t(39, g, f"{s} / Atual"), GD3, 55.0, "Valor Presente Atual",
                        "Valor Presente Cap.5", "12")
    for g in GD3:
        for s in STAGES:
            k.copy("37", f"{g}, {s} / Cap.5", t(13, g, "[€/MWh]"), t(37, g, f"{s} / Cap.5"))
            k.copy("39", f"{g}, {s} / Cap.5", t(14, g, s), t(39, g, f"{s} / Cap.5"))
    for i, g in enumerate(GD3):
        k.copy("38", f"{g}, Cap.5", t.text_cell("5 locations 85", i), t(38, g, "Cap.5"))
    _payments(k, "40", "Modelo Atual", "Modelo Cap.5", "15")


def _ch9(k: _Checker) -> None:
    t = k.t
    for s in SCEN:
        for g in GD2:
            k.profit("41", f"{g}, {s}", t(42, g, f"{s} / Atual"), t(44, g, f"{s} / Atual"),
                     t(41, g, s), 60.0)
            k.copy("42", f"{g}, {s} / Cap. 7", t(26, g, f"{s} / Preços"),
                   t(42, g, f"{s} / Cap. 7"))
            k.copy("43", f"{g}, {s} / Cap. 7", t(26, g, f"{s} / Barra"),
                   t(43, g, f"{s} / Cap. 7"))
            k.copy("44", f"{g}, {s} / Cap. 7", t(27, g, s), t(44, g, f"{s} / Cap. 7"))
        k.total("41", s, [t(41, g, s) for g in GD2], t(41, "Total Modelo Atual", s))
        k.copy("41", f"Total Modelo Cap. 7, {s}", t(25, "Total", s),
               t(41, "Total Modelo Cap. 7", s))
        k.difference("41", f"Diferença, {s}", t(41, "Total Modelo Atual", s),
                     t(41, "Total Modelo Cap. 7", s), t(41, "Diferença", s),
                     "Diferença = Total Modelo Atual / Total Modelo Cap. 7 - 1 (%)")
        k.copy("45", f"Modelo Cap.7, {s}", t(28, "Com GD", s), t(45, "Modelo Cap.7", s))
        k.difference("45", f"Diferença, {s}", t(45, "Modelo Atual", s), t(45, "Modelo Cap.7", s),
                     t(45, "Diferença", s), "Diferença = Modelo Atual / Modelo Cap.7 - 1 (%)")
    _energy_34(k, "46", SCEN, lambda g, s: t(42, g, f"{s} / Atual"),
               lambda g, s: t(44, g, f"{s} / Atual"), lambda g, s: t(41, g, s), 60.0)
    for g in GD3:
        k.copy("47", f"{g}, Cap.7 Barra", t(29, g, "Barra"), t(47, g, "Modelo Cap.7 / Barra"))
        k.copy("47", f"{g}, Cap.7 Preço", t(29, g, "PC [€/MWh]"),
               t(47, g, "Modelo Cap.7 / Preço"))
        k.copy("48", f"{g}, Modelo Cap.7", t(29, g, "FC [%]"), t(48, g, "Modelo Cap.7"))
        k.copy("49", f"{g}, Modelo Cap.7", t(29, g, "Lucros [€]"), t(49, g, "Modelo Cap.7"))
        price, cf = t(47, g, "Modelo Atual / Preço"), t(48, g, "Modelo Atual")
        k.profit("49", f"{g}, Modelo Atual", price, cf, t(49, g, "Modelo Atual"), 55.0)
        act, rea = t(51, g, "Ativa [kWh]"), t(51, g, "Reativa [kVArh]")
        k.cf_from_energy("51", g, act, cf)
        k.reactive("51", g, act, rea)
        k.profit_from_energy("51", g, price, act, t(49, g, "Modelo Atual"), 55.0)
    k.copy("49", "Total, Modelo Cap.7", t(29, "Total", "Lucros [€]"),
           t(49, "Total", "Modelo Cap.7"))
    k.total("49", "Modelo Atual", [t(49, g, "Modelo Atual") for g in GD3],
            t(49, "Total", "Modelo Atual"))
    for q in ("Ativa [kWh]", "Reativa [kVArh]"):
        k.total("51", q, [t(51, g, q) for g in GD3], t(51, "Total", q))
    k.copy("50", "Modelo Cap.7", t(30, "Com GD", "Total de Pagamentos"),
           t(50, "Modelo Cap.7", "value"))
    k.difference("50", "Diferença", t(50, "Modelo Atual", "value"), t(50, "Modelo Cap.7", "value"),
                 t(50, "Diferença", "value"), "Diferença = Modelo Atual / Modelo Cap.7 - 1 (%)")
    k.difference("49 text", "seed line 4223 ('o lucro foi 19,39% maior no Modelo Cap.7')",
                 t(49, "Total", "Modelo Cap.7"), t(49, "Total", "Modelo Atual"),
                 t.text_cell("49 text"), "text % = Total Modelo Cap.7 / Total Modelo Atual - 1")


def _ch10(k: _Checker) -> None:
    t = k.t
    _multistage_profits(k, "52", lambda g, s: t(53, g, f"{s} / Atual"),
                        lambda g, s: t(55, g, f"{s} / Atual"), GD2, 60.0, "Valor Presente Atual",
                        "Valor Presente Cap.8", "31", "Valor Presente Atual")
    for g in GD2:
        for s in STAGES:
            k.copy("53", f"{g}, {s} / Cap.8", t(32, g, f"{s} / Atual"), t(53, g, f"{s} / Cap.8"))
            k.copy("55", f"{g}, {s} / Cap.8", t(34, g, f"{s} / Atual"), t(55, g, f"{s} / Cap.8"))
        k.copy("54", f"{g}, Cap.8", t(33, g, "Atual"), t(54, g, "Cap.8"))
    _payments(k, "56", "Modelo Atual", "Modelo Cap.8", "35", "Modelo Atual")
    _energy_34(k, "57", STAGES, lambda g, s: t(53, g, f"{s} / Atual"),
               lambda g, s: t(55, g, f"{s} / Atual"), lambda g, s: t(52, g, s), 60.0)
    _multistage_profits(k, "58", lambda g, s: t(60, g, f"{s} / Atual"),
                        lambda g, s: t(61, g, f"{s} / Atual"), GD3, 55.0, "Valor Presente Atual",
                        "Valor Presente Cap.8", "36", "Valor Presente Atual")
    for g in GD3:
        for s in STAGES:
            k.copy("60", f"{g}, {s} / Cap.8", t(37, g, f"{s} / Atual"), t(60, g, f"{s} / Cap.8"))
            k.copy("61", f"{g}, {s} / Cap.8", t(39, g, f"{s} / Atual"), t(61, g, f"{s} / Cap.8"))
        k.copy("59", f"{g}, Cap.8", t(38, g, "Atual"), t(59, g, "Cap.8"))
    _payments(k, "62", "Modelo Atual", "Modelo Cap.8", "40", "Modelo Atual")
    for grp in STAGES:
        act = t.cells_row(63, grp, "Ativa")
        rea = t.cells_row(63, grp, "Reativa")
        for g in GD3:
            price = t(60, g, f"{grp} / Atual")
            k.cf_from_energy("63", f"{grp}, {g}", act[g], t(61, g, f"{grp} / Atual"))
            k.reactive("63", f"{grp}, {g}", act[g], rea[g])
            k.profit_from_energy("63", f"{grp}, {g}", price, act[g], t(58, g, grp), 55.0)
        k.total("63", f"{grp}, active", [act[g] for g in GD3], act["Total"])
        k.total("63", f"{grp}, reactive", [rea[g] for g in GD3], rea["Total"])


# Nesting: on the same data a model with more freedom cannot earn less (optimal solves). Only the
# pairs whose data the thesis states to be the same; the reason is kept with each identity.
NESTING_REASONS = {
    "7>=4 34": "ch. 7 (L3435-3439) restates ch. 4's 34-bus data (L1992-1994: grid 65-95 in 30 "
               "steps, 1.5 MW, 60 EUR/MWh, 9.00-11.00 kV, annual scenarios A/B/C) with every bus a "
               "candidate (so 17 and 24 too, w^max = 2), and Table 28 prints the same no-DG "
               "payments as Table 5 to the cent: ch. 4's solution is feasible in ch. 7",
    "7>=4 85": "ch. 7 (L3511-3513) restates ch. 4's 85-bus data (L2091: grid 60-70 in 10 steps, "
               "wholesale 60.0 EUR/MWh all year, 1.5 MW, 55 EUR/MWh, 9.00-11.00 kV) with every "
               "bus a candidate (27, 60, 81 too, w^max = 3), and Table 30 prints Table 7's no-DG "
               "payment: ch. 4's solution is feasible in ch. 7",
    "8>=5 34": "ch. 8 uses ch. 5's stage data ('as mesmas apresentados na Figura 34 ... assim como "
               "a Figura 35', L3745; I% = 10 %, L3743), its candidates include ch. 5's buses 17 "
               "and 24 (L3747), ch. 5's prices 76/77 lie in ch. 8's 70-85 grid, prices may vary by "
               "stage (more freedom), same 9.00-11.00 kV: ch. 5's solution is feasible in ch. 8",
    "8>=5 85": "ch. 8 uses ch. 5's 85-bus stages (+5 %/+10 % demand, Figure 39 of ch. 5, I = 10 %, "
               "L3831), candidates include 27, 60, 81 (L3833), the same 60-70 grid and voltage "
               "limits, per-stage prices: ch. 5's solution is feasible in ch. 8",
    "9>=6 85": "ch. 9's 85-bus data (L4198) restate ch. 6's (L3184) word for word except the "
               "locations, now chosen by the model (1.5 MW, 55 EUR/MWh, grid 60-70 in 10 steps, "
               "fp = 0.92, 9.45-11 kV); no reactive limit is stated for it",
}


def _nesting(k: _Checker) -> None:
    t = k.t
    for s in SCEN:
        k.at_least("25", f"Total, {s}: ch. 7 (Table 25) >= ch. 4 (Table 2)", t(2, "Total", s),
                   t(25, "Total", s), NESTING_REASONS["7>=4 34"])
    k.at_least("29", "Total: ch. 7 (Table 29) >= ch. 4 (Table 6)", t(6, "Total", "Lucros [€]"),
               t(29, "Total", "Lucros [€]"), NESTING_REASONS["7>=4 85"])
    k.at_least("31", "present value: ch. 8 (Table 31) >= ch. 5 (Table 8)",
               t(8, "Valor Presente", "TOTAL"), t(31, "Valor Presente Atual", "TOTAL"),
               NESTING_REASONS["8>=5 34"])
    k.at_least("36", "present value: ch. 8 (Table 36) >= ch. 5 (Table 12)",
               t(12, "Valor Presente", "TOTAL"), t(36, "Valor Presente Atual", "TOTAL"),
               NESTING_REASONS["8>=5 85"])
    k.at_least("49", "Total: ch. 9 (Table 49) >= ch. 6 (Table 22)", t(22, "Total", "Modelo PQ"),
               t(49, "Total", "Modelo Atual"), NESTING_REASONS["9>=6 85"])


def check_thesis_tables(path: Path | None = None) -> list[Identity]:
    """Every identity of the printed Tables 2-63 (and the text's percentages derived from them),
    each with its verdict, from thesis_tables.json: no solver."""
    k = _Checker(ThesisTables(path))
    for part in (_chapter4, _ch5, _ch6, _ch7, _ch8, _ch9, _ch10, _nesting):
        part(k)
    return k.out


def _table_key(table: str) -> tuple[int, str]:
    number, _, rest = table.partition(" ")
    return int(number), rest


def identities_report(identities: list[Identity], every: bool = False) -> str:
    """Per-table counts and every identity that does not hold (all of them with every=True)."""
    from collections import Counter

    lines = ["Printed Tables 2-63 (thesis_tables.json, copied from the seed), interval arithmetic "
             "on each printed number's precision:"]
    per_table: dict[str, Counter] = {}
    for i in identities:
        per_table.setdefault(i.table, Counter())[i.verdict] += 1
    row = []
    for table in sorted(per_table, key=_table_key):
        c = per_table[table]
        extra = "".join(f" {c[v]}{m}" for v, m in ((HOLDS_TRUNCATED, "t"), (BROKEN, "B")) if c[v])
        row.append(f"{table}: {sum(c.values())}{extra}")
    for start in range(0, len(row), 8):
        lines.append("  " + "; ".join(row[start:start + 8]))
    lines.append("  (n = identities per table; t = holds only truncated; B = broken)")
    for i in identities:
        if every or i.verdict != HOLDS:
            mark = {HOLDS: "ok   ", HOLDS_TRUNCATED: "TRUNC", BROKEN: "BREAK"}[i.verdict]
            hi = "inf" if i.expected.hi == INF else f"{i.expected.hi:,.4f}"
            lines.append(f"  {mark} Table {i.table}, {i.identity}: expected "
                         f"[{i.expected.lo:,.4f}, {hi}], printed {i.printed.text} "
                         f"(seed line {i.printed.line})")
    total = Counter(i.verdict for i in identities)
    lines.append(f"{len(identities)} identities over {len(per_table)} tables: "
                 f"{total[HOLDS]} hold, {total[HOLDS_TRUNCATED]} hold only truncated, "
                 f"{total[BROKEN]} broken")
    return "\n".join(lines)
