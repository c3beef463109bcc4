"""Plain-Python reference implementation (backend ``pbpm_python``).

A direct port of the notebook: sort the price rows, walk them once assigning price levels,
then build each PRM row from its segments, as the notebook concatenates ``MRbefore``,
``MRdict`` and ``MRafter``. Rows are built in a flat ``array('b')`` (C-speed repetition of
one code, no per-cell Python loop), which numpy then views without copying.
"""

from __future__ import annotations

from array import array

import numpy as np

from bench.api import AlgorithmRun, BuiltModel, Solution
from gridbench_pbpm.core import (
    NOTEBOOK_ORDER,
    ConditionInfo,
    PriceRow,
    condition_levels,
    flatten,
    row_template,
)
from gridbench_pbpm.spec import PbpmSpec


def compute(rows: list[PriceRow], conditions: list[ConditionInfo],
            tie_order: str = NOTEBOOK_ORDER) -> Solution:
    buy, sell, start, last = condition_levels(rows, len(conditions), tie_order)
    n_prices = last - start + 1
    prm = array("b")
    for r, info in enumerate(conditions):
        buy_col = None if buy[r] is None else buy[r] - start
        sell_col = None if sell[r] is None else sell[r] - start
        first = buy_col if buy_col is not None else sell_col
        second = sell_col if sell_col is not None else buy_col
        t = row_template(info.regulator, info.has_buy, info.has_sell, first == second)
        prm += array("b", [t.below]) * first
        prm.append(t.first)
        if second > first:
            prm += array("b", [0]) * (second - first - 1)
            prm.append(t.second)
        prm += array("b", [t.above]) * (n_prices - second - 1)
    return Solution({
        "price_vector": np.arange(start, last + 1),
        "prm": np.frombuffer(prm, dtype=np.int8).reshape(len(conditions), n_prices),
    }, objective=None)


def build(data: PbpmSpec, variant: str) -> BuiltModel:
    """Flatten the spec into price rows (build); sort, level and fill the PRMs (solve)."""
    rows, conditions = flatten(data.elements)
    return AlgorithmRun(lambda: compute(rows, conditions, data.tie_order)).built()


def compute_spec(data: PbpmSpec) -> Solution:
    """Price vector and PRMs of a validated spec, in its tie order (one call)."""
    rows, conditions = flatten(data.elements)
    return compute(rows, conditions, data.tie_order)
