"""Case data of the prosumer energy-sharing model (seed 000_d1d2f3a0547e2695.txt).

Column form, one entry per prosumer (as the unit-commitment cases): the seed's
``add_prosumer!`` parameters converted from W / W h to kW / kWh (the notebook's
``sbase_default = 1000``), utility coefficients in $/kWh and $/kWh^2. A per-period
quantity (demand and supply bounds, grid exchange) is a number (every period) or a list
with one value per period. Energies are per period: with ``period_hours = 1`` a power of
6 kW is 6 kWh.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, model_validator

Efficiency = Annotated[float, Field(gt=0, le=1)]
PerPeriod = float | list[float]  # one value for every period, or one value per period

# tangent lines per quadratic term in the piecewise-linear (PuLP) variants: the a-priori
# welfare bound at 128 lines is 9.8e-5 relative on the seed case (docs/prosumer_sharing.md)
DEFAULT_PWL_SEGMENTS = 128

# the columns with one entry per prosumer, and whether they may vary per period
_PER_PROSUMER = ("demand_a", "demand_b", "supply_alpha", "supply_beta", "charge_c",
                 "charge_d", "discharge_c", "discharge_d", "degradation_gamma",
                 "charge_max_kw", "discharge_max_kw", "energy_initial_kwh", "energy_max_kwh",
                 "charge_efficiency", "discharge_efficiency")
_PER_PROSUMER_PERIOD = ("demand_min_kwh", "demand_max_kwh", "supply_max_kwh")


class ProsumerSharingData(BaseModel):
    """N prosumers on one bus over T periods, in the seed's symbols (comments)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prosumers: list[str] = Field(min_length=1)
    periods: int = Field(default=1, ge=1)
    period_hours: PositiveFloat = 1.0
    # sum over prosumers of the shared energy E in each period (import from the grid);
    # zero in the seed: the prosumers only trade among themselves
    grid_exchange_kwh: PerPeriod = 0.0

    # utilities: demand a - b D, supply alpha + beta S, charge cch - dch Qch,
    # discharge cdis + ddis Qdis ($/kWh and $/kWh^2); degradation gamma (Qch + Qdis)
    demand_a: list[float]
    demand_b: list[NonNegativeFloat]
    supply_alpha: list[float]
    supply_beta: list[NonNegativeFloat]
    charge_c: list[float]
    charge_d: list[NonNegativeFloat]
    discharge_c: list[float]
    discharge_d: list[NonNegativeFloat]
    degradation_gamma: list[NonNegativeFloat]

    # limits: pdmin <= D <= pdmax, 0 <= S <= pgmax (kWh per period)
    demand_min_kwh: list[PerPeriod]
    demand_max_kwh: list[PerPeriod]
    supply_max_kwh: list[PerPeriod]
    # battery: charge_ub, discharge_ub (kW), energy (initial), energy_ub (kWh), efficiencies
    charge_max_kw: list[NonNegativeFloat]
    discharge_max_kw: list[NonNegativeFloat]
    energy_initial_kwh: list[NonNegativeFloat]
    energy_max_kwh: list[NonNegativeFloat]
    charge_efficiency: list[Efficiency]
    discharge_efficiency: list[Efficiency]
    # state of charge at the end of the horizon (None: only 0 <= soc <= energy_max);
    # the generator sets it to the initial energy, so a day ends where it started
    energy_final_min_kwh: list[NonNegativeFloat] | None = None

    # tangent lines per quadratic term in the *_pwl variants (outer approximation)
    pwl_segments: int = Field(default=DEFAULT_PWL_SEGMENTS, ge=2)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        n = len(self.prosumers)
        columns = _PER_PROSUMER + _PER_PROSUMER_PERIOD + (
            ("energy_final_min_kwh",) if self.energy_final_min_kwh is not None else ())
        for name in columns:
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, "
                                 f"expected one per prosumer ({n})")
        for name in _PER_PROSUMER_PERIOD:
            for i, value in enumerate(getattr(self, name)):
                if isinstance(value, list) and len(value) != self.periods:
                    raise ValueError(f"{name}[{i}] has {len(value)} periods, "
                                     f"expected {self.periods}")
        if isinstance(self.grid_exchange_kwh, list) and len(self.grid_exchange_kwh) != self.periods:
            raise ValueError(f"grid_exchange_kwh needs {self.periods} periods")
        arrays = self.arrays
        if np.any(arrays["demand_min"] > arrays["demand_max"]):
            raise ValueError("demand_min_kwh exceeds demand_max_kwh")
        if np.any(arrays["energy_initial"] > arrays["energy_max"]):
            raise ValueError("energy_initial_kwh exceeds energy_max_kwh")
        if np.any(arrays["supply_max"] < 0) or np.any(arrays["demand_min"] < 0):
            raise ValueError("demand and supply bounds must be non-negative")
        return self

    @property
    def n_prosumers(self) -> int:
        return len(self.prosumers)

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """numpy views: (N,) per prosumer, (N, T) per prosumer and period, (T,) per period.

        Battery limits become energies per period (kW x period_hours).
        """
        n, t = self.n_prosumers, self.periods

        def column(name: str) -> np.ndarray:
            return np.asarray(getattr(self, name), dtype=float)

        def per_period(name: str) -> np.ndarray:
            out = np.empty((n, t))
            for i, value in enumerate(getattr(self, name)):
                out[i, :] = value
            return out

        final = (np.zeros(n) if self.energy_final_min_kwh is None
                 else column("energy_final_min_kwh"))
        return {
            "a": column("demand_a"), "b": column("demand_b"),
            "alpha": column("supply_alpha"), "beta": column("supply_beta"),
            "cch": column("charge_c"), "dch": column("charge_d"),
            "cdis": column("discharge_c"), "ddis": column("discharge_d"),
            "gamma": column("degradation_gamma"),
            "demand_min": per_period("demand_min_kwh"),
            "demand_max": per_period("demand_max_kwh"),
            "supply_max": per_period("supply_max_kwh"),
            "charge_max": column("charge_max_kw") * self.period_hours,
            "discharge_max": column("discharge_max_kw") * self.period_hours,
            "energy_initial": column("energy_initial_kwh"),
            "energy_max": column("energy_max_kwh"),
            "energy_final_min": final,
            "eta_ch": column("charge_efficiency"),
            "eta_dis": column("discharge_efficiency"),
            "grid": np.broadcast_to(np.asarray(self.grid_exchange_kwh, float), (t,)).copy(),
        }
