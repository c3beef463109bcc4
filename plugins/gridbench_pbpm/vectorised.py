"""Vectorised NumPy implementation (backend ``pbpm_numpy``).

The same rule as the reference, array-wise: one ``lexsort`` in the spec's tie order, the
level steps as a boolean vector over consecutive rows and their cumulative sum, and all PRM
rows at once with ``np.repeat`` of each row's five segments (below | first | between |
second | above), so the matrix is written in a single pass.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

import numpy as np

from bench.api import AlgorithmRun, BuiltModel, Solution
from gridbench_pbpm.core import (
    BETWEEN,
    BUY,
    LINEAR,
    NOT_REGULATOR,
    NOTEBOOK_ORDER,
    REGULATORS_FIRST,
    SELL,
    first_level,
    row_template,
)
from gridbench_pbpm.spec import PbpmSpec

# template codes by (regulator, has_buy, has_sell) = 4 * regulating + 2 * has_buy + has_sell;
# rows of a condition with one price index (single) or with buy and sell apart (split)
_COMBOS = [(LINEAR if lr else NOT_REGULATOR, bool(b), bool(s))
           for lr in (0, 1) for b in (0, 1) for s in (0, 1)]
SINGLE = np.array([astuple(row_template(reg, b, s, True)) if b or s else (0, 0, 0, 0)
                   for reg, b, s in _COMBOS], np.int8)
SPLIT = np.array([astuple(row_template(reg, b, s, False)) if b or s else (0, 0, 0, 0)
                  for reg, b, s in _COMBOS], np.int8)


@dataclass
class PriceArrays:
    """Price rows (one entry per buy or sell price) and per-condition template codes."""

    price: np.ndarray  # float64
    regulating: np.ndarray  # bool
    element: np.ndarray  # int64
    condition: np.ndarray  # int64, PRM row
    side: np.ndarray  # int8, SELL or BUY
    has_buy: np.ndarray  # per condition, bool
    has_sell: np.ndarray
    template: np.ndarray  # per condition, index into SINGLE and SPLIT
    tie_order: str = NOTEBOOK_ORDER


def arrays(data: PbpmSpec) -> PriceArrays:
    price, regulating, element, condition, side = [], [], [], [], []
    has_buy, has_sell, template = [], [], []
    for e, el in enumerate(data.elements):
        lr = el.regulator == LINEAR
        for c in el.conditions:
            r = len(has_buy)
            b, s = c.buy_price is not None, c.sell_price is not None
            if s:
                price.append(c.sell_price)
                regulating.append(lr)
                element.append(e)
                condition.append(r)
                side.append(SELL)
            if b:
                price.append(c.buy_price)
                regulating.append(lr)
                element.append(e)
                condition.append(r)
                side.append(BUY)
            has_buy.append(b)
            has_sell.append(s)
            template.append(4 * lr + 2 * b + s)
    return PriceArrays(np.array(price, float), np.array(regulating, bool),
                       np.array(element, np.int64), np.array(condition, np.int64),
                       np.array(side, np.int8), np.array(has_buy, bool), np.array(has_sell, bool),
                       np.array(template, np.int64), data.tie_order)


def compute(a: PriceArrays) -> Solution:
    # primary key last: price, then element, condition, sell first (the notebook's order);
    # the option regulators_first puts Linear Regulator rows first among equal prices
    if a.tie_order == NOTEBOOK_ORDER:
        order = np.lexsort((a.side, a.condition, a.element, a.price))
    elif a.tie_order == REGULATORS_FIRST:
        order = np.lexsort((a.side, a.condition, a.element, ~a.regulating, a.price))
    else:
        raise ValueError(f"unknown tie order {a.tie_order!r}")
    price, element, condition = a.price[order], a.element[order], a.condition[order]
    regulating, side = a.regulating[order], a.side[order]

    same_element = element[1:] == element[:-1]
    new_price = (price[1:] != price[:-1]) & ~(same_element & (condition[1:] != condition[:-1]))
    both_regulate = ~same_element & regulating[1:] & regulating[:-1]
    level0 = first_level(float(price[0]))
    levels = np.concatenate(([level0], level0 + np.cumsum(new_price | both_regulate)))
    start, last = level0 - 1, int(levels[-1])
    n_prices = last - start + 1

    n_conditions = len(a.has_buy)
    col = levels - start
    buy_col = np.full(n_conditions, -1, np.int64)
    sell_col = np.full(n_conditions, -1, np.int64)
    is_buy = side == BUY
    buy_col[condition[is_buy]] = col[is_buy]
    sell_col[condition[~is_buy]] = col[~is_buy]
    first = np.where(a.has_buy, buy_col, sell_col)
    second = np.where(a.has_sell, sell_col, buy_col)
    two = second > first

    codes = np.where(two[:, None], SPLIT[a.template], SINGLE[a.template])  # 4 codes
    values = np.column_stack((codes[:, 0], codes[:, 1], np.full(n_conditions, BETWEEN, np.int8),
                              codes[:, 2], codes[:, 3]))
    lengths = np.column_stack((first, np.ones(n_conditions, np.int64),
                               np.where(two, second - first - 1, 0), two.astype(np.int64),
                               n_prices - second - 1))
    prm = np.repeat(values.ravel(), lengths.ravel()).reshape(n_conditions, n_prices)
    return Solution({"price_vector": np.arange(start, last + 1), "prm": prm}, objective=None)


def build(data: PbpmSpec, variant: str) -> BuiltModel:
    """Flatten the spec into arrays (build); sort, level and fill the PRMs (solve)."""
    prepared = arrays(data)
    return AlgorithmRun(lambda: compute(prepared)).built()
