"""Prosumer sharing in linopy (the relaxed QP): variables over ("prosumer", "period")
coordinates with the welfare terms' bounds, a quadratic objective, and the sharing balance's
dual read back as the price. The complementarity and tangent-line variants are not written
in linopy (NotApplicable)."""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from bench.api import BuiltModel, NotApplicable, Solution
from gridbench_prosumer_sharing.data import ProsumerSharingData
from gridbench_prosumer_sharing.welfare import (
    QUADRATIC_VARIABLES,
    RELAXED,
    terms,
)

# linopy hands HiGHS the maximisation as one (no negation): HiGHS's row dual is then
# d objective / d right-hand side, as Pyomo's (checked against the KKT price in verify)
DUAL_SIGN = 1.0


def build(data: ProsumerSharingData, variant: str) -> BuiltModel:
    if variant != RELAXED:
        raise NotApplicable(f"prosumer_sharing/{variant} is not written in linopy (only the "
                            f"relaxed QP)")
    a = data.arrays
    prosumers = pd.RangeIndex(data.n_prosumers, name="prosumer")
    periods = pd.RangeIndex(data.periods, name="period")
    coords = [prosumers, periods]
    term_of = terms(data)

    def grid_of(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(np.asarray(values, float), coords=coords)

    def per_prosumer(values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(np.asarray(values, float), coords=[prosumers])

    model = linopy.Model()
    x = {n: model.add_variables(lower=grid_of(term_of[n].lo), upper=grid_of(term_of[n].hi),
                                coords=coords, name=n) for n in QUADRATIC_VARIABLES}
    E = model.add_variables(coords=coords, name="E")
    soc = model.add_variables(lower=0, upper=per_prosumer(a["energy_max"]), coords=coords,
                              name="soc")

    model.add_constraints(E - x["D"] - x["Qch"] + x["S"] + x["Qdis"] == 0,
                          name="prosumer_balance")
    sharing = model.add_constraints(E.sum("prosumer") == xr.DataArray(
        np.asarray(a["grid"], float), coords=[periods]), name="sharing")
    flow = per_prosumer(a["eta_ch"]) * x["Qch"] - (1 / per_prosumer(a["eta_dis"])) * x["Qdis"]
    first, later = periods[:1], periods[1:]
    model.add_constraints(soc.sel(period=first) - flow.sel(period=first)
                          == per_prosumer(a["energy_initial"]), name="state_of_charge_first")
    if len(later):
        model.add_constraints(soc.sel(period=later) - soc.shift(period=1).sel(period=later)
                              - flow.sel(period=later) == 0, name="state_of_charge")
    model.add_constraints(soc.sel(period=periods[-1]) >= per_prosumer(a["energy_final_min"]),
                          name="final_energy")

    welfare = sum((grid_of(term_of[n].linear) * x[n]).sum()
                  - (0.5 * grid_of(term_of[n].quadratic) * x[n] * x[n]).sum()
                  for n in QUADRATIC_VARIABLES)
    model.add_objective(welfare, sense="max")

    def extract() -> Solution:
        values = {n: np.asarray(var.solution.transpose("prosumer", "period").values, float)
                  for n, var in {**x, "E": E}.items()}
        dual = sharing.dual
        if dual is not None and not np.isnan(np.asarray(dual.values, float)).all():
            values["price"] = DUAL_SIGN * np.asarray(dual.values, float)
        return Solution(values, None)

    return BuiltModel(model, extract)
