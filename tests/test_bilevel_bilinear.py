"""strong_duality_bilinear (issue 15): strong duality with a continuous leader's products kept
as bilinear terms, the exact alternative to a grid, solved by SCIP's spatial branch-and-bound
through Pyomo (the pairs that declare the `bilinear` feature)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import gridbench

from bench.bilevel import BilevelBuilder
from bench.bilevel.reformulate import BIN, ReformulationNotApplicable, reformulate
from bench.records import Feature


def _continuous_leader():
    """Bard (1998) example 5.1.1 as in cases/bilevel_textbook/bard1998_ex511.toml, stated
    with the builder: x continuous enters the follower's rows."""
    b = BilevelBuilder("bard")
    x = b.leader("x", lower=0.0)
    y = b.follower("y", lower=0.0)
    b.leader_minimize(x - 4.0 * y)
    b.follower_minimize(1.0 * y)
    b.follower_constraint(-x - y <= -3.0, "c1")
    b.follower_constraint(-2.0 * x + y <= 0.0, "c2")
    b.follower_constraint(2.0 * x + y <= 12.0, "c3")
    b.follower_constraint(3.0 * x - 2.0 * y <= 4.0, "c4")
    return b.build()


def test_the_bilinear_form_states_a_continuous_leader_without_a_grid_or_binaries():
    problem = _continuous_leader()
    with pytest.raises(ReformulationNotApplicable, match="strong_duality_bilinear"):
        reformulate(problem, "strong_duality")
    model = reformulate(problem, "strong_duality_bilinear")
    assert model.row_bilinear is not None and not np.any(model.kind == BIN)
    rows, i, j, _ = model.row_bilinear
    assert set(i.tolist()) == {int(model.x_index[0])}  # every product is x times a dual
    assert set(rows.tolist()) == {model.row_names.index("strong_duality")}


def test_only_pairs_that_declare_bilinear_run_it(tmp_path):
    out = tmp_path / "out.json"
    gridbench("run", "-f", "bilevel_textbook", "-c", "bard1998_ex511", "-c", "dempe2002_p25",
              "--variant", "strong_duality_bilinear", "--variant", "enumeration",
              "--json", str(out))
    runs = json.loads(out.read_text())["runs"]
    oracle = {r["case"]: r["objective"] for r in runs if r["variant"] == "enumeration"}
    ran = [r for r in runs if r["variant"] == "strong_duality_bilinear"
           and r["status"] != "not_applicable"]
    assert {(r["backend"], r["solver"]) for r in ran} == {("pyomo", "scip")}
    for run in ran:
        assert run["status"] == "optimal", (run["case"], run["message"])
        assert run["quantities"]["certified"] == 1.0
        assert run["objective"] == pytest.approx(oracle[run["case"]], rel=1e-5)
    skipped = [r for r in runs if r["variant"] == "strong_duality_bilinear"
               and r["status"] == "not_applicable"]
    assert skipped and all("bilinear" in r["message"] for r in skipped)


def test_the_feature_is_declared_not_discovered():
    from gridbench_pyomo import gridbench_solvers

    specs = {s.name: s for s in gridbench_solvers()}
    assert Feature.BILINEAR in specs["scip"].capabilities
    assert Feature.BILINEAR not in specs["highs"].capabilities
