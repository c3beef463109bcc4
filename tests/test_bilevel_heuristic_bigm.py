"""Big-Ms without the user (issue 15): where nothing is proven, kkt_bigm runs on a heuristic
big-M, doubled while it is active, and says so; a reformulation's "infeasible" that the oracle
contradicts is an error; a continuous leader that stays out of the follower keeps the grid's
dual bounds."""

from __future__ import annotations

import json

import numpy as np
from conftest import REPO, gridbench

from bench.bilevel import BilevelBuilder
from bench.bilevel.bounds import GRID_DUALS, HEURISTIC, BoundDeriver, heuristic_big_m
from bench.bilevel.dual import stack_follower
from bench.bilevel.reformulate import reformulate
from bench.bilevel.tolerances import POLICY

DATA = REPO / "tests" / "data"


def _runs(tmp_path, case, *args: str) -> dict:
    out = tmp_path / "out.json"
    done = gridbench("run", "--case-file", str(case), "--json", str(out), *args)
    assert out.exists(), done.stderr
    return {(r["variant"], r["backend"], r["solver"]): r
            for r in json.loads(out.read_text())["runs"]}


def test_a_free_follower_variable_gets_a_heuristic_big_m_doubled_until_inactive(tmp_path):
    """y is free, so the slack of y >= -x has no bound over the high-point relaxation; at the
    optimum (x = y = 500, by hand) it is 1000, ten times the first heuristic value (100):
    four doublings reach 1600, where it is inactive, and the oracle certifies the answer."""
    runs = _runs(tmp_path, DATA / "bilevel_free_follower.toml", "--variant", "kkt_bigm",
                 "--variant", "enumeration")
    oracle = runs[("enumeration", "bilevel_oracle", "builtin")]
    assert oracle["status"] == "optimal"
    bigm = {k: r for k, r in runs.items() if k[0] == "kkt_bigm"}
    assert len(bigm) >= 4
    for key, run in bigm.items():
        assert run["status"] == "optimal", (key, run["message"])
        assert abs(run["objective"] - oracle["objective"]) <= 1e-6 * abs(oracle["objective"])
        q = run["quantities"]
        assert q["certified"] == 1.0 and q["n_bigm_heuristic"] == 2.0
        assert q["n_bigm_doublings"] == 4.0 and q["bigm_heuristic_value"] == 1600.0
        assert run["message"].count("doubled") == 4, run["message"]
        assert "heuristic big-M 100 active at M_primal[row above_minus_x]" in run["message"]


def test_a_reformulation_infeasible_where_the_oracle_finds_a_point_is_an_error(tmp_path):
    """The same problem with x >= 100 and a stated big-M of 10 used for every pair: the slack
    is at least 200 at every bilevel-feasible point, so kkt_bigm is infeasible; the oracle
    finds F = -500, so the run is an error that says so, never a silent infeasible."""
    text = (DATA / "bilevel_free_follower.toml").read_text().replace(
        "[data]\n", '[data]\nbig_m = 10.0\nbig_m_mode = "stated"\n') + '''
[[data.leader_constraints]]
name = "at_least"
terms = { x = 1.0 }
sense = ">="
rhs = 100.0
'''
    case = tmp_path / "small_m.toml"
    case.write_text(text)
    runs = _runs(tmp_path, case, "--variant", "kkt_bigm", "--variant", "kkt_sos1",
                 "--variant", "enumeration", "-b", "pulp", "-b", "bilevel_oracle")
    assert runs[("enumeration", "bilevel_oracle", "builtin")]["objective"] == -500.0
    run = runs[("kkt_bigm", "pulp", "cbc")]
    assert run["status"] == "error", run["message"]
    assert "reformulation infeasible, oracle found F = -500" in run["message"]
    assert "unproven (stated) big-Ms may have cut it off" in run["message"]
    assert runs[("kkt_sos1", "pulp", "cbc")]["status"] == "optimal"


def _with_rows(tmp_path, rows: str):
    case = tmp_path / "case.toml"
    case.write_text((DATA / "bilevel_free_follower.toml").read_text() + rows)
    return _runs(tmp_path, case, "--variant", "kkt_bigm", "--variant", "enumeration",
                 "-b", "pulp", "-b", "bilevel_oracle")


def test_an_infeasible_problem_under_heuristic_big_ms_says_the_oracle_confirms_it(tmp_path):
    """The leader needs y >= |x| + 1, the follower answers y = |x|: no bilevel-feasible point,
    though the high-point relaxation has many. Infeasible under heuristic big-Ms, so they are
    doubled up to the limit; then the oracle confirms."""
    runs = _with_rows(tmp_path, '''
[[data.leader_constraints]]
name = "above_x_plus_one"
terms = { x = -1.0, y = 1.0 }
sense = ">="
rhs = 1.0

[[data.leader_constraints]]
name = "above_minus_x_plus_one"
terms = { x = 1.0, y = 1.0 }
sense = ">="
rhs = 1.0
''')
    assert runs[("enumeration", "bilevel_oracle", "builtin")]["status"] == "infeasible"
    run = runs[("kkt_bigm", "pulp", "cbc")]
    assert run["status"] == "infeasible", run["message"]
    assert run["message"].count("infeasible with heuristic big-Ms") == 5
    assert "the exact oracle (complementarity branch-and-bound) confirms" in run["message"]


def test_an_empty_high_point_relaxation_is_infeasible_without_doubling(tmp_path):
    """y <= -1 for the leader, y >= |x| for the follower: no point at all; the reformulation
    says why, and no big-M is doubled (none is to blame)."""
    runs = _with_rows(tmp_path, '''
[[data.leader_constraints]]
name = "impossible"
terms = { y = 1.0 }
sense = "<="
rhs = -1.0
''')
    assert runs[("enumeration", "bilevel_oracle", "builtin")]["status"] == "infeasible"
    run = runs[("kkt_bigm", "pulp", "cbc")]
    assert run["status"] == "infeasible", run["message"]
    assert "doubled" not in run["message"]
    assert "no leader decision admits a feasible follower" in run["message"]


def _mixed_leaders():
    """x (grid) sets the follower's capacity; w (continuous) is the leader's own: it is in
    the leader's objective and a coupling row only, never in the follower's problem."""
    b = BilevelBuilder("mixed")
    x = b.leader("x", lower=1.0, upper=3.0, grid=[1.0, 2.0, 3.0])
    w = b.leader("w", lower=0.0, upper=10.0)
    y = b.follower("y", lower=0.0)
    b.follower_minimize(-1.0 * y)
    b.follower_constraint(y - x <= 0.0, "cap")
    b.leader_constraint(w - y >= -1.0, "couple")
    b.leader_minimize(w - 2.0 * y)
    return b.build()


def test_a_continuous_leader_outside_the_follower_keeps_the_grid_dual_bounds():
    problem = _mixed_leaders()
    deriver = BoundDeriver(problem, stack_follower(problem))
    st = deriver.stacked
    for k in range(st.n_duals):
        assert deriver.dual_range(k).source.startswith(GRID_DUALS), st.names[k]
    model = reformulate(problem, "kkt_bigm")
    assert model.big_m.valid.all(), model.big_m.sources
    assert HEURISTIC not in model.big_m.sources


def test_the_heuristic_value_is_a_hundred_times_the_largest_number():
    problem = _mixed_leaders()
    assert heuristic_big_m(problem) == 100.0 * 10.0  # w <= 10
    assert heuristic_big_m(problem, 4.0) == 4000.0
    assert np.isfinite(heuristic_big_m(problem))


def test_every_shipped_textbook_case_runs_kkt_bigm_without_its_stated_big_m(tmp_path):
    """Each case file in cases/bilevel_textbook/ with its big_m line removed (the designed
    too-small stated case keeps it: stating it is its point): kkt_bigm runs on proven and
    heuristic big-Ms only, agrees with the oracle and is certified."""
    cases = sorted((REPO / "cases" / "bilevel_textbook").glob("*.toml"))
    args = []
    for path in cases:
        if path.stem == "pineda_morales_2019_small_m":
            continue
        text = "\n".join(line for line in path.read_text().splitlines()
                         if not line.startswith("big_m ="))
        text = text.replace(f'name = "{path.stem}"', f'name = "{path.stem}_no_m"', 1)
        own = tmp_path / f"{path.stem}_no_m.toml"
        own.write_text(text)
        args += ["--case-file", str(own)]
    out = tmp_path / "out.json"
    done = gridbench("run", *args, "-f", "bilevel_textbook", "--variant", "kkt_bigm",
                     "--variant", "enumeration", "-b", "pulp", "-s", "highs",
                     "-b", "bilevel_oracle", "-s", "builtin", "--json", str(out))
    assert out.exists(), done.stderr
    runs = json.loads(out.read_text())["runs"]
    bigm = [r for r in runs if r["variant"] == "kkt_bigm" and r["case"].endswith("_no_m")]
    assert len(bigm) == len(cases) - 1
    for run in bigm:
        assert run["status"] == "optimal", (run["case"], run["message"],
                                            run["uncertified_reasons"])
        q = run["quantities"]
        assert q["certified"] == 1.0, run["case"]
        assert POLICY.optimal(q["oracle_gap"], q["oracle_value"]), run["case"]
        assert q.get("n_bigm_unproven", 0.0) == q.get("n_bigm_heuristic", 0.0), run["case"]


def test_a_free_follower_variable_bounded_by_its_rows_gets_proven_big_ms():
    """y is free, but the follower's rows hold it in [x - 1, 4] with x in [0, 2]: the
    bounding LP over the high-point relaxation proves every slack's big-M, so no heuristic
    value is used."""
    b = BilevelBuilder("free_but_bounded")
    x = b.leader("x", lower=0.0, upper=2.0)
    y = b.follower("y", lower=-np.inf)
    b.follower_minimize(-1.0 * y)
    b.follower_constraint(y - x >= -1.0, "below")
    b.follower_constraint(y <= 4.0, "cap")
    b.leader_minimize(x - y)
    model = reformulate(b.build(), "kkt_bigm")
    assert model.big_m.valid.all(), list(zip(model.big_m.names, model.big_m.sources,
                                             strict=True))
    assert HEURISTIC not in model.big_m.sources
