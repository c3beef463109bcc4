"""Bilevel answers the oracle contradicts are never certified; explicit zeros are no
coefficients. Case files in tests/data/, run as a user would (--case-file)."""

from __future__ import annotations

import json

import pytest
from conftest import REPO, gridbench

DATA = REPO / "tests" / "data"


def _runs(tmp_path, case: str, *args: str) -> dict:
    out = tmp_path / "out.json"
    gridbench("run", "--case-file", str(DATA / case), "--json", str(out), *args)
    return {(r["variant"], r["backend"], r["solver"]): r
            for r in json.loads(out.read_text())["runs"]}


def test_an_unbounded_bilevel_problem_is_never_certified_optimal(tmp_path):
    runs = _runs(tmp_path, "bilevel_unbounded.toml")
    assert runs[("enumeration", "bilevel_oracle", "builtin")]["status"] == "unbounded"
    sos1 = runs[("kkt_sos1", "pulp", "cbc")]  # CBC reports "optimal" at x = y = 1e15
    assert sos1["status"] == "uncertified"
    status_check = next(c for c in sos1["checks"] if c["quantity"] == "oracle_status")
    assert status_check["verdict"] == "fail" and "unbounded" in status_check["note"]
    for key, run in runs.items():
        assert run["status"] != "optimal", key


def test_an_explicit_zero_coefficient_is_dropped_before_emission(tmp_path):
    runs = _runs(tmp_path, "bilevel_zero_coefficient.toml", "--variant", "kkt_sos1")
    run = runs[("kkt_sos1", "pulp", "cbc")]
    assert run["status"] == "optimal", run["message"]
    assert run["objective"] == -6.0


def test_an_infeasible_bilevel_problem_is_infeasible_in_every_reformulation(tmp_path):
    """The follower keeps y = x <= 1 while the leader needs y >= 5 (integer x, so that
    strong_duality can state the case too)."""
    case = (DATA / "bilevel_infeasible.toml").read_text().replace(
        'upper = 1.0', 'upper = 1.0\ninteger = true')
    (tmp_path / "integer.toml").write_text(case)
    for path in (DATA / "bilevel_infeasible.toml", tmp_path / "integer.toml"):
        out = tmp_path / "out.json"
        gridbench("run", "--case-file", str(path), "--json", str(out))
        runs = json.loads(out.read_text())["runs"]
        statuses = {(r["variant"], r["backend"], r["solver"]): r["status"] for r in runs}
        assert statuses[("enumeration", "bilevel_oracle", "builtin")] == "infeasible"
        assert set(statuses.values()) <= {"infeasible", "not_applicable"}, statuses
    assert statuses[("strong_duality", "pulp", "cbc")] == "infeasible"


def test_an_integer_leader_without_bounds_is_not_applicable_where_it_cannot_be_expanded(
        tmp_path):
    """Integer x with no upper bound: strong duality cannot expand it and the oracle cannot
    enumerate it (not_applicable, not error); without an oracle, CBC's "optimal" at its
    infinity (1e15) is still never certified."""
    case = tmp_path / "integer.toml"
    case.write_text((DATA / "bilevel_unbounded.toml").read_text().replace(
        'name = "x"', 'name = "x"\ninteger = true'))
    out = tmp_path / "out.json"
    gridbench("run", "--case-file", str(case), "--json", str(out))
    runs = {(r["variant"], r["backend"], r["solver"]): r
            for r in json.loads(out.read_text())["runs"]}
    for key, run in runs.items():
        assert run["status"] != "optimal" and run["status"] != "error", (key, run["message"])
        if key[0] in ("enumeration", "strong_duality"):
            assert run["status"] == "not_applicable", key
    sos1 = runs[("kkt_sos1", "pulp", "cbc")]
    assert sos1["status"] == "uncertified"
    assert any("solver's infinity" in reason for reason in sos1["uncertified_reasons"])


def test_strong_duality_on_cbc_finds_the_optimum_its_grid_dual_bound_once_cut_off(tmp_path):
    """BilevelJuMP's jump_15a_INT with x binary (issue 15): an optimal dual sits exactly on
    the bound derived from the grid's duals; unpadded, PuLP wrote it rounded and CBC's
    preprocessing called the model infeasible. Padded like every LP-computed bound, CBC
    finds the oracle's optimum, certified (the comparison is with the oracle: BilevelJuMP's
    stated value is not the optimum of this model, tests/data/bilevel_jump/README.md)."""
    jump = DATA / "bilevel_jump" / "cases"
    out = tmp_path / "out.json"
    gridbench("run", "--case-file", str(jump / "bilevel_jump_15a_int_binary.toml"),
              "--variant", "strong_duality", "--variant", "enumeration",
              "-b", "pulp", "-b", "bilevel_oracle", "-s", "cbc", "-s", "builtin",
              "--json", str(out))
    runs = {r["variant"]: r for r in json.loads(out.read_text())["runs"]}
    cbc, oracle = runs["strong_duality"], runs["enumeration"]
    assert (cbc["backend"], cbc["solver"]) == ("pulp", "cbc")
    assert cbc["status"] == "optimal", cbc["message"]
    assert cbc["quantities"]["certified"] == 1.0
    assert oracle["status"] == "optimal"
    assert cbc["objective"] == pytest.approx(oracle["objective"], rel=1e-6)
