"""Scaling cases: N prosumers x T periods drawn around the seed's two prosumers.

Generated prosumers copy the seed's two prosumers in turn (odd: prosumer 1, even:
prosumer 2) and multiply every coefficient and limit by their own factor drawn uniformly in
[0.8, 1.2]; efficiencies are drawn in [0.9, 1.0] (the seed's are 1.0, i.e. 100 %). Over the
day a demand profile (+-10 %) and a supply profile (+-20 %, e.g. solar) scale the per-period
limits, and each battery must end the day with at least its initial energy, so the
state-of-charge balance couples the periods. The same (N, T, seed) gives the same case.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# the seed's prosumers in kW / kWh / $ (cases/prosumer_sharing/prosumer_seed_2.toml)
SEED_PROSUMERS: tuple[dict[str, float], ...] = (
    {"demand_a": 2.0, "demand_b": 0.001, "supply_alpha": 0.03, "supply_beta": 0.02,
     "charge_c": 5.0, "charge_d": 0.0005, "discharge_c": 0.02, "discharge_d": 0.003,
     "degradation_gamma": 3e-4, "demand_min_kwh": 80, "demand_max_kwh": 100,
     "supply_max_kwh": 150, "charge_max_kw": 6, "discharge_max_kw": 5,
     "energy_initial_kwh": 50, "energy_max_kwh": 100, "charge_efficiency": 1.0,
     "discharge_efficiency": 1.0},
    {"demand_a": 0.008, "demand_b": 0.009, "supply_alpha": 0.006, "supply_beta": 0.001,
     "charge_c": 0.0008, "charge_d": 0.06, "discharge_c": 0.04, "discharge_d": 0.0001,
     "degradation_gamma": 3e-4, "demand_min_kwh": 140, "demand_max_kwh": 200,
     "supply_max_kwh": 150, "charge_max_kw": 6, "discharge_max_kw": 5,
     "energy_initial_kwh": 50, "energy_max_kwh": 90, "charge_efficiency": 1.0,
     "discharge_efficiency": 1.0},
)
SPREAD = 0.2  # every drawn parameter is the seed's value times U(1 - SPREAD, 1 + SPREAD)
EFFICIENCY_RANGE = (0.9, 1.0)
DEMAND_SWING, SUPPLY_SWING = 0.1, 0.2
# in every period the pool's supply limit is at least this multiple of its minimum demand
SUPPLY_MARGIN = 1.1
# tangent lines per quadratic term in the *_pwl variants of generated cases: 4 terms x
# N x T x segments cuts; 8 keeps PuLP models of 1000 x 24 below a million rows
GENERATED_PWL_SEGMENTS = 8
DEFAULT_SEED = 0


def case_name(prosumers: int, periods: int) -> str:
    return f"prosumer_gen_N{prosumers}_T{periods}"


def generate(prosumers: int, periods: int, seed: int = DEFAULT_SEED,
             pwl_segments: int = GENERATED_PWL_SEGMENTS) -> dict[str, Any]:
    """The raw case mapping ({"case": header, "data": table}) of one generated size."""
    rng = np.random.default_rng([seed, prosumers, periods])
    # alternate the seed's two prosumers (a buyer with a high valuation, a seller with cheap
    # supply), so every size keeps the seed's market structure and only the size grows
    template = np.arange(prosumers) % len(SEED_PROSUMERS)
    base = {key: np.array([SEED_PROSUMERS[k][key] for k in template], float)
            for key in SEED_PROSUMERS[0]}

    def drawn(key: str) -> np.ndarray:
        return base[key] * rng.uniform(1 - SPREAD, 1 + SPREAD, prosumers)

    hours = np.arange(periods) / periods  # fraction of the day
    demand_profile = 1 + DEMAND_SWING * np.sin(2 * np.pi * (hours - 0.25))  # evening peak
    supply_profile = 1 + SUPPLY_SWING * np.cos(2 * np.pi * (hours - 0.5))  # midday peak
    demand_scale = rng.uniform(1 - SPREAD, 1 + SPREAD, prosumers)
    demand_min = base["demand_min_kwh"][:, None] * demand_scale[:, None] * demand_profile
    demand_max = base["demand_max_kwh"][:, None] * demand_scale[:, None] * demand_profile
    supply_max = drawn("supply_max_kwh")[:, None] * supply_profile
    short = SUPPLY_MARGIN * demand_min.sum(axis=0) / supply_max.sum(axis=0)
    supply_max = supply_max * np.maximum(1.0, short)  # keep every period feasible

    energy_initial = drawn("energy_initial_kwh")
    energy_max = np.maximum(drawn("energy_max_kwh"), energy_initial)
    data: dict[str, Any] = {
        "prosumers": [f"prosumer_{i + 1}" for i in range(prosumers)],
        "periods": periods,
        "period_hours": 24.0 / periods,
        "grid_exchange_kwh": 0.0,
        **{key: drawn(key).tolist() for key in (
            "demand_a", "demand_b", "supply_alpha", "supply_beta", "charge_c", "charge_d",
            "discharge_c", "discharge_d", "degradation_gamma")},
        "demand_min_kwh": demand_min.round(6).tolist(),
        "demand_max_kwh": demand_max.round(6).tolist(),
        "supply_max_kwh": supply_max.round(6).tolist(),
        "charge_max_kw": drawn("charge_max_kw").tolist(),
        "discharge_max_kw": drawn("discharge_max_kw").tolist(),
        "energy_initial_kwh": energy_initial.tolist(),
        "energy_max_kwh": energy_max.tolist(),
        "energy_final_min_kwh": energy_initial.tolist(),
        "charge_efficiency": rng.uniform(*EFFICIENCY_RANGE, prosumers).tolist(),
        "discharge_efficiency": rng.uniform(*EFFICIENCY_RANGE, prosumers).tolist(),
        "pwl_segments": pwl_segments,
    }
    header = {
        "name": case_name(prosumers, periods),
        "formulation": "prosumer_sharing",
        "description": f"{prosumers} prosumers x {periods} periods drawn around the seed's two "
                       f"prosumers (generator seed {seed})",
        "fidelity": "reconstructed",
        "provenance": "generated by gridbench_prosumer_sharing.generator from the parameters "
                      "of 000_d1d2f3a0547e2695.txt, cell In [15]",
        "assumptions": [
            f"prosumers copy seed prosumers 1 and 2 in turn, every parameter times "
            f"U({1 - SPREAD}, {1 + SPREAD}); efficiencies U{EFFICIENCY_RANGE}",
            f"demand limits follow a +-{DEMAND_SWING:.0%} daily profile, supply limits a "
            f"+-{SUPPLY_SWING:.0%} profile; a period's supply limits are scaled up where the "
            f"pool could not meet {SUPPLY_MARGIN} x its minimum demand",
            "each battery ends the day with at least its initial energy",
            f"pwl_segments = {pwl_segments} tangent lines per quadratic term",
        ],
    }
    return {"case": header, "data": data}
