"""The PBPM algorithm's rules, shared by both implementations (seed 004_c438baf47ef532b1.txt).

Everything here is taken from the notebook's ``create_system_matrixes`` and
``Element.calculate_PRM``, with one deliberate departure (docs/pbpm.md): prices are compared
as numbers (the notebook sorts them as strings). Among equal prices the rows keep the order
the notebook builds them in (element, condition, sell before buy), the order its
``argsort`` gives; the older "regulators first" order is an option (``tie_order``).

A *price row* is one price of one operating condition: a sell price (the element supplies
the bus at or above it, "Source" in the notebook) or a buy price (it takes energy at or
below it, "Load"). A bidirectional condition contributes both rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

LINEAR = "Linear Regulator"
NOT_REGULATOR = "Not Regulator"
Kind = Literal["Source", "Load", "Bidirectional"]
Regulator = Literal["Linear Regulator", "Not Regulator"]
# the notebook's older regulator names (its commented-out condition and the line after it
# compare ``Mvf[q,3] == "Controller"``), accepted as aliases
REGULATOR_ALIASES = {"Controller": LINEAR, "Not Controller": NOT_REGULATOR}

# Tie order among equal prices. NOTEBOOK (the default): the order the notebook appends its
# rows in (element, condition, the Source row before the Load row), which its sort keeps.
# REGULATORS_FIRST (an option): Linear Regulator rows first, then that order.
NOTEBOOK_ORDER, REGULATORS_FIRST = "notebook", "regulators_first"
TieOrder = Literal["notebook", "regulators_first"]
TIE_ORDERS: tuple[str, ...] = (NOTEBOOK_ORDER, REGULATORS_FIRST)

SELL, BUY = 0, 1  # side of a price row; in a tie the sell row comes first, as the notebook
#                   appends a bidirectional condition's Source row before its Load row

KEEP_LAST = 8  # "keeps the last operation mode (latch)": the C snippet's Load, mode 8

# What each mode code means (C snippet comments; 11 and the notebook legend: docs/pbpm.md).
MODE_MEANINGS: dict[int, str] = {
    -2: "take maximum power (battery: charge max; load: on)",
    -1: "take power regulating the bus voltage (battery: charge DCBVR)",
    0: "off",
    1: "supply power regulating the bus voltage (PV, battery: DCBVR)",
    2: "supply maximum power (PV: MPPT; battery: discharge max)",
    8: "keep the last operation mode (latch, set by the EMS or the user)",
    11: "regulate the bus voltage in both directions (charge or discharge DCBVR)",
}

# The notebook's three dictionaries, keyed by (row group, regulator). The row group is the
# notebook's ``slb``: "Source" for a condition with only a sell price, "Load" with only a buy
# price, "Bidirectional" when buy and sell fall on the same price index.
AT_PRICE = {  # MRdict: the mode in the column of the element's own price index
    ("Load", NOT_REGULATOR): 0, ("Load", LINEAR): -1,
    ("Source", NOT_REGULATOR): 8, ("Source", LINEAR): 1,
    ("Bidirectional", LINEAR): 11, ("Bidirectional", NOT_REGULATOR): 0,
}
BELOW = {  # MRbefore: the columns of lower price indices
    ("Load", NOT_REGULATOR): 8, ("Load", LINEAR): -2,
    ("Source", LINEAR): 0, ("Source", NOT_REGULATOR): 0,
    ("Bidirectional", LINEAR): -2, ("Bidirectional", NOT_REGULATOR): 8,
}
ABOVE = {  # MRafter: the columns of higher price indices
    ("Load", NOT_REGULATOR): 0, ("Load", LINEAR): 0,
    ("Source", LINEAR): 2, ("Source", NOT_REGULATOR): 8,
    ("Bidirectional", LINEAR): 2, ("Bidirectional", NOT_REGULATOR): 8,
}
BETWEEN = 0  # a bidirectional condition is off between its buy and its sell price index


@dataclass(frozen=True)
class RowTemplate:
    """A PRM row as five segments: below | first | between | second | above.

    ``first`` sits in the column of the buy price index (or the only price index), ``second``
    in the column of the sell price index; when both indices coincide only ``first`` is used.
    """

    below: int
    first: int
    second: int
    above: int


def row_template(regulator: str, has_buy: bool, has_sell: bool, same_index: bool) -> RowTemplate:
    """The notebook's row construction for one operating condition (``calculate_PRM``)."""
    if has_buy and has_sell and not same_index:  # "Bidirectional with 5 parts"
        return RowTemplate(BELOW["Bidirectional", regulator], AT_PRICE["Load", regulator],
                           AT_PRICE["Source", regulator], ABOVE["Bidirectional", regulator])
    group = "Bidirectional" if has_buy and has_sell else ("Load" if has_buy else "Source")
    key = (group, regulator)
    return RowTemplate(BELOW[key], AT_PRICE[key], AT_PRICE[key], ABOVE[key])


@dataclass(frozen=True, slots=True)
class PriceRow:
    price: float
    regulating: bool  # Linear Regulator
    element: int  # position in the element list
    condition: int  # PRM row: position of (element, condition) in element-list order
    side: int  # SELL or BUY


@dataclass(frozen=True)
class ConditionInfo:
    """What the PRM construction needs to know about one operating condition (PRM row)."""

    element: int
    regulator: str
    has_buy: bool
    has_sell: bool


def notebook_key(row: PriceRow) -> tuple[float, int, int, int]:
    """Ascending price; among equal prices element order, condition order, and the sell row
    before the buy row: the order of the notebook's ``Mv0`` list, which its sort keeps
    (docs/pbpm.md, "Tie order")."""
    return (row.price, row.element, row.condition, row.side)


def regulators_first_key(row: PriceRow) -> tuple[float, bool, int, int, int]:
    """The option ``regulators_first``: among equal prices Linear Regulator rows first,
    then the notebook's order."""
    return (row.price, not row.regulating, row.element, row.condition, row.side)


def tie_order_key(tie_order: str = NOTEBOOK_ORDER):
    """The sort key of a tie order (``notebook`` or ``regulators_first``)."""
    if tie_order == NOTEBOOK_ORDER:
        return notebook_key
    if tie_order == REGULATORS_FIRST:
        return regulators_first_key
    raise ValueError(f"unknown tie order {tie_order!r}; one of {', '.join(TIE_ORDERS)}")


def first_level(lowest_price: float) -> int:
    """The notebook: the cheapest row gets level 0 when its price is <= 0, else 1."""
    return 0 if lowest_price <= 0 else 1


def steps_up(previous: PriceRow, row: PriceRow) -> bool:
    """The notebook's rule for a new price level between two consecutive sorted rows:
    a different price, unless it is another operating condition of the same element; or
    two different elements that are both linear regulators (even at the same price)."""
    same_element = row.element == previous.element
    new_price = row.price != previous.price and not (
        same_element and row.condition != previous.condition)
    return new_price or (not same_element and row.regulating and previous.regulating)


def sorted_levels(rows: Sequence[PriceRow], tie_order: str = NOTEBOOK_ORDER
                  ) -> tuple[list[PriceRow], list[int]]:
    """Rows in tie order and the price level of each (plain Python, the reference rule)."""
    ordered = sorted(rows, key=tie_order_key(tie_order))
    levels = [first_level(ordered[0].price)]
    for previous, row in zip(ordered, ordered[1:], strict=False):
        levels.append(levels[-1] + steps_up(previous, row))
    return ordered, levels


def condition_levels(rows: Sequence[PriceRow], n_conditions: int,
                     tie_order: str = NOTEBOOK_ORDER
                     ) -> tuple[list[int | None], list[int | None], int, int]:
    """Buy and sell price level of every condition (None where it has no such price), and
    the first and last entries of the price vector."""
    ordered, levels = sorted_levels(rows, tie_order)
    buy: list[int | None] = [None] * n_conditions
    sell: list[int | None] = [None] * n_conditions
    for row, level in zip(ordered, levels, strict=True):
        (buy if row.side == BUY else sell)[row.condition] = level
    return buy, sell, levels[0] - 1, levels[-1]


def flatten(elements: Iterable) -> tuple[list[PriceRow], list[ConditionInfo]]:
    """Price rows and per-condition facts of a validated element list (``spec.Element``)."""
    rows: list[PriceRow] = []
    conditions: list[ConditionInfo] = []
    for e, element in enumerate(elements):
        regulating = element.regulator == LINEAR
        for condition in element.conditions:
            r = len(conditions)
            if condition.sell_price is not None:
                rows.append(PriceRow(condition.sell_price, regulating, e, r, SELL))
            if condition.buy_price is not None:
                rows.append(PriceRow(condition.buy_price, regulating, e, r, BUY))
            conditions.append(ConditionInfo(e, element.regulator,
                                            condition.buy_price is not None,
                                            condition.sell_price is not None))
    return rows, conditions
