"""The regional grid oracle (fast_oracle.regional_enumeration, the kit's oracle) gives the
same answer as the point-by-point warm oracle and the engine's enumerate_grid: the same
optimal value, the same leader decision and the same count of tied grid points."""

from __future__ import annotations

import numpy as np
import pytest

from bench.api import certify, load_case
from bench.bilevel.oracle import enumerate_grid
from gridbench_dg_contract_pricing.fast_oracle import regional_enumeration, warm_enumeration
from gridbench_dg_contract_pricing.models import KIT

COARSE = ("dg34_small", "dg85_small", "dg34_multistage_small", "dg85_multistage_small",
          "dg34_pq_small", "dg85_pq_small")


def _problem(registry, name):
    return KIT.problem(load_case(registry.cases[name],
                                 registry.formulations["dg_contract_pricing"]).data)


@pytest.mark.parametrize("name", COARSE)
def test_regional_equals_warm_and_plain_enumeration(registry, name):
    problem = _problem(registry, name)
    regional, warm = regional_enumeration(problem), warm_enumeration(problem)
    plain = enumerate_grid(problem)
    assert regional.status == warm.status == plain.status == "optimal"
    assert regional.leader_value == pytest.approx(warm.leader_value, rel=1e-9, abs=1e-6)
    assert regional.leader_value == pytest.approx(plain.leader_value, rel=1e-7, abs=1e-6)
    assert np.array_equal(regional.x, warm.x)
    assert regional.ties == warm.ties
    assert regional.lps <= warm.lps
    assert certify(problem, regional.x, regional.y).certified


def test_regional_equals_warm_on_a_full_case(registry):
    """dg34_scenario_C at full size (961 price points, 10 blocks): 47 LPs instead of 19,220
    (measured), the same optimum."""
    problem = _problem(registry, "dg34_scenario_C")
    regional, warm = regional_enumeration(problem), warm_enumeration(problem)
    assert regional.leader_value == pytest.approx(warm.leader_value, rel=1e-9)
    assert np.array_equal(regional.x, warm.x)
    assert regional.lps * 20 < warm.lps


def test_a_tie_is_broken_optimistically(registry):
    """Both units at the substation bus and a flat wholesale price of 61 on the grid 60-62:
    at 61 the follower is indifferent between the units and the substation (every grid
    point of that price is on a region's boundary), and the optimistic answer buys both
    units' full output, 1 EUR/MWh above their cost of 60."""
    data = load_case(registry.cases["dg34_small"],
                     registry.formulations["dg_contract_pricing"]).data
    tied = data.model_copy(update={"price_min": 60.0, "price_max": 62.0, "price_steps": 2,
                                   "dg_bus": [1, 1],
                                   "block_price": [61.0] * len(data.block_price)})
    problem = KIT.problem(tied)
    regional, warm = regional_enumeration(problem), warm_enumeration(problem)
    assert regional.leader_value == pytest.approx(warm.leader_value, rel=1e-9, abs=1e-6)
    assert np.array_equal(regional.x, warm.x)
    assert list(regional.x) == [61.0, 61.0]
    full_output = (61.0 - 60.0) * sum(tied.dg_capacity_mw) * sum(tied.block_hours)
    assert regional.leader_value == pytest.approx(full_output, rel=1e-9)
