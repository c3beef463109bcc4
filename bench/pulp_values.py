"""Reading values back from a solved PuLP model.

PuLP writes only the variables that appear in the objective or in a constraint; one that
appears nowhere (e.g. a start-up indicator whose cost is 0 in a model without the start-up
coupling) comes back as ``None``, which numpy turns into NaN and every check then fails on
a correct optimum. Such a variable takes no part in the model: any value within its bounds
is optimal, and the one closest to 0 is reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def value_of(var: Any) -> float:
    """A PuLP variable's value; an unused variable (``None``) is 0 clipped to its bounds."""
    value = var.varValue
    if value is not None:
        return float(value)
    low = -np.inf if var.lowBound is None else var.lowBound
    high = np.inf if var.upBound is None else var.upBound
    return float(np.clip(0.0, low, high))


def values_of(variables: Iterable[Any]) -> np.ndarray:
    """:func:`value_of` for each variable, as a float array."""
    return np.array([value_of(var) for var in variables], dtype=float)
