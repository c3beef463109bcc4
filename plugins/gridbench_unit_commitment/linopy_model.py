"""Unit commitment in linopy: variables over ("type", "period") coordinates, vectorised
constraints broadcast by xarray (one labelled constraint block per row family)."""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from bench.api import BuiltModel, Solution
from gridbench_unit_commitment.checks import STARTUP_COUPLED
from gridbench_unit_commitment.data import UnitCommitmentData


def build(data: UnitCommitmentData, variant: str) -> BuiltModel:
    a = data.arrays()
    # positions, not the type names: a case file does not promise unique names
    types = pd.RangeIndex(data.n_types, name="type")
    periods = pd.RangeIndex(data.n_periods, name="period")
    coords = [types, periods]

    def per_type(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(values, coords={"type": types}, dims="type")

    def per_period(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(values, coords={"period": periods}, dims="period")

    n, m, M = per_type(a["n"]), per_type(a["m"]), per_type(a["M"])
    c, v, s = per_type(a["c"]), per_type(a["v"]), per_type(a["s"])
    d, hours = per_period(a["d"]), per_period(a["hours"])

    model = linopy.Model()
    z = model.add_variables(lower=0, coords=coords, name="z", integer=True)
    w = model.add_variables(lower=0, coords=coords, name="w", integer=True)
    x = model.add_variables(lower=0, coords=coords, name="x")

    model.add_objective((s * w + c * m * hours * z + v * hours * (x - m * z)).sum())
    model.add_constraints(m * z <= x, name="output_min")
    model.add_constraints(x <= M * z, name="output_max")
    model.add_constraints(z <= n, name="units_available")
    model.add_constraints(x.sum("type") >= d, name="demand")
    if data.reserve_margin is not None:
        model.add_constraints((M * z).sum("type") >= (1 + data.reserve_margin) * d,
                              name="reserve")
    if variant == STARTUP_COUPLED:
        if data.initial_units_on == "cyclic":
            # roll moves period t-1 onto t, the last period onto the first
            model.add_constraints(w >= z - z.roll(period=1), name="startup")
        else:
            initial = per_type(np.asarray(data.initial_units_on, float))
            later = periods[1:]
            model.add_constraints(w.sel(period=later) >= z.sel(period=later)
                                  - z.shift(period=1).sel(period=later), name="startup")
            model.add_constraints(w.sel(period=0) >= z.sel(period=0) - initial,
                                  name="startup_first")

    def extract() -> Solution:
        return Solution({name: np.asarray(var.solution.transpose("type", "period").values,
                                          dtype=float)
                         for name, var in (("z", z), ("w", w), ("x", x))}, None)

    return BuiltModel(model, extract)
