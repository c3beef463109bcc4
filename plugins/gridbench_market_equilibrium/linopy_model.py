"""Market equilibrium in linopy: variables over ("plant", "scenario") coordinates, the
scenario terms as labelled arrays that broadcast into each row family."""

from __future__ import annotations

import linopy
import pandas as pd
import xarray as xr

from bench.api import BuiltModel, Solution
from gridbench_market_equilibrium.checks import solution_arrays
from gridbench_market_equilibrium.data import MarketData


def build(data: MarketData, variant: str) -> BuiltModel:
    terms = data.scenario_terms
    plants = pd.RangeIndex(data.n_plants, name="plant")
    scenarios = pd.RangeIndex(data.n_scenarios, name="scenario")
    A = xr.DataArray(terms.plant_margin, coords=[plants, scenarios])
    B = xr.DataArray(terms.contract, coords=[scenarios])
    P = xr.DataArray(terms.spot_cost, coords=[scenarios])
    GF_i = xr.DataArray(terms.physical_guarantee, coords=[plants])
    d, M = data.demand_mw, data.big_m_value
    lam_d, lam_g = data.lambda_demand, data.lambda_plants
    tail_d = 1.0 / ((1 - data.alpha) * data.n_scenarios)
    tail_g = 1.0 / ((1 - data.plant_alpha) * data.n_scenarios)
    prob_s = 1.0 / data.n_scenarios

    model = linopy.Model()
    x = model.add_variables(coords=[plants], binary=True, name="x")
    Q_i = model.add_variables(lower=0, coords=[plants], name="Q_i")
    phi = model.add_variables(lower=0, coords=[plants], name="phi")
    eta = model.add_variables(coords=[plants], name="eta")  # VaR of plant i's revenue
    w = model.add_variables(lower=0, coords=[plants, scenarios], name="w")  # below eta_i
    v = model.add_variables(lower=0, coords=[scenarios], name="v")  # demand's cost above zeta
    GF = model.add_variables(lower=0, name="GF")
    Q = model.add_variables(lower=0, name="Q")
    zeta = model.add_variables(name="zeta")  # VaR of the demand's cost

    cost = B * Q + d * P  # Phi-hat per scenario: C_s = d P_s + Q B_s
    revenue = B * Q_i + A  # VPL-hat per plant and scenario: R_i,s = A_i,s + Q_i B_s

    # linopy refuses a constant in the objective: the constant part of E[C_s] multiplies a
    # variable fixed at 1, so the objective HiGHS reports is the model's own
    one = model.add_variables(lower=1, upper=1, name="objective_constant")
    constant = lam_d * prob_s * float((d * P).sum())
    model.add_objective(lam_d * prob_s * (B * Q).sum() + constant * one
                        + (1 - lam_d) * (zeta + tail_d * v.sum()) + phi.sum())
    model.add_constraints(GF - (GF_i * x).sum() == 0, name="physical_guarantee")
    model.add_constraints(Q - Q_i.sum() == 0, name="contracted")
    model.add_constraints(Q_i - d * x <= 0, name="contract_limit")
    model.add_constraints(lam_g * prob_s * revenue.sum("scenario")
                          + (1 - lam_g) * (eta - tail_g * w.sum("scenario"))
                          + phi + M * (1 - x) >= 0, name="participation")
    model.add_constraints(v - cost + zeta >= 0, name="demand_tail")
    model.add_constraints(w - eta + revenue >= 0, name="plant_tail")

    def extract() -> Solution:
        def value(var) -> object:
            return var.solution.values

        return Solution(solution_arrays(
            x=value(x), Q_i=value(Q_i), phi=value(phi), GF=value(GF), Q=value(Q),
            zeta=value(zeta), v=value(v), eta=value(eta),
            w=w.solution.transpose("plant", "scenario").values), None)

    return BuiltModel(model, extract)
