"""One tolerance policy (issue 15): the certificate re-solves the follower at the reported
leader decision with the same feasibility tolerance its row check allows, so a CBC answer
correct to 8 digits is certified, and says what it accepted."""

from __future__ import annotations

import json

import pytest
from conftest import REPO, gridbench

from bench.bilevel.certify import FEASIBILITY_TOL, GAP_RTOL
from bench.bilevel.tolerances import POLICY, Tolerance

JUMP = REPO / "tests" / "data" / "bilevel_jump"


@pytest.mark.parametrize("case", ["15b_int", "semirand"])
def test_cbcs_eight_digit_answer_is_certified_with_the_tolerance_it_was_checked_to(
        tmp_path, case):
    """BilevelJuMP's jump_15b_INT and jump_semirand: CBC's leader decision, written to about
    8 digits, leaves the follower LP at x infeasible by ~1e-6 (15b) or its optimal face off the
    coupling rows (semirand); with the rows relaxed by the feasibility tolerance (1e-5) the
    re-solve succeeds and the answer agrees with the oracle."""
    out = tmp_path / "out.json"
    gridbench("run", "--case-file", str(JUMP / "cases" / f"bilevel_jump_{case}.toml"),
              "--variant", "kkt_sos1", "--variant", "enumeration", "-b", "pulp",
              "-b", "bilevel_oracle", "--json", str(out))
    runs = {(r["variant"], r["solver"]): r for r in json.loads(out.read_text())["runs"]}
    oracle, cbc = runs[("enumeration", "builtin")], runs[("kkt_sos1", "cbc")]
    assert oracle["status"] == "optimal"
    assert cbc["status"] == "optimal", cbc["uncertified_reasons"]
    assert cbc["quantities"]["certified"] == 1.0
    agreement = next(c for c in cbc["checks"] if c["quantity"] == "oracle_agreement")
    assert agreement["verdict"] == "pass"
    if case == "15b_int":
        gap = next(c for c in cbc["checks"] if c["quantity"] == "follower_optimality_gap")
        assert "(feasibility tolerance 1e-05)" in gap["note"]
        assert "largest row violation accepted" in gap["note"]


def test_the_policy_is_the_one_the_certificate_uses():
    assert FEASIBILITY_TOL == POLICY.feasibility.absolute == 1e-5
    assert GAP_RTOL == POLICY.optimality.relative == 1e-5
    assert POLICY.optimal(1e-5 * 300, 300) and not POLICY.optimal(2e-5 * 300, 300)
    assert Tolerance(1e-7, 1e-6).allows(1.05e-6, 1.0)
    assert Tolerance(1e-7, 1e-6).describe() == "abs 1e-07 + rel 1e-06"
