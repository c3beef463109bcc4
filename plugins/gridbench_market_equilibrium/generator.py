"""Seeded scenario generator for the market-equilibrium model (synthetic, documented).

The seed has no data, so cases are generated. One common hydrology factor drives both the
spot price and hydro generation (a dry scenario means little hydro and high prices, as in a
hydro-dominated system such as Brazil's), wind is seasonal and complementary to the wet
season, and thermal plants run when the price exceeds their variable cost:

* hydrology H_t,s: AR(1) over the periods of each scenario, standard normal marginals,
  correlation ``hydro_persistence`` from one period to the next;
* spot price pi_t,s = ``price_mean`` * season_t * exp(``price_volatility`` * z_t,s - v^2/2),
  z_t,s = -``price_hydro_correlation`` H_t,s + sqrt(1 - rho^2) e_t,s, clipped to
  [``price_floor``, ``price_cap``] (a regulated floor and cap);
* hydro i: g = cap_i * min(1, load_i * inflow_t,s * (1 + 0.1 e)), inflow = wet season_t *
  exp(0.35 H_t,s); wind i: g = cap_i * clip(cf_i * windy season_t * (1 + 0.25 e), 0, 1);
  thermal i: g = cap_i * availability_i when pi_t,s > variable cost v_i, else 0;
* costs c_i (levelised $/MWh of generated energy, the seed's c_i): hydro and wind
  ``U(renewable_cost_range) * price_mean``; thermal c_i = m_i v_i with v_i ~
  ``U(thermal_dispatch_range) * price_mean`` and m_i ~ ``U(thermal_markup_range)`` (the
  markup covers capital). The ranges make most plants unviable on their own (VPL_i(0) < 0),
  the situation the seed's model is about: the demand decides which to make viable;
* physical guarantee GF_i: the mean over periods of the 10 % quantile over scenarios
  (firm energy at 90 % exceedance) for hydro and wind, cap_i * availability_i for thermal;
* demand d = ``demand_share`` * sum_i GF_i.

Plant kinds cycle hydro, wind, thermal. Everything is drawn from ``numpy.random
.default_rng(seed)`` in a fixed order, so a case is reproduced by its parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

KINDS = ("hydro", "wind", "thermal")


@dataclass(frozen=True)
class GeneratorParameters:
    """Everything a generated case depends on (its [case] assumptions list these)."""

    seed: int
    n_plants: int
    n_periods: int = 12  # T: months of a year
    n_scenarios: int = 50  # S: equiprobable scenarios
    demand_share: float = 0.6  # d as a share of the plants' total physical guarantee
    lambda_demand: float = 0.5  # lambda_d
    lambda_plants: float = 0.5  # lambda_g
    alpha: float = 0.95  # CVaR level of the demand and (by default) of the plants
    period_hours: float = 730.0
    price_mean: float = 180.0  # $/MWh
    price_volatility: float = 0.45  # of the log price
    price_hydro_correlation: float = 0.8  # rho: dry (low H) means high prices
    hydro_persistence: float = 0.7  # AR(1) coefficient of the hydrology
    price_floor: float = 30.0  # $/MWh
    price_cap: float = 900.0  # $/MWh
    # levelised cost c_i of hydro and wind as a multiple of price_mean (uniform range)
    renewable_cost_range: tuple[float, float] = (0.9, 1.2)
    # thermal: variable cost v_i ~ U(thermal_dispatch_range) * price_mean, c_i = v_i * markup
    thermal_dispatch_range: tuple[float, float] = (0.8, 1.4)
    thermal_markup_range: tuple[float, float] = (1.15, 1.5)

    def with_(self, **changes: Any) -> GeneratorParameters:
        return replace(self, **changes)


def _season(n_periods: int, phase: float, amplitude: float) -> np.ndarray:
    t = np.arange(n_periods)
    return 1.0 + amplitude * np.cos(2 * np.pi * (t - phase) / n_periods)


def _hydrology(rng: np.random.Generator, p: GeneratorParameters) -> np.ndarray:
    """AR(1) standard-normal hydrology factor, shape (T, S)."""
    shocks = rng.standard_normal((p.n_periods, p.n_scenarios))
    rho = p.hydro_persistence
    hydrology = np.empty_like(shocks)
    hydrology[0] = shocks[0]
    for t in range(1, p.n_periods):
        hydrology[t] = rho * hydrology[t - 1] + np.sqrt(1 - rho**2) * shocks[t]
    return hydrology


def generate_arrays(p: GeneratorParameters) -> dict[str, Any]:
    """The [data] table of a case (nested lists, ready for TOML or the schema)."""
    if p.n_plants < 1 or p.n_periods < 1 or p.n_scenarios < 1:
        raise ValueError("n_plants, n_periods and n_scenarios must be positive")
    rng = np.random.default_rng(p.seed)
    T, S = p.n_periods, p.n_scenarios
    hydrology = _hydrology(rng, p)
    rho = p.price_hydro_correlation
    z = -rho * hydrology + np.sqrt(1 - rho**2) * rng.standard_normal((T, S))
    sigma = p.price_volatility
    price = (p.price_mean * _season(T, phase=8, amplitude=0.25)[:, None]
             * np.exp(sigma * z - sigma**2 / 2))
    price = np.clip(price, p.price_floor, p.price_cap)

    inflow = _season(T, phase=1, amplitude=0.4)[:, None] * np.exp(0.35 * hydrology)
    windy = _season(T, phase=7, amplitude=0.3)[:, None]
    kinds = [KINDS[i % len(KINDS)] for i in range(p.n_plants)]
    names, generation, costs, guarantees = [], [], [], []
    counters = dict.fromkeys(KINDS, 0)
    for kind in kinds:
        counters[kind] += 1
        names.append(f"{kind}_{counters[kind]}")
        noise = rng.standard_normal((T, S))
        if kind == "hydro":
            capacity = rng.uniform(60, 150)
            load = rng.uniform(0.45, 0.65)
            output = capacity * np.clip(load * inflow * (1 + 0.1 * noise), 0, 1)
            cost = rng.uniform(*p.renewable_cost_range) * p.price_mean
            guarantee = np.quantile(output, 0.1, axis=1).mean()
        elif kind == "wind":
            capacity = rng.uniform(30, 80)
            capacity_factor = rng.uniform(0.35, 0.5)
            output = capacity * np.clip(capacity_factor * windy * (1 + 0.25 * noise), 0, 1)
            cost = rng.uniform(*p.renewable_cost_range) * p.price_mean
            guarantee = np.quantile(output, 0.1, axis=1).mean()
        else:
            capacity = rng.uniform(40, 120)
            availability = rng.uniform(0.85, 0.95)
            variable_cost = rng.uniform(*p.thermal_dispatch_range) * p.price_mean
            output = np.where(price > variable_cost, capacity * availability, 0.0)
            cost = rng.uniform(*p.thermal_markup_range) * variable_cost
            guarantee = capacity * availability
        generation.append(output)
        costs.append(cost)
        guarantees.append(guarantee)

    def rounded(values: Any, digits: int = 6) -> Any:
        return np.round(np.asarray(values, float), digits).tolist()

    guarantees_mw = rounded(guarantees, 4)
    return {
        "plant_names": names,
        "plant_kinds": kinds,
        "physical_guarantee_mw": guarantees_mw,
        "cost_per_mwh": rounded(costs, 4),
        "generation_mw": rounded(generation, 4),
        "spot_price_per_mwh": rounded(price, 4),
        "demand_mw": round(p.demand_share * float(sum(guarantees_mw)), 4),
        "lambda_demand": p.lambda_demand,
        "lambda_plants": p.lambda_plants,
        "alpha": p.alpha,
        "period_hours": p.period_hours,
    }


def generate_case(name: str, description: str, p: GeneratorParameters) -> dict[str, Any]:
    """A raw case mapping ({"case": header, "data": table}) for a CaseSource or a TOML file."""
    assumptions = [f"{key} = {value}" for key, value in asdict(p).items()]
    return {
        "case": {
            "name": name,
            "formulation": "market_equilibrium",
            "description": description,
            "fidelity": "reconstructed",
            "provenance": ("synthetic: the seed 003_1f48eceef1db8ef8.txt prints the model but "
                           "no data; generated by gridbench_market_equilibrium.generator "
                           "(docs/market_equilibrium.md)"),
            "assumptions": [
                "all data are synthetic (seeded generator), not the PSR study's data",
                "d, GF_i, Q_i, g in MW average per period; pi, c in $/MWh; money in M$",
                *assumptions,
            ],
        },
        "data": generate_arrays(p),
    }
