"""Chapters 7-10's location feature (issue 14): the leader builds at most w^max of the
candidate units (per stage, never fewer later, with a price per stage); the decomposition
oracles (one grid oracle per location set, the best chain of sets over stages) equal plain
enumeration of every leader point, and the engine's reformulations agree with them."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from bench.api import certify, load_case
from bench.bilevel.oracle import enumerate_grid
from bench.records import SolveLimits, Status
from gridbench_dg_contract_pricing.data import DGContractData, network_of, problem_from_data
from gridbench_dg_contract_pricing.location_oracle import (
    TooManySets,
    decomposition_oracle,
    location_sets,
)

CANDIDATES = [10, 17, 24]  # a far leaf, the thesis's GD1 and GD2 buses (34 buses)


def _location_case(registry, max_units: int = 2, steps: int = 1, source: str = "dg34_small",
                   **extra) -> DGContractData:
    base = load_case(registry.cases[source],
                     registry.formulations["dg_contract_pricing"]).data
    n = len(CANDIDATES)
    return DGContractData.model_validate(base.model_dump() | {
        "dg_names": [f"bus{b}" for b in CANDIDATES], "dg_bus": CANDIDATES,
        "dg_capacity_mw": [1.5] * n, "dg_min_mw": [0.0] * n, "dg_cost": [60.0] * n,
        "price_steps": steps, "location": {"max_units": max_units}} | extra)


def test_location_is_case_data(registry):
    data = _location_case(registry)
    problem = problem_from_data(data)
    assert problem.leader_names[-3:] == ("built[0]", "built[1]", "built[2]")
    assert problem.leader_row_names == ("max_units",)
    assert problem.B.nnz == len(CANDIDATES) * len(data.block_level)  # P^gd <= P-bar u
    with pytest.raises(ValueError, match="dg_min_mw = 0"):
        _location_case(registry, dg_min_mw=[0.1, 0.0, 0.0])
    with pytest.raises(ValueError, match="max_units exceeds"):
        _location_case(registry, max_units=4)
    assert list(location_sets(3, 2)) == [(), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2)]


@pytest.mark.parametrize("max_units, source", [
    (1, "dg34_small"), (2, "dg34_small"),
    (2, "dg34_pq_small"),  # chapter 9: location with the PQ model
    (2, "dg34_multistage_small"),  # chapter 10's pair of features: one location, 3 stages
])
def test_the_decomposition_equals_plain_enumeration(registry, max_units, source):
    data = _location_case(registry, max_units, source=source)
    problem = problem_from_data(data)
    plain = enumerate_grid(problem)  # every (price, built) point of the leader
    split = decomposition_oracle(data, problem)
    assert split.status == plain.status == "optimal"
    assert split.leader_value == pytest.approx(plain.leader_value, rel=1e-9)
    built = problem.block("built", split.x)
    assert built.sum() <= max_units
    cert = certify(problem, split.x, split.y)  # the follower re-solved at its decision
    assert cert.certified, cert.summary()
    assert problem.leader_objective(split.x, split.y) == pytest.approx(split.leader_value)


@pytest.mark.parametrize("source", ["dg34_small", "dg34_pq_small", "dg34_multistage_small"])
def test_the_bounds_are_at_least_each_sets_optimum(registry, source):
    """The additive bound (sum of the unit terms), the grid cap and the knapsack bound are
    each at least every set's own optimum, and pruning changes nothing."""
    from gridbench_dg_contract_pricing.fast_oracle import regional_enumeration
    from gridbench_dg_contract_pricing.location_oracle import (
        fixed_set,
        grid_caps,
        knapsack_bounds,
        unit_bounds,
    )

    data = _location_case(registry, steps=2, source=source)
    problem = problem_from_data(data)
    full = decomposition_oracle(data, problem, prune=False)
    pruned = decomposition_oracle(data, problem)
    assert pruned.leader_value == pytest.approx(full.leader_value, rel=1e-9)
    net = network_of(data)
    x0, y0 = _nothing_built(problem)  # None on dg34_pq_small: no-DG peak infeasible
    no_dg = None if y0 is None else problem.follower_objective(x0, y0)
    bounds = unit_bounds(data, net)
    assert (bounds is None) == (no_dg is None)
    if bounds is not None:
        assert bounds[1] == pytest.approx(no_dg, rel=1e-9)
        assert np.all(bounds[0] >= 0)
    caps = grid_caps(data, net)
    for units in [u for u in location_sets(len(CANDIDATES), 2) if u]:
        alone = regional_enumeration(problem_from_data(fixed_set(data, units))).leader_value
        assert caps[list(units)].sum() >= alone - 1e-6
        if bounds is not None:
            assert bounds[0][list(units)].sum() >= alone - 1e-6
            (knapsack,) = knapsack_bounds(data, net, np.array([units]))
            assert knapsack >= alone - 1e-6
    assert "pruned" in pruned.method
    assert full.nodes == len(list(location_sets(len(CANDIDATES), 2))) - 1


def _mini_85_pq(registry, candidates=(20, 32, 58, 2), max_units: int = 2) -> DGContractData:
    """dg85_location_pq with a few candidates and three prices (60, 65, 70)."""
    base = load_case(registry.cases["dg85_location_pq"],
                     registry.formulations["dg_contract_pricing"]).data
    n = len(candidates)
    return DGContractData.model_validate(base.model_dump() | {
        "dg_names": [f"bus{b}" for b in candidates], "dg_bus": list(candidates),
        "dg_capacity_mw": [1.5] * n, "dg_min_mw": [0.0] * n, "dg_cost": [55.0] * n,
        "price_steps": 2, "location": {"max_units": max_units},
        "published_prices": [], "published_locations": []})


@pytest.mark.parametrize("case", ["dg34_small", "dg85_pq_mini"])
def test_the_reference_cuts_bound_every_grid_point(registry, case):
    """reference_cuts.py's bound is at least the set's optimistic profit at every point of
    its price grid (the follower re-solved there), for every set of at most two units."""
    from bench.api import optimistic_response
    from gridbench_dg_contract_pricing.location_oracle import fixed_set
    from gridbench_dg_contract_pricing.reference_cuts import ReferenceCuts

    data = (_location_case(registry, steps=2) if case == "dg34_small"
            else _mini_85_pq(registry, candidates=(20, 32, 2)))
    cuts = ReferenceCuts(data)
    grid = network_of(data).grid
    tight = 0
    for units in [u for u in location_sets(len(data.dg_names), 2) if u]:
        problem = problem_from_data(fixed_set(data, units))
        points = np.array(list(itertools.product(range(len(grid)), repeat=len(units))))
        bounds, lower = cuts.bound(units, points)
        lowest = optimistic_response(problem, grid[points[0]]).leader_value
        assert lower <= lowest + 1e-6 * max(1.0, abs(lowest))  # a follower optimum's value
        for point, bound in zip(points, bounds, strict=True):
            profit = optimistic_response(problem, grid[point]).leader_value
            assert bound >= profit - 1e-6 * max(1.0, abs(profit)), (units, grid[point])
            tight += bool(bound <= profit + 1e-6 * max(1.0, abs(profit)))
    assert tight  # the bound is exact at some points (the lowest prices, mostly)


@pytest.mark.parametrize("case, buses", [
    ("dg85_location_pq", [(20, 32, 58), (2, 40, 85), (10, 50, 77)]),
    ("dg34_location_C", [(22, 25), (23, 24), (10, 33)]),
])
def test_the_bounds_hold_on_sets_of_the_full_cases(registry, case, buses):
    """The knapsack bound and the reference cuts, over the whole price grid, are at least
    the set's grid optimum on sets of the full cases (the thesis's set among them)."""
    from gridbench_dg_contract_pricing.location_oracle import SetSolver, knapsack_bounds
    from gridbench_dg_contract_pricing.reference_cuts import ReferenceCuts

    data = load_case(registry.cases[case], registry.formulations["dg_contract_pricing"]).data
    net = network_of(data)
    sets, cuts = SetSolver(data), ReferenceCuts(data)
    for chosen in buses:
        units = tuple(data.dg_bus.index(bus) for bus in chosen)
        optimum = sets.solve(units).leader_value
        points = np.array(list(itertools.product(range(len(net.grid)), repeat=len(units))))
        (knapsack,) = knapsack_bounds(data, net, np.array([units]))
        assert knapsack >= optimum - 1e-6 * optimum
        bounds, lower = cuts.bound(units, points)
        assert bounds.max() >= optimum - 1e-6 * optimum >= lower - 1e-6 * optimum


@pytest.mark.parametrize("case", ["dg34_small", "dg85_pq_mini"])
def test_the_reference_cuts_change_no_answer(registry, case):
    data = (_location_case(registry, steps=2) if case == "dg34_small"
            else _mini_85_pq(registry))
    problem = problem_from_data(data)
    plain = decomposition_oracle(data, problem, prune=False)
    cut = decomposition_oracle(data, problem, reference_cuts=True)
    assert cut.leader_value == pytest.approx(plain.leader_value, rel=1e-9)
    if case == "dg85_pq_mini":  # on dg34_small the knapsack bound leaves nothing to cut
        assert "by the reference cuts" in cut.method
    assert certify(problem, cut.x, cut.y).certified


def _nothing_built(problem):
    from bench.api import optimistic_response

    x = np.array([problem.leader_values(k)[0] for k in range(problem.n_x)], float)
    return x, optimistic_response(problem, x).y


def test_the_decomposition_refuses_too_many_sets(registry):
    data = _location_case(registry)
    with pytest.raises(TooManySets, match="more than 1 of the 7 location sets"):
        decomposition_oracle(data, problem_from_data(data), max_solved=1, prune=False)


@pytest.mark.parametrize("variant", ["strong_duality", "kkt_bigm"])
def test_the_engine_reformulations_agree_with_the_oracle(registry, variant):
    from gridbench_dg_contract_pricing.models import KIT

    data = _location_case(registry, steps=2)
    problem = KIT.problem(data)
    oracle, _ = KIT.oracle(data)
    built = KIT.builder("pyomo")(data, variant)
    backend, solver = registry.backends["pyomo"], registry.solvers[("pyomo", "highs")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = backend.solve(built.native, solver, SolveLimits(time_limit_s=120))
    assert outcome.status is Status.OPTIMAL
    assert outcome.objective == pytest.approx(oracle.leader_value, rel=1e-6)
    solution = built.extract()
    x, y = solution.values["x"], solution.values["y"]
    cert = certify(problem, x, y, oracle=oracle)
    assert cert.certified, cert.summary()
    assert np.sum(problem.block("built", x)) <= 2


def test_the_location_cases_carry_the_thesis_decision(registry, book):
    """Each chapter 7/9 case's published decision is the referenced Table 26/29/43/47 one,
    and re-solving the follower there reports it in the thesis's terms (GD1 < GD2 by bus)."""
    from gridbench_dg_contract_pricing.make_cases import (
        LOCATION_CASES,
        MULTISTAGE_LOCATION_CASES,
    )
    from gridbench_dg_contract_pricing.models import KIT, published_decision_quantities

    for name in (*LOCATION_CASES, *MULTISTAGE_LOCATION_CASES):
        data = load_case(registry.cases[name], registry.formulations["dg_contract_pricing"]).data
        printed = {r.quantity: r.value for r in book.references
                   if r.case == name.removesuffix("_all") and r.variant == "enumeration"}
        units = range(1, data.location.max_units + 1)
        stages = [f"_stage{e + 1}" for e in range(len(data.stages))] if (
            data.price_per_stage) else [""]
        assert data.published_locations == [printed[f"location_gd{k}"] for k in units]
        assert data.published_prices == [printed[f"price_gd{k}{e}"] for k in units
                                         for e in stages]
        if name.startswith("dg85") or name in MULTISTAGE_LOCATION_CASES:
            continue  # one grid oracle per case is enough here: the 34-bus ones
        at = published_decision_quantities(data)
        assert [at[f"published_decision_location_gd{k}"] for k in units] == \
            data.published_locations
        response = KIT.published_response(data)
        assert at["published_decision_profit_total"] == pytest.approx(response.leader_value)


@pytest.mark.parametrize("max_units", [None, 1, 2])
def test_a_price_per_stage_decomposes_by_stage_and_chain(registry, max_units):
    """Chapters 8/10: a price per DG and stage, and with location a set per stage that never
    shrinks (at most w^max). The stage oracle (one grid oracle per stage and set, the best
    chain by dynamic programming) equals plain enumeration of every leader point; two
    stages of the coarse multistage case keep that enumeration small."""
    from gridbench_dg_contract_pricing.location_oracle import stage_oracle

    base = load_case(registry.cases["dg34_multistage_small"],
                     registry.formulations["dg_contract_pricing"]).data
    buses = [17, 24]
    update = {"stages": base.stages[:2], "dg_names": [f"bus{b}" for b in buses],
              "dg_bus": buses, "dg_capacity_mw": [1.5, 1.5], "dg_min_mw": [0.0, 0.0],
              "dg_cost": [60.0, 60.0], "price_steps": 1, "price_per_stage": True}
    if max_units:
        update["location"] = {"max_units": max_units}
    data = DGContractData.model_validate(base.model_dump() | update)
    problem = problem_from_data(data)
    assert problem.n_x == 4 + (4 if max_units else 0)
    plain = enumerate_grid(problem)
    for relax in (True, False):  # the stage relaxation first, or every set at every stage
        split = stage_oracle(data, problem, relax=relax)
        assert split.leader_value == pytest.approx(plain.leader_value, rel=1e-9)
        assert certify(problem, split.x, split.y).certified
        if max_units:
            built = problem.block("built", split.x)
            assert np.all(built.sum(axis=0) <= max_units)
            assert np.all(built[:, 1] >= built[:, 0])


def test_every_referenced_location_quantity_is_computed(registry, book):
    """Each quantity the references hold for a chapter 7-10 case is among those a run of
    that case reports (here at the thesis's decision: the follower re-solved there)."""
    from gridbench_dg_contract_pricing.make_cases import (
        LOCATION_CASES,
        MULTISTAGE_LOCATION,
    )
    from gridbench_dg_contract_pricing.models import KIT, published_decision, thesis_quantities

    for name in (*LOCATION_CASES, *MULTISTAGE_LOCATION):
        if name.startswith("dg85"):
            continue  # the 34-bus ones cover every quantity name
        data = load_case(registry.cases[name], registry.formulations["dg_contract_pricing"]).data
        response = KIT.published_response(data)
        computed = set(thesis_quantities(data, published_decision(data), response.y,
                                         published=False))  # exact names, no case folding
        referenced = {r.quantity for r in book.references if r.case == name}
        assert referenced and referenced <= computed, (name, sorted(referenced - computed))


def test_the_thesis_set_first_changes_nothing(registry):
    """With a published decision the oracle solves the thesis's set first (a good first
    incumbent for the bounds); the optimum is the one without it."""
    data = _location_case(registry, steps=2)
    published = DGContractData.model_validate(data.model_dump() | {
        "published_locations": [17], "published_prices": [data.price_min]})
    plain = decomposition_oracle(data, problem_from_data(data), prune=False)
    first = decomposition_oracle(published, problem_from_data(published))
    assert first.leader_value == pytest.approx(plain.leader_value, rel=1e-9)
