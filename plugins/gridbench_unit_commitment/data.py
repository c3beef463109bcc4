"""Case data of the unit-commitment model (seed 001_7e28a5851423f98c.txt, cell In [20])."""

from __future__ import annotations

from typing import Literal, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, model_validator


class UnitCommitmentData(BaseModel):
    """Generator types g and periods t, in the seed's symbols (comments) and units."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generator_types: list[str] = Field(min_length=1)
    units_available: list[NonNegativeInt]  # n_g
    min_output_mw: list[NonNegativeFloat]  # m_g, per unit
    max_output_mw: list[NonNegativeFloat]  # M_g, per unit
    cost_at_min_per_mwh: list[float]  # c_g: the objective charges c_g * m_g * l_t per unit on
    marginal_cost_per_mwh: list[float]  # v_g: per MWh above the minimum output
    startup_cost: list[NonNegativeFloat]  # s_g, per unit started
    demand_mw: list[NonNegativeFloat] = Field(min_length=1)  # d_t
    period_hours: list[NonNegativeFloat]  # l_t
    reserve_margin: NonNegativeFloat | None = None  # p; omit for no reserve constraint
    # Start-ups of period 1 (variant startup_coupled only): "cyclic" couples period 1 to the
    # last period (the day repeats); a list gives the units on before period 1.
    initial_units_on: Literal["cyclic"] | list[NonNegativeInt] = "cyclic"

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        n_types = len(self.generator_types)
        for name in ("units_available", "min_output_mw", "max_output_mw", "cost_at_min_per_mwh",
                     "marginal_cost_per_mwh", "startup_cost"):
            if len(getattr(self, name)) != n_types:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, "
                                 f"expected one per generator type ({n_types})")
        if len(self.period_hours) != len(self.demand_mw):
            raise ValueError("period_hours and demand_mw need one entry per period")
        if any(lo > hi for lo, hi in zip(self.min_output_mw, self.max_output_mw, strict=True)):
            raise ValueError("min_output_mw exceeds max_output_mw for a generator type")
        if isinstance(self.initial_units_on, list):
            if len(self.initial_units_on) != n_types:
                raise ValueError("initial_units_on needs one entry per generator type")
            if any(on > n for on, n in zip(self.initial_units_on, self.units_available,
                                           strict=True)):
                raise ValueError("initial_units_on exceeds units_available")
        return self

    # numpy views for vectorised code and independent checks (shapes (G,) and (T,))
    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "n": np.asarray(self.units_available, float),
            "m": np.asarray(self.min_output_mw, float),
            "M": np.asarray(self.max_output_mw, float),
            "c": np.asarray(self.cost_at_min_per_mwh, float),
            "v": np.asarray(self.marginal_cost_per_mwh, float),
            "s": np.asarray(self.startup_cost, float),
            "d": np.asarray(self.demand_mw, float),
            "hours": np.asarray(self.period_hours, float),
        }

    @property
    def n_types(self) -> int:
        return len(self.generator_types)

    @property
    def n_periods(self) -> int:
        return len(self.demand_mw)

    def previous_period(self, t: int) -> int | None:
        """Index of period t-1 for the start-up coupling; None when t=0 uses initial_units_on."""
        if t > 0:
            return t - 1
        return self.n_periods - 1 if self.initial_units_on == "cyclic" else None
