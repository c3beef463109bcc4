"""The automatic dual of the bilevel engine against HiGHS's own duals, on random LPs.

Each LP is stated with the engine's builder (leader-dependent costs and right-hand sides at a
fixed leader decision), min or max, with every bound type (free, lower, upper, boxed, fixed)
and every row sense. Feasibility and boundedness are guaranteed by construction (a primal
point inside the bounds and a sign-feasible dual that defines the costs), so every LP has an
optimum and both checks are exercised on all of them.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp

from bench.bilevel import BilevelBuilder, solve_dual, solve_follower, stack_follower

N_LPS = 240
BOUND_TYPES = ("free", "lower", "upper", "boxed", "fixed")
SENSES = ("<=", ">=", "==")


def _random_lp(rng: np.random.Generator, index: int):
    n_y, n_rows, n_x = int(rng.integers(1, 7)), int(rng.integers(0, 7)), int(rng.integers(1, 3))
    kinds = rng.choice(BOUND_TYPES, n_y)
    lo, hi, y0 = np.full(n_y, -np.inf), np.full(n_y, np.inf), np.zeros(n_y)
    for j, kind in enumerate(kinds):
        base = rng.normal(0, 3)
        if kind == "free":
            y0[j] = base
        elif kind == "lower":
            lo[j], y0[j] = base, base + abs(rng.normal(0, 2)) * rng.integers(0, 2)
        elif kind == "upper":
            hi[j], y0[j] = base, base - abs(rng.normal(0, 2)) * rng.integers(0, 2)
        elif kind == "boxed":
            lo[j], hi[j] = base, base + 1 + abs(rng.normal(0, 3))
            y0[j] = rng.uniform(lo[j], hi[j])
        else:
            lo[j] = hi[j] = y0[j] = base
    senses = rng.choice(SENSES, n_rows)
    A = rng.normal(0, 1, (n_rows, n_y)) * (rng.random((n_rows, n_y)) < 0.7)
    B = rng.normal(0, 1, (n_rows, n_x))
    x0 = rng.uniform(-2, 2, n_x)
    slack = np.abs(rng.normal(0, 1, n_rows)) * (rng.random(n_rows) < 0.6)
    rhs = A @ y0 + np.where(senses == "<=", slack, np.where(senses == ">=", -slack, 0.0))
    b0 = rhs - B @ x0
    # a sign-feasible dual defines the (min-form) costs: the LP is bounded
    row_dual = rng.normal(0, 1, n_rows) * (rng.random(n_rows) < 0.7)
    row_dual = np.where(senses == "<=", -np.abs(row_dual),
                        np.where(senses == ">=", np.abs(row_dual), row_dual))
    reduced = np.zeros(n_y)
    for j, kind in enumerate(kinds):
        r = rng.normal(0, 1) * (rng.random() < 0.7)
        if kind == "lower":
            reduced[j] = abs(r)
        elif kind == "upper":
            reduced[j] = -abs(r)
        elif kind in ("boxed", "fixed"):
            reduced[j] = r
    cost_min = A.T @ row_dual + reduced
    sense = "min" if index % 2 == 0 else "max"
    C = rng.normal(0, 1, (n_y, n_x)) * (rng.random((n_y, n_x)) < 0.5)
    c_user = cost_min if sense == "min" else -cost_min
    c0 = c_user - C @ x0

    b = BilevelBuilder(f"random_{index}")
    x = b.leader("x", n_x, lower=-5, upper=5)
    y = b.follower("y", n_y, lower=lo, upper=hi)
    objective = y.dot(c0) + (x[None, :] * y[:, None]).dot(C)
    (b.follower_minimize if sense == "min" else b.follower_maximize)(objective)
    for s in SENSES:
        rows = np.flatnonzero(senses == s)
        if len(rows) == 0:
            continue
        lhs = sp.csr_matrix(A[rows]) @ y - B[rows] @ x
        con = {"<=": lhs <= b0[rows], ">=": lhs >= b0[rows], "==": lhs == b0[rows]}[s]
        b.follower_constraint(con, name=f"rows_{s}")
    b.leader_minimize(x.sum())
    return b.build(), x0, list(kinds), list(senses), sense


@pytest.fixture(scope="module")
def random_lps():
    rng = np.random.default_rng(20240601)
    return [_random_lp(rng, i) for i in range(N_LPS)]


def test_the_suite_covers_every_bound_type_sense_and_direction(random_lps):
    bounds = Counter(k for _, _, kinds, _, _ in random_lps for k in kinds)
    senses = Counter(s for _, _, _, rows, _ in random_lps for s in rows)
    directions = Counter(d for *_, d in random_lps)
    assert len(random_lps) >= 200
    assert all(bounds[k] >= 50 for k in BOUND_TYPES), bounds
    assert all(senses[s] >= 50 for s in SENSES), senses
    assert directions["min"] >= 100 and directions["max"] >= 100


def test_highs_duals_satisfy_the_automatic_dual_and_strong_duality(random_lps):
    solved = 0
    for problem, x0, *_ in random_lps:
        stacked = stack_follower(problem)
        primal = solve_follower(problem, x0, stacked)
        assert primal.status == "optimal", (problem.name, primal.message)
        d, y = primal.duals, primal.y
        scale = 1 + np.abs(stacked.cost(x0)).max()
        # HiGHS's duals are feasible for the derived dual: Abar'd = sign*c(x), signs
        assert np.abs(stacked.dual_residual(x0, d)).max() <= 1e-7 * scale, problem.name
        lower, upper = stacked.dual_bounds()
        assert np.all(d >= lower - 1e-9) and np.all(d <= upper + 1e-9), problem.name
        # strong duality with HiGHS's duals: sign*c(x).y = beta(x).d (thesis eq. 17)
        value = stacked.cost(x0) @ y
        assert abs(value - primal.value) <= 1e-9 * (1 + abs(value))
        assert abs(stacked.dual_objective(x0, d) - value) <= 1e-7 * (1 + abs(value)), \
            problem.name
        # complementary slackness pairs every inequality with its dual
        slack = stacked.slack(x0, y)
        pairs = stacked.pairs
        assert np.abs(slack[pairs] * d[pairs]).max(initial=0) <= 1e-7 * scale, problem.name
        solved += 1
    assert solved >= 200


def test_the_derived_dual_lp_has_the_primal_optimal_value(random_lps):
    for problem, x0, *_ in random_lps:
        stacked = stack_follower(problem)
        primal = solve_follower(problem, x0, stacked)
        dual = solve_dual(problem, x0, stacked)
        assert dual.status == "optimal", (problem.name, dual.message)
        assert abs(dual.value - primal.value) <= 1e-7 * (1 + abs(primal.value)), problem.name
        assert np.abs(stacked.dual_residual(x0, dual.duals)).max() <= 1e-7 * (
            1 + np.abs(stacked.cost(x0)).max())


def test_an_infeasible_follower_has_an_unbounded_or_infeasible_dual():
    b = BilevelBuilder("infeasible")
    x = b.leader("x", lower=0, upper=1)
    y = b.follower("y", lower=0, upper=1)
    b.follower_minimize(y.sum())
    b.follower_constraint(y + x >= 3, name="too_much")
    b.leader_minimize(x.sum())
    problem = b.build()
    assert solve_follower(problem, np.array([0.5])).status == "infeasible"
    assert solve_dual(problem, np.array([0.5])).status in ("unbounded", "infeasible")
