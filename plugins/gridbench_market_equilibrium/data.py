"""Case data of the market-equilibrium model (seed 003_1f48eceef1db8ef8.txt).

The seed prints the model but no data: every case is synthetic (see ``generator.py``). The
[data] table holds the model's inputs in the seed's symbols (comments) with the units the
seed leaves implicit made explicit:

* ``d``, ``GF_i``, ``Q_i`` and ``g_i,t,s`` are average powers over a period (MW average,
  the Brazilian "MWmedio"); a period lasts ``period_hours`` hours (730 h: a month);
* ``pi_t,s`` and ``c_i`` are in $/MWh;
* every money amount (the demand's cost Phi, a plant's VPL_i, side payments phi_i, M) is in
  millions of dollars (M$): ``money_per_unit = period_hours * 1e-6`` turns MW x $/MWh into
  M$ per period. The seed's sums over t carry no hours, which is the same model scaled by
  this positive constant (the optimal decisions do not change).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, model_validator

MONEY_UNIT = 1e-6  # $ -> M$


class MarketData(BaseModel):
    """N plants, T periods, S equiprobable scenarios; arrays indexed [plant][period][scenario]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plant_names: list[str] = Field(min_length=1)
    plant_kinds: list[str]  # hydro | wind | thermal (generator label, not used by the model)
    physical_guarantee_mw: list[NonNegativeFloat]  # GF_i, MW average
    cost_per_mwh: list[float]  # c_i, $/MWh of generated energy (levelised: O&M + capital)
    generation_mw: list[list[list[NonNegativeFloat]]]  # g_i,t,s, MW average in period t
    spot_price_per_mwh: list[list[float]] = Field(min_length=1)  # pi_t,s, $/MWh
    demand_mw: PositiveFloat  # d, MW average in every period
    lambda_demand: float = Field(ge=0.0, le=1.0)  # lambda_d: weight of E (1 - it on CVaR)
    lambda_plants: float = Field(ge=0.0, le=1.0)  # lambda_g
    alpha: float = Field(ge=0.0, lt=1.0)  # CVaR_alpha level of the demand (upper tail)
    # the seed writes the plants' CVaR without a level; by default it is the demand's alpha
    alpha_plants: float | None = Field(default=None, ge=0.0, lt=1.0)
    period_hours: PositiveFloat = 730.0
    # M of the big-M constraint; None (the default) chooses it from the data (big_m below)
    big_m: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        n = len(self.plant_names)
        for name in ("plant_kinds", "physical_guarantee_mw", "cost_per_mwh", "generation_mw"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, "
                                 f"expected one per plant ({n})")
        n_periods = len(self.spot_price_per_mwh)
        n_scenarios = len(self.spot_price_per_mwh[0])
        if n_scenarios == 0 or any(len(row) != n_scenarios for row in self.spot_price_per_mwh):
            raise ValueError("spot_price_per_mwh must be a T x S table with S >= 1")
        for i, plant in enumerate(self.generation_mw):
            if len(plant) != n_periods or any(len(row) != n_scenarios for row in plant):
                raise ValueError(f"generation_mw[{i}] must be a T x S table "
                                 f"({n_periods} x {n_scenarios})")
        return self

    @model_validator(mode="after")
    def _derive(self) -> Self:
        """Compute the derived arrays with the case, not in a backend's build: they are the
        case's data, and computed inside a timed build they would add the same time to
        every layer's (0.4 s of raw's 1.1 s at 1e6 variables), hiding how far a layer is
        from the raw limit."""
        _ = self.scenario_terms, self.big_m_value
        return self

    # ------------------------------------------------------------------ sizes

    @property
    def n_plants(self) -> int:
        return len(self.plant_names)

    @property
    def n_periods(self) -> int:
        return len(self.spot_price_per_mwh)

    @property
    def n_scenarios(self) -> int:
        return len(self.spot_price_per_mwh[0])

    @property
    def plant_alpha(self) -> float:
        return self.alpha if self.alpha_plants is None else self.alpha_plants

    @property
    def money_per_unit(self) -> float:
        """M$ per (MW average x $/MWh) in one period."""
        return self.period_hours * MONEY_UNIT

    # ------------------------------------------------------------------ derived arrays

    @cached_property
    def scenario_terms(self) -> ScenarioTerms:
        return ScenarioTerms.from_data(self)

    @cached_property
    def big_m_value(self) -> float:
        return self.big_m if self.big_m is not None else choose_big_m(self)

    def fingerprint(self) -> str:
        """A stable key of the data (for caching the enumeration oracle per case)."""
        import hashlib

        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True)
class ScenarioTerms:
    """The seed's sums over t, once per scenario (M$), that both the demand's cost and every
    plant's VPL are linear in:

    * ``spot_cost[s]``   P_s  = k sum_t pi_t,s             (buying 1 MW average at spot)
    * ``contract[s]``    B_s  = k sum_t (pibar - pi_t,s)   (holding 1 MW average of contract)
    * ``plant_margin[i, s]`` A_i,s = k sum_t g_i,t,s (pi_t,s - c_i)  (plant i without contract)

    with pibar = (1/T) sum_t E_s[pi_t,s] and k = money_per_unit. Then the demand's cost is
    C_s = d P_s + Q B_s and plant i's revenue R_i,s = A_i,s + Q_i B_s.
    """

    contract_price: float  # pibar, $/MWh
    spot_cost: np.ndarray  # (S,)
    contract: np.ndarray  # (S,)
    plant_margin: np.ndarray  # (N, S)
    physical_guarantee: np.ndarray  # (N,)

    @classmethod
    def from_data(cls, data: MarketData) -> ScenarioTerms:
        k = data.money_per_unit
        price = np.asarray(data.spot_price_per_mwh, float)  # (T, S)
        generation = np.asarray(data.generation_mw, float)  # (N, T, S)
        cost = np.asarray(data.cost_per_mwh, float)  # (N,)
        contract_price = float(price.mean(axis=1).mean())
        margin = k * np.einsum("its,its->is", generation, price[None] - cost[:, None, None])
        return cls(contract_price=contract_price,
                   spot_cost=k * price.sum(axis=0),
                   contract=k * (contract_price - price).sum(axis=0),
                   plant_margin=margin,
                   physical_guarantee=np.asarray(data.physical_guarantee_mw, float))


# ---------------------------------------------------------------------- risk measures


def tail_weights(n: int, tail_mass: float) -> np.ndarray:
    """Weights of the sorted outcomes (worst first) in a CVaR over a (1 - alpha) tail of
    n equiprobable scenarios, including the fractional atom at the boundary."""
    probability = np.full(n, 1.0 / n)
    before = np.concatenate([[0.0], np.cumsum(probability)[:-1]])
    return np.clip(tail_mass - before, 0.0, probability) / tail_mass


def cvar_upper(outcomes: np.ndarray, alpha: float) -> np.ndarray:
    """CVaR_alpha of a cost (mean of the worst 1 - alpha, i.e. the highest values), by
    sorting; ``outcomes`` has scenarios on its last axis."""
    ordered = -np.sort(-np.asarray(outcomes, float), axis=-1)
    return ordered @ tail_weights(ordered.shape[-1], 1.0 - alpha)


def cvar_lower(outcomes: np.ndarray, alpha: float) -> np.ndarray:
    """CVaR_alpha of a revenue (mean of the worst 1 - alpha, i.e. the lowest values)."""
    ordered = np.sort(np.asarray(outcomes, float), axis=-1)
    return ordered @ tail_weights(ordered.shape[-1], 1.0 - alpha)


def demand_cost_scenarios(data: MarketData, contracted_total: float) -> np.ndarray:
    """C_s = d P_s + Q B_s (M$), the seed's Phi-hat for each scenario."""
    terms = data.scenario_terms
    return data.demand_mw * terms.spot_cost + contracted_total * terms.contract


def demand_risk_cost(data: MarketData, contracted_total: float) -> float:
    """Phi = lambda_d E[C] + (1 - lambda_d) CVaR_alpha[C] with the CVaR by sorting."""
    cost = demand_cost_scenarios(data, contracted_total)
    return float(data.lambda_demand * cost.mean()
                 + (1 - data.lambda_demand) * cvar_upper(cost, data.alpha))


def plant_revenue_scenarios(data: MarketData, contracted: np.ndarray) -> np.ndarray:
    """R_i,s = A_i,s + Q_i B_s (M$), the seed's VPL-hat_i per scenario, shape (N, S)."""
    terms = data.scenario_terms
    return terms.plant_margin + np.asarray(contracted, float)[:, None] * terms.contract[None, :]


def plant_npv(data: MarketData, contracted: np.ndarray) -> np.ndarray:
    """VPL_i = lambda_g E[R_i] + (1 - lambda_g) CVaR[R_i] (lower tail), by sorting, (N,)."""
    revenue = plant_revenue_scenarios(data, contracted)
    return (data.lambda_plants * revenue.mean(axis=1)
            + (1 - data.lambda_plants) * cvar_lower(revenue, data.plant_alpha))


def choose_big_m(data: MarketData) -> float:
    """M from the data: twice the largest |VPL_i(Q_i = 0)|.

    A plant that is not made viable (x_i = 0) has Q_i = 0 (Q_i <= d x_i) and no side payment
    at an optimum, so its constraint reads VPL_i(0) >= -M: any M >= max_i(-VPL_i(0)) leaves
    it slack, and for a chosen plant (x_i = 1) the M term vanishes. The factor 2 keeps the
    slack at least half of M; a larger M only weakens the LP relaxation.
    """
    standalone = plant_npv(data, np.zeros(data.n_plants))
    return float(2.0 * np.max(np.abs(standalone), initial=0.0))
