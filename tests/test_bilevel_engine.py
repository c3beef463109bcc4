"""The bilevel engine on its own: the builder, the reformulations against the exact oracle on
random gridded problems (solved with scipy's HiGHS MILP, no modelling backend), the
price x quantity structure of the thesis's DG model, and the certifier."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from bench.bilevel import BilevelBuilder, solve_exact
from bench.bilevel.bounds import HEURISTIC, LOCAL_ROWS, STATED, BoundDeriver, BoundOptions
from bench.bilevel.certify import certify
from bench.bilevel.dual import stack_follower
from bench.bilevel.reformulate import ReformulationNotApplicable, SingleLevelModel, reformulate
from bench.errors import NotApplicable


def _solve(model: SingleLevelModel) -> np.ndarray:
    """Solve a single-level model with scipy's HiGHS MILP (no SOS: not for kkt_sos1)."""
    sign = 1.0 if model.sense == "min" else -1.0
    res = milp(sign * model.c, constraints=LinearConstraint(model.A, model.row_lower,
                                                           model.row_upper),
               bounds=Bounds(model.lower, model.upper),
               integrality=(model.kind > 0).astype(int),
               options={"mip_rel_gap": 1e-9})
    assert res.status == 0, res.message
    return res.x


def _pricing(n_dg: int, n_blocks: int, grid, seed: int):
    """The thesis's structure without the network: DG prices on a grid (leader), the
    distribution company buys each block's demand from the substation or the DGs at those
    prices (follower); the DG owners earn (price - cost) x energy (leader objective)."""
    rng = np.random.default_rng(seed)
    rho = rng.uniform(55, 100, n_blocks)
    hours = rng.uniform(200, 1500, n_blocks)
    demand = rng.uniform(1.0, 4.0, n_blocks)
    b = BilevelBuilder(f"pricing_{seed}")
    price = b.leader("price", n_dg, grid=grid)
    p_gd = b.follower("p_gd", (n_dg, n_blocks), lower=0, upper=1.5)
    p_se = b.follower("p_se", n_blocks, lower=0, upper=3.0)
    energy_weight = np.broadcast_to(hours, (n_dg, n_blocks))
    b.follower_minimize(p_se.dot(hours * rho) + (price[:, None] * p_gd).dot(energy_weight))
    b.follower_constraint(p_se + p_gd.sum(axis=0) == demand, name="balance")
    b.leader_maximize((price[:, None] * p_gd).dot(energy_weight) - p_gd.dot(60.0 * energy_weight))
    return b.build()


def test_builder_states_vectorised_blocks_and_products():
    problem = _pricing(2, 3, [65, 80, 95], seed=1)
    assert problem.n_x == 2 and problem.n_y == 2 * 3 + 3
    assert problem.leader_kind == ("grid", "grid")
    # price x energy appears in the follower cost (C) and the leader objective (Q)
    assert problem.C.nnz == 6 and problem.Q.nnz == 6
    assert problem.follower_names[:2] == ("p_gd[0,0]", "p_gd[0,1]")
    assert problem.row_sense == ("==",) * 3
    # the balance rows: p_se[t] + sum_j p_gd[j,t]
    assert problem.A.toarray()[0].tolist() == [1, 0, 0, 1, 0, 0, 1, 0, 0]
    y = np.arange(problem.n_y, dtype=float)
    assert problem.block("p_gd", y).shape == (2, 3)
    assert problem.block("p_se", y).tolist() == [6.0, 7.0, 8.0]


def test_builder_rejects_what_the_problem_class_cannot_state():
    b = BilevelBuilder("bad")
    x = b.leader("x", 2, lower=0, upper=1)
    y = b.follower("y", 2)
    with pytest.raises(ValueError, match="no products"):
        b.follower_constraint(x * y <= 1)
    with pytest.raises(ValueError, match="only leader Vars"):
        _ = (2 * x) * y
    with pytest.raises(ValueError, match="twice"):
        b.follower("y", 1)
    expr = sp.csr_matrix(np.ones((3, 2))) @ y - x.sum()
    assert expr.shape == (3,)


@pytest.mark.parametrize("seed", range(12))
def test_reformulations_match_the_enumeration_oracle_on_random_pricing(seed):
    grid = np.linspace(65, 95, 4)
    problem = _pricing(2, 3, grid, seed)
    oracle = solve_exact(problem)
    assert oracle.status == "optimal" and oracle.points == 16
    for method, form in (("strong_duality", "eq42"), ("strong_duality", "compact"),
                         ("kkt_bigm", "eq42")):
        model = reformulate(problem, method, BoundOptions(product_form=form))
        assert model.size()["n_bigm_unproven"] == 0  # every bound proven
        v = _solve(model)
        x, y = v[model.x_index], v[model.y_index]
        cert = certify(problem, x, y, model, v, oracle)
        assert cert.certified, (method, form, cert.summary())
        assert abs(cert.leader_value - oracle.leader_value) <= 1e-6 * abs(oracle.leader_value)


def _random_bilevel(seed: int, grid: bool):
    """Random bounded linear bilevel problems with leader-dependent right-hand sides."""
    rng = np.random.default_rng(seed)
    n_x, n_y, m = 2, 3, 4
    b = BilevelBuilder(f"random_{seed}")
    x = b.leader("x", n_x, lower=0, upper=4, grid=np.arange(5) if grid else None)
    y = b.follower("y", n_y, lower=0, upper=rng.uniform(3, 6, n_y))
    A = rng.integers(-3, 4, (m, n_y)).astype(float)
    B = rng.integers(-2, 3, (m, n_x)).astype(float)
    b.follower_minimize(y.dot(rng.integers(-3, 4, n_y).astype(float)))
    b.follower_constraint(A @ y - B @ x <= rng.uniform(2, 6, m), name="rows")
    b.leader_minimize(x.dot(rng.integers(-3, 4, n_x).astype(float))
                      + y.dot(rng.integers(-3, 4, n_y).astype(float)))
    return b.build()


@pytest.mark.parametrize("seed", range(15))
def test_reformulations_match_the_oracle_on_random_problems(seed):
    """Gridded leaders: strong duality and KKT (all bounds proven) against enumeration;
    continuous leaders: KKT with a generous stated big-M against branch-and-bound."""
    gridded = _random_bilevel(seed, grid=True)
    oracle = solve_exact(gridded)
    if oracle.status != "optimal":
        pytest.skip(f"random instance {seed} is {oracle.status}")
    for method in ("strong_duality", "kkt_bigm"):
        model = reformulate(gridded, method)
        v = _solve(model)
        cert = certify(gridded, v[model.x_index], v[model.y_index], model, v, oracle)
        assert cert.certified, (seed, method, cert.summary())
    continuous = _random_bilevel(seed, grid=False)
    exact = solve_exact(continuous)
    assert exact.method == "complementarity branch-and-bound"
    # a continuous optimum is at least as good as the gridded one
    assert exact.leader_value <= oracle.leader_value + 1e-7
    model = reformulate(continuous, "kkt_bigm", BoundOptions(big_m=1e4))
    v = _solve(model)
    cert = certify(continuous, v[model.x_index], v[model.y_index], model, v, exact)
    assert cert.certified, (seed, cert.summary())


def test_strong_duality_needs_a_grid_for_continuous_leaders_in_products():
    problem = _random_bilevel(0, grid=False)
    with pytest.raises(ReformulationNotApplicable, match="needs a grid") as info:
        reformulate(problem, "strong_duality")
    assert isinstance(info.value, NotApplicable)  # the runner records not_applicable


def test_a_stated_big_m_is_named_when_active_and_the_oracle_decides():
    b = BilevelBuilder("pineda_morales")
    x = b.leader("x", lower=0, upper=2)
    y = b.follower("y", lower=0)
    b.leader_maximize(x + y)
    b.follower_minimize(y.sum())
    b.follower_constraint(100 * x - y <= 100, name="c")
    problem = b.build()
    oracle = solve_exact(problem)
    assert oracle.leader_value == pytest.approx(102)
    model = reformulate(problem, "kkt_bigm", BoundOptions(big_m=50, big_m_mode="stated"))
    assert set(model.big_m.sources) == {STATED}
    v = _solve(model)
    x_, y_ = v[model.x_index], v[model.y_index]
    assert problem.leader_objective(x_, y_) == pytest.approx(51.5)
    alone = certify(problem, x_, y_, model, v)  # without the oracle
    assert alone.follower_gap == pytest.approx(0, abs=1e-9)  # the follower's answer is optimal
    assert not alone.certified and "M_primal[lower bound of y]" in alone.summary()
    with_oracle = certify(problem, x_, y_, model, v, oracle)
    assert with_oracle.oracle_gap == pytest.approx(50.5)
    # with derived bounds the dual Ms are proven; the primal slacks (y unbounded) have no
    # proof, so they get the heuristic value, marked unproven (the kit doubles it while active)
    derived = reformulate(problem, "kkt_bigm")
    table = derived.big_m
    assert {(table.roles[i], table.sources[i]) for i in np.flatnonzero(~table.valid)} == {
        ("primal slack", HEURISTIC)}
    assert all(table.valid[i] for i in range(len(table)) if table.roles[i] == "dual")


def test_a_dual_with_a_ray_is_found_without_its_bounding_lps():
    """A unit whose limit is a leader's location binary (thesis ch. 7): when the unit is
    not built, the duals of its two limits grow together, so no LP bound exists; the
    recession-cone LPs find that at once, and such a sign-constrained dual gets no LP. A free
    dual (the balance's price) keeps its LPs: the value rows cut its downward ray off (its
    dual objective 3 price must reach the cheapest follower cost, 2 x 50 + 60 = 160)."""
    problem = _location_problem(substation_mw=None)
    deriver = BoundDeriver(problem, stack_follower(problem), BoundOptions(grid_duals=False))
    up, down = deriver.dual_rays()
    names = deriver.stacked.names
    rays = {names[k] for k in np.flatnonzero(up | down)}
    assert {"row built_capacity[0]", "row built_capacity[1]"} <= rays
    balance = names.index("row balance")
    assert down[balance] and not up[balance]  # the energy price: at most the substation's
    before = deriver.lps_solved
    assert deriver._lp_side(names.index("row built_capacity[0]"), up=False) == -np.inf
    assert deriver.lps_solved == before  # no bounding LP for a sign-constrained ray
    price = deriver.dual_range(balance)
    assert price.lower == pytest.approx(160 / 3, rel=1e-6)
    assert price.upper == pytest.approx(70.0, rel=1e-6)
    # two LPs for the component's value range, one per side of the price
    assert deriver.lps_solved == before + 4


def _location_problem(substation_mw: float | None):
    b = BilevelBuilder("location")
    built = b.leader("built", 2, lower=0, upper=1, integer=True)
    p_gd = b.follower("p_gd", 2, lower=0)
    p_se = b.follower("p_se", lower=0, upper=substation_mw)
    b.follower_minimize(p_se.dot([70.0]) + p_gd.dot([50.0, 60.0]))
    b.follower_constraint(p_gd - 2 * built <= 0, name="built_capacity")
    b.follower_constraint(p_se + p_gd.sum() == 3, name="balance")
    b.leader_maximize(p_gd.sum())
    return b.build()


def test_a_dual_with_a_ray_gets_a_proven_bound_from_its_variables_reduced_cost():
    """The duals of a unit's limits have a ray (above), but some optimal dual keeps them
    within the unit's reduced cost, 50 - price; the price is bounded by an LP over duals whose
    objective can equal the follower's value (with a slack substation capacity of 10 MW
    the price alone also has a ray: 700 - 7 price >= 160, the cheapest follower cost, gives
    price <= 540/7). So the MILP needs no stated big-M and equals the oracle."""
    problem = _location_problem(substation_mw=10.0)
    deriver = BoundDeriver(problem, stack_follower(problem), BoundOptions(grid_duals=False))
    names = deriver.stacked.names
    price = deriver.dual_range(names.index("row balance"))
    assert price.upper == pytest.approx(540 / 7, rel=1e-6)
    capacity = deriver.dual_range(names.index("row built_capacity[0]"))
    assert capacity.source == LOCAL_ROWS and capacity.upper == 0.0
    assert capacity.lower == pytest.approx(50 - 540 / 7, rel=1e-6)
    model = reformulate(problem, "strong_duality", BoundOptions(grid_duals=False))
    assert STATED not in set(model.big_m.sources)
    # the bounding LPs ran in HiGHS in this process; a HiGHS started afterwards with another
    # thread count still runs (the engine releases HiGHS's per-process thread scheduler)
    highspy = pytest.importorskip("highspy")
    later = highspy.Highs()
    later.setOptionValue("output_flag", False)
    later.setOptionValue("threads", 2)
    later.addVar(0.0, 1.0)
    assert later.run() == highspy.HighsStatus.kOk
    v = _solve(model)
    assert problem.leader_objective(v[model.x_index], v[model.y_index]) == pytest.approx(
        solve_exact(problem).leader_value)


def test_a_units_capability_rows_are_bounded_as_one_local_group():
    """With reactive power (thesis ch. 9) a unit's P and Q share capability rows, so the
    duals of its limits are bounded together: a vertex of the dual of the unit's own rows
    (2 x 2 bases) at the reduced costs of P and Q. No stated big-M, and the MILP equals the
    oracle."""
    b = BilevelBuilder("location_pq")
    built = b.leader("built", 2, lower=0, upper=1, integer=True)
    p_gd = b.follower("p_gd", 2, lower=0)
    q_gd = b.follower("q_gd", 2, lower=0)
    p_se = b.follower("p_se", lower=0, upper=10)
    q_se = b.follower("q_se", lower=0, upper=10)
    b.follower_minimize(p_se.dot([70.0]) + q_se.dot([5.0]) + p_gd.dot([50.0, 60.0]))
    b.follower_constraint(p_gd - 2 * built <= 0, name="built_capacity")
    b.follower_constraint(q_gd - 0.5 * p_gd <= 0, name="power_factor")
    b.follower_constraint(p_gd + q_gd <= 2.2, name="chord")
    b.follower_constraint(p_se + p_gd.sum() == 3, name="p_balance")
    b.follower_constraint(q_se + q_gd.sum() == 1, name="q_balance")
    b.leader_maximize(p_gd.sum() + 0.5 * q_gd.sum())
    problem = b.build()
    deriver = BoundDeriver(problem, stack_follower(problem), BoundOptions(grid_duals=False))
    names = deriver.stacked.names
    group = deriver._local_group(names.index("row built_capacity[0]"))
    assert group is not None and len(group[0]) == 2  # P and Q of unit 0
    for row in ("row built_capacity[0]", "row power_factor[0]", "row chord[0]"):
        bound = deriver.dual_range(names.index(row))
        assert bound.source == LOCAL_ROWS and np.isfinite(bound.lower) and bound.upper == 0.0
    model = reformulate(problem, "strong_duality", BoundOptions(grid_duals=False))
    assert set(model.big_m.sources) == {LOCAL_ROWS}
    v = _solve(model)
    assert problem.leader_objective(v[model.x_index], v[model.y_index]) == pytest.approx(
        solve_exact(problem).leader_value)


def test_certificate_catches_a_follower_answer_that_is_not_optimal():
    b = BilevelBuilder("cheap_dg")
    price = b.leader("price", grid=[10.0, 20.0])
    dg = b.follower("dg", lower=0, upper=1)
    grid_energy = b.follower("substation", lower=0, upper=5)
    b.follower_minimize(50 * grid_energy + (price * dg))
    b.follower_constraint(dg + grid_energy == 2, name="demand")
    b.leader_maximize((price * dg) - 5 * dg)
    problem = b.build()
    oracle = solve_exact(problem)
    assert oracle.x.tolist() == [20.0] and oracle.y.tolist() == [1.0, 1.0]
    # the distribution company ignores the cheaper DG: feasible, not follower-optimal
    cert = certify(problem, np.array([20.0]), np.array([0.0, 2.0]), oracle=oracle)
    assert cert.follower_violation == 0
    assert cert.follower_gap == pytest.approx(30.0)  # 50 * 2 - (20 * 1 + 50 * 1)
    assert not cert.certified and "not follower-optimal" in cert.summary()
    failing = {c.quantity for c in cert.checks() if c.verdict.value == "fail"}
    assert {"follower_optimality_gap", "oracle_agreement"} <= failing
