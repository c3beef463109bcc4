"""Quantities and independent structural checks of a PBPM result, from the spec only.

``verify`` does not rebuild the PRMs with the algorithm's rule: it reads each row back,
checks it has the shape the seed's mode meanings demand (codes allowed for the element, a
monotone response to price, exactly one response cell per price), extracts the price index
at which each price responds and checks those indices against the numeric prices (order,
no empty index, where the vector starts). It recounts the number of price indices from the
spec alone, price group by price group (``recount_columns``), without the implementations'
sort and walk: check ``notebook_columns``. Under the option ``regulators_first`` it also
checks that two regulators never share a price index, which that order guarantees; the
notebook's order does not, so there the count is a reported quantity, not a check.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from bench.api import Check, Solution, solution_check
from gridbench_pbpm.spec import PbpmSpec

NOTEBOOK = "notebook"  # the one variant: the notebook's rule with numeric prices
LINEAR = "Linear Regulator"

# per-cell quantities (prm_<element>_<condition>_<k>) only for small results; a CRC-32 of
# the whole matrix stands for the rest (and is what implementations must agree on)
CELL_QUANTITY_LIMIT = 2000
CELL = re.compile(r"prm_\d+_\d+_\d+")

# Mode codes an element may show, by (kind, regulator), from the C snippet's comments:
# PV (source, regulating) 0 off / 1 DCBVR / 2 MPPT; battery (bidirectional, regulating)
# -2..2 and 11 (both directions at one index); load -2 on / 0 off / 8 latch. A Not Regulator
# element has no regulating mode: 0 off or 8, the mode the EMS set (notebook legend).
ALLOWED_MODES = {
    ("Source", "Linear Regulator"): {0, 1, 2},
    ("Source", "Not Regulator"): {0, 8},
    ("Load", "Linear Regulator"): {-2, -1, 0},
    ("Load", "Not Regulator"): {0, 8},
    ("Bidirectional", "Linear Regulator"): {-2, -1, 0, 1, 2, 11},
    ("Bidirectional", "Not Regulator"): {0, 8},
}
REGULATING_MODES = (-1, 1, 11)


def prm_crc32(prm: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(prm, dtype=np.int8).tobytes())


def condition_table(data: PbpmSpec) -> list[tuple[int, int, object, object]]:
    """(element number, condition number, element, condition) per PRM row, numbered from 1."""
    return [(e, q, element, condition)
            for e, element in enumerate(data.elements, start=1)
            for q, condition in enumerate(element.conditions, start=1)]


def recount_columns(data: PbpmSpec, tie_order: str = "notebook") -> int:
    """How many price indices (PRM columns) the notebook's level rule gives, recounted from
    the spec alone: one group per distinct numeric price, ascending; inside a group the
    rows in the tie order (the notebook's: element, condition, sell before buy, the order
    its ``Mv0`` list is built in; ``regulators_first``: Linear Regulator rows first). A
    group opens a new level unless its first row is another condition of the element whose
    row closed the previous group; inside a group, each pair of consecutive rows of two
    different Linear Regulators adds a level. Columns = levels + 1 (the first column lies
    below every price)."""
    groups: dict[float, list[tuple[int, int, int, bool]]] = {}
    for e, element in enumerate(data.elements):
        regulating = element.regulator == LINEAR
        for q, condition in enumerate(element.conditions):
            for side, price in ((0, condition.sell_price), (1, condition.buy_price)):
                if price is not None:
                    groups.setdefault(float(price), []).append((e, q, side, regulating))
    levels, last = 0, None
    for price in sorted(groups):
        group = sorted(groups[price])  # element, condition, sell (0) before buy (1)
        if tie_order == "regulators_first":
            group.sort(key=lambda row: not row[3])  # stable: regulators first, else as is
        first = group[0]
        if last is None or not (last[0] == first[0] and last[1] != first[1]):
            levels += 1
        levels += sum(a[0] != b[0] and a[3] and b[3]
                      for a, b in zip(group, group[1:], strict=False))
        last = group[-1]
    return levels + 1


def regulators_per_index(data: PbpmSpec, prm: np.ndarray) -> np.ndarray:
    """Per price index (column): how many different Linear Regulator elements regulate
    there (a cell -1, 1 or 11 in any row of the element), read from the PRM."""
    regulating = np.isin(prm, REGULATING_MODES)
    rows = np.array([el.regulator == LINEAR for _, _, el, _ in condition_table(data)], bool)
    regulating &= rows[:, None]
    starts = np.cumsum([0] + [len(el.conditions) for el in data.elements[:-1]])
    return np.logical_or.reduceat(regulating, starts, axis=0).sum(axis=0)


def quantities(data: PbpmSpec, variant: str, solution: Solution) -> dict[str, float]:
    price_vector = np.asarray(solution.values["price_vector"])
    prm = np.asarray(solution.values["prm"])
    per_index = (regulators_per_index(data, prm)[1:] if prm.shape[0] == data.n_conditions
                 else np.zeros(0, int))
    out = {
        "n_elements": float(len(data.elements)),
        "n_conditions": float(prm.shape[0]),
        "n_prices": float(len(price_vector)),
        "price_first": float(price_vector[0]),
        "price_last": float(price_vector[-1]),
        "price_vector_crc32": float(zlib.crc32(price_vector.astype(np.int64).tobytes())),
        "prm_crc32": float(prm_crc32(prm)),
        # recounted from the spec: what the notebook's order gives (any tie order)
        "notebook_n_prices": float(recount_columns(data, "notebook")),
        # findings, not checks, under the notebook's order (docs/pbpm.md, "Tie order"):
        # price indices where two or more regulators regulate, and where none does
        "price_indices_shared_by_regulators": float((per_index >= 2).sum()),
        "price_indices_without_regulator": float((per_index == 0).sum()),
    }
    if prm.size <= CELL_QUANTITY_LIMIT:
        out.update({f"price_{k}": float(p) for k, p in enumerate(price_vector, start=1)})
        for row, (e, q, _, _) in zip(prm, condition_table(data), strict=True):
            out.update({f"prm_{e}_{q}_{k}": float(v) for k, v in enumerate(row, start=1)})
    return out


def _first(mask: np.ndarray) -> np.ndarray:
    """Column of the first True per row (-1 where none)."""
    return np.where(mask.any(axis=1), mask.argmax(axis=1), -1)


def verify(data: PbpmSpec, variant: str, solution: Solution) -> list[Check]:
    price_vector = np.asarray(solution.values["price_vector"], dtype=np.int64)
    prm = np.asarray(solution.values["prm"], dtype=np.int64)
    table = condition_table(data)
    n_rows, n_prices = len(table), len(price_vector)
    shape_ok = prm.shape == (n_rows, n_prices) and n_prices >= 2
    checks = [solution_check("prm_shape", 0.0 if shape_ok else 1.0, 0.0,
                             "one row per operating condition, one column per price index")]
    if not shape_ok:
        return checks

    kinds = [(el.kind, el.regulator) for _, _, el, _ in table]
    element_of = np.array([e for e, _, _, _ in table])
    regulating = np.array([reg == "Linear Regulator" for _, reg in kinds])
    buy = np.array([c.buy_price if c.buy_price is not None else np.nan for *_, c in table])
    sell = np.array([c.sell_price if c.sell_price is not None else np.nan for *_, c in table])
    has_buy, has_sell = ~np.isnan(buy), ~np.isnan(sell)
    both, equal = has_buy & has_sell, has_buy & has_sell & (buy == sell)

    # 1. price vector: consecutive integers starting at -1 when the cheapest price is <= 0
    lowest = float(np.nanmin(np.concatenate([buy, sell])))
    expected_start = -1 if lowest <= 0 else 0
    checks.append(solution_check(
        "price_vector", float(np.abs(np.diff(price_vector) - 1).sum()
                              + abs(price_vector[0] - expected_start)), 0.0,
        f"consecutive integers from {expected_start} (cheapest price {lowest:g})"))

    # 2. only the mode codes the element's kind and regulator allow
    kind_ids = {k: i for i, k in enumerate(ALLOWED_MODES)}
    allowed = np.zeros((len(ALLOWED_MODES), 14), bool)  # codes -2..11 at columns 0..13
    for k, codes in ALLOWED_MODES.items():
        allowed[kind_ids[k], [c + 2 for c in codes]] = True
    in_range = (prm >= -2) & (prm <= 11)
    kind_of_row = np.array([kind_ids[k] for k in kinds])[:, None]
    bad_codes = int((~in_range | ~allowed[kind_of_row, np.clip(prm, -2, 11) + 2]).sum())
    checks.append(solution_check("mode_codes_allowed", float(bad_codes), 0.0,
                                 "cells with a code the element's kind/regulator cannot have"))

    # 3. row shape. Regulators: monotone from taking to supplying power (11 counts as 0),
    # exactly one regulating cell per price (-1 at the buy, 1 at the sell, 11 when equal).
    # Not regulators: 8/0 runs, 0^a 8^b (sell), 8^a 0^b (buy), 8^a 0^b 8^c (both).
    ordered = np.where(prm == 11, 0, prm)
    decreasing = (np.diff(ordered, axis=1) < 0).sum(axis=1)
    n_minus, n_plus, n_both = ((prm == m).sum(axis=1) for m in REGULATING_MODES)
    want_minus = (has_buy & ~equal).astype(int)
    want_plus = (has_sell & ~equal).astype(int)
    lr_bad = regulating & ((decreasing > 0) | (n_minus != want_minus) | (n_plus != want_plus)
                           | (n_both != equal.astype(int)))
    lr_bad |= regulating & both & ~equal & (_first(prm == -1) > _first(prm == 1))
    changes = (np.diff(prm, axis=1) != 0).sum(axis=1)
    head, tail = prm[:, 0], prm[:, -1]
    nr_ok = np.where(
        both,
        (head == 8) & (((changes == 2) & (tail == 8)) | (equal & (changes == 1) & (tail == 0))),
        np.where(has_sell, (head == 0) & (tail == 8), (head == 8) & (tail == 0)) & (changes == 1))
    nr_bad = ~regulating & ~nr_ok
    checks.append(solution_check("row_pattern", float((lr_bad | nr_bad).sum()), 0.0,
                                 "rows whose modes do not respond to price as the seed defines"))

    # 4. the price index (column) at which each buy and sell price responds, read from the row
    buy_col = np.where(regulating, _first((prm == -1) | (prm == 11)), _first(prm == 0))
    after_last_8 = n_prices - np.argmax((prm != 8)[:, ::-1], axis=1)  # start of the final 8s
    sell_col = np.where(regulating, _first((prm == 1) | (prm == 11)),
                        np.where(both, np.where(equal, buy_col, after_last_8), _first(prm == 8)))
    cols = np.concatenate([buy_col[has_buy], sell_col[has_sell]])
    prices = np.concatenate([buy[has_buy], sell[has_sell]])
    owners = np.concatenate([element_of[has_buy], element_of[has_sell]])
    reg_cols = np.concatenate([regulating[has_buy], regulating[has_sell]])
    checks.append(solution_check(
        "first_column_below_every_price", float(((cols < 1) | (cols >= n_prices)).sum()), 0.0,
        "column 0 lies below every element's price, every price responds in a later column"))
    by_price = np.lexsort((cols, prices))
    checks.append(solution_check(
        "price_index_order", float((np.diff(cols[by_price]) < 0).sum()), 0.0,
        "a higher price never responds at a lower price index"))
    checks.append(solution_check(
        "price_indices_used", float(len(set(range(1, n_prices)) - set(cols.tolist()))), 0.0,
        "every price index above the first is where some price responds"))
    checks.append(solution_check(
        "lowest_price_first_index", float(cols[by_price[0]] != 1), 0.0,
        "the cheapest price responds at the second column"))
    # 5. the number of price indices, recounted from the spec's prices (recount_columns)
    expected = recount_columns(data, data.tie_order)
    checks.append(solution_check(
        f"{data.tie_order}_columns", float(abs(n_prices - expected)), 0.0,
        f"{expected} price indices recounted from the distinct prices in the "
        f"{data.tie_order} tie order; the PRMs have {n_prices}"))
    if data.tie_order == "regulators_first":  # guaranteed by that order only
        pairs = {(int(c), int(o)) for c, o, r in zip(cols, owners, reg_cols, strict=True)
                 if r and 0 <= c < n_prices}  # a missing response is counted above
        per_column = np.bincount([c for c, _ in pairs], minlength=n_prices)
        checks.append(solution_check(
            "one_regulator_per_price_index", float(np.maximum(per_column - 1, 0).sum()), 0.0,
            "two different linear regulators never regulate at the same price index"))
    return checks


def report_section(runs: list[dict]) -> str:
    """Price vector and PRM rows of each small case (from the first implementation that ran
    it; the agreement checks cover the other), read back from the per-cell quantities."""
    lines, seen = [], set()
    for run in sorted(runs, key=lambda r: (r["case"], r["backend"])):
        q = run.get("quantities") or {}
        if run["case"] in seen or "price_1" not in q:
            continue
        seen.add(run["case"])
        n_prices = int(q["n_prices"])
        vector = " ".join(str(int(q[f"price_{k}"])) for k in range(1, n_prices + 1))
        rows = sorted({key.rsplit("_", 1)[0] for key in q if CELL.fullmatch(key)},
                      key=lambda key: tuple(int(part) for part in key.split("_")[1:]))
        prms = "  ".join(
            f"{key[4:].replace('_', '.')}:[" + " ".join(
                str(int(q[f"{key}_{k}"])) for k in range(1, n_prices + 1)) + "]"
            for key in rows)
        lines.append(f"- {run['case']}: price vector [{vector}]; PRM rows element.condition: "
                     f"{prms}")
    return "\n".join(lines)
