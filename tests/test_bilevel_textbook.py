"""bilevel_textbook: every reformulation x backend/solver on the literature cases, against the
published optima and the exact oracle, including the designed too-small big-M failure."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bench.cases import load_case
from bench.errors import NotApplicable
from bench.records import Status, Verdict
from bench.runner import Selection, execute, plan_runs
from bench.validation import agreement_checks

MILP_PAIRS = {("pyomo", "highs"), ("pyomo", "scip"), ("pulp", "cbc"), ("pulp", "highs"),
              ("cvxpy", "highs"), ("cvxpy", "scip"), ("raw", "highs")}
SOS1_PAIRS = {("pyomo", "scip"), ("pulp", "cbc")}
GRIDDED = {"bard1998_ex511_grid", "candler_townsley_1982_grid"}
CASES = {"bard1998_ex511", "bard1998_ex511_grid", "candler_townsley_1982",
         "candler_townsley_1982_grid", "bard_falk_1982_ex2", "dempe2002_p25",
         "pineda_morales_2019", "pineda_morales_2019_small_m"}
SMALL_M = "pineda_morales_2019_small_m"


@pytest.fixture(scope="module")
def results(registry, book):
    plan = plan_runs(registry, Selection(formulations=("bilevel_textbook",)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [execute(run, registry, book, time_limit=60) for run in plan.runs]


def _runs(results, variant, case=None):
    return [r for r in results if r.variant == variant and (case is None or r.case == case)]


def test_every_supported_pair_ran_on_every_case(results):
    assert {r.case for r in results} == CASES
    for case in CASES:
        assert {(r.backend, r.solver) for r in _runs(results, "kkt_bigm", case)} == MILP_PAIRS
        assert {(r.backend, r.solver) for r in _runs(results, "kkt_sos1", case)} == SOS1_PAIRS
        assert {(r.backend, r.solver) for r in _runs(results, "strong_duality", case)} == \
            MILP_PAIRS
        assert [(r.backend, r.solver) for r in _runs(results, "enumeration", case)] == [
            ("bilevel_oracle", "builtin")]


def test_every_known_optimum_is_reproduced_and_certified(results):
    for r in results:
        if r.status is Status.NOT_APPLICABLE or (r.case, r.variant) == (SMALL_M, "kkt_bigm"):
            continue
        assert r.status is Status.OPTIMAL, (r.key, r.status, r.message)
        assert r.quantities["certified"] == 1.0, r.key
        references = [c for c in r.checks if c.kind == "reference"]
        assert any(c.quantity.startswith("leader_objective") for c in references), r.key
        assert all(c.verdict is Verdict.PASS for c in references), (
            r.key, [c for c in references if c.verdict is not Verdict.PASS])
        assert all(c.verdict is Verdict.PASS for c in r.checks), (
            r.key, [c for c in r.checks if c.verdict is not Verdict.PASS])
        assert not r.failed


def test_strong_duality_runs_on_gridded_leaders_and_is_skipped_on_continuous_ones(results):
    for r in _runs(results, "strong_duality"):
        if r.case in GRIDDED:
            assert r.status is Status.OPTIMAL, r.key
            assert r.quantities["n_binaries"] > 0 and r.quantities["n_bigm_unproven"] == 0
        else:
            assert r.status is Status.NOT_APPLICABLE and not r.failed, r.key
            assert "needs a grid" in r.message and not r.checks


def test_too_small_big_m_is_uncertified_with_the_active_big_m_named(results):
    runs = _runs(results, "kkt_bigm", SMALL_M)
    assert {(r.backend, r.solver) for r in runs} == MILP_PAIRS
    for r in runs:
        assert r.status is Status.UNCERTIFIED, (r.key, r.status)
        assert r.quantities["leader_objective"] == pytest.approx(51.5, abs=1e-6)
        assert r.quantities["oracle_value"] == pytest.approx(102.0)
        # the reasons are fields of the run record, not text appended to its message
        assert any("M_primal[lower bound of y] (slack) = 50 (stated)" in reason
                   for reason in r.uncertified_reasons)
        assert "uncertified" not in r.message
        checks = {c.quantity: c for c in r.checks}
        # the follower's answer is optimal at x = 1.5: re-solving the follower cannot see it
        assert checks["follower_optimality_gap"].verdict is Verdict.PASS
        assert checks["oracle_agreement"].verdict is Verdict.FAIL
        assert checks["big_m"].verdict is Verdict.FAIL
        assert "M_primal[lower bound of y]" in checks["big_m"].note
        # documented as expected by the reference `certified = 0`: not a failed run
        assert checks["certified"].verdict is Verdict.PASS and not r.failed
    # the same problem without the too-small big-M is solved and certified everywhere
    for variant in ("kkt_sos1", "enumeration"):
        for r in _runs(results, variant, SMALL_M):
            assert r.status is Status.OPTIMAL and r.quantities["leader_objective"] == 102.0


def test_backends_agree_within_each_reformulation(results, registry):
    derived = agreement_checks(results, registry.formulations)
    mine = [d for d in derived if d.formulation == "bilevel_textbook"]
    assert mine and all(d.check.verdict is Verdict.PASS for d in mine)


def test_model_sizes_are_reported_and_consistent(results):
    for r in results:
        if r.variant == "enumeration" or r.status is Status.NOT_APPLICABLE:
            continue
        assert r.model_size is not None and r.build_time_s is not None
        q = r.quantities
        # every backend states the emitted MILP row for row (PuLP omits a variable that is in
        # no row, e.g. a dual fixed at 0; CVXPY counts scalar rows as well)
        assert r.model_size.integer_variables == q["n_binaries"] + q["n_integers"], r.key
        assert r.model_size.constraints == q["n_constraints"], r.key
        assert q["n_vars"] - 1 <= r.model_size.variables <= q["n_vars"], r.key
        if r.variant == "kkt_sos1":
            assert q["n_bigm"] == 0 and q["n_sos1"] > 0


def test_report_section_compares_the_reformulations(results):
    from bench.results import run_to_dict
    from gridbench_bilevel_textbook.models import report_section

    text = report_section([run_to_dict(r) for r in results])
    assert "Uncertified runs (why):" in text
    # strong duality on the 6 continuous cases; the bilinear form on no pair but Pyomo/SCIP
    assert text.count("| strong_duality          | (every backend)") == 6
    assert text.count("| strong_duality_bilinear | (every backend)") == len(CASES)
    for word in ("kkt_sos1", "strong_duality", "certified", "oracle"):
        assert word in text


def _model(registry, case, variant):
    from gridbench_bilevel_textbook.models import KIT

    data = load_case(registry.cases[case], registry.formulations["bilevel_textbook"]).data
    return KIT, data, KIT.model(data, variant)


def test_sos1_is_refused_where_a_backend_would_drop_it(registry):
    from bench.bilevel.emit_cvxpy import to_cvxpy
    from bench.bilevel.emit_pulp import to_pulp

    _, _, model = _model(registry, "candler_townsley_1982", "kkt_sos1")
    with pytest.raises(NotApplicable, match="no SOS1"):
        to_cvxpy(model)
    import pulp

    prob, _ = to_pulp(model)
    with pytest.raises(RuntimeError, match="dropped silently"):
        prob.solve(pulp.getSolver("HiGHS", msg=False))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_pulp_cbc_mps_path_drops_sos1_and_the_certificate_sees_it(registry):
    """PuLP's default CBC call writes an MPS file without the SOS section: the complementarity
    pairs are gone and the answer is not follower-optimal. Our model class passes an LP file
    instead; calling LpProblem.solve directly shows what happens otherwise."""
    import pulp

    from bench.bilevel.certify import certify
    from bench.bilevel.emit_pulp import to_pulp

    kit, data, model = _model(registry, "candler_townsley_1982", "kkt_sos1")
    prob, extract = to_pulp(model)
    pulp.LpProblem.solve(prob, pulp.PULP_CBC_CMD(msg=False))  # the MPS path
    v = extract()
    pairs = [np.abs(v[members]).min() for members, _ in model.sos1]
    assert max(pairs) > 1e-6  # some pair has both slack and dual non-zero
    cert = certify(kit.problem(data), v[model.x_index], v[model.y_index], model, v,
                   kit.oracle(data)[0])
    assert not cert.certified


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cbc_strong_branching_on_sos1_is_checked_by_the_certificate(registry):
    """CBC 2.10.3 with strong branching on (its default) may report a suboptimal KKT point
    as optimal on SOS1 models (seen: -23 instead of -29.2 here); the emitted model turns it
    off. Whatever CBC returns with it on, the certificate and the oracle decide."""
    import pulp

    from bench.bilevel.certify import certify
    from bench.bilevel.emit_pulp import to_pulp

    kit, data, model = _model(registry, "candler_townsley_1982", "kkt_sos1")
    oracle = kit.oracle(data)[0]
    prob, extract = to_pulp(model)
    pulp.LpProblem.solve(prob, pulp.PULP_CBC_CMD(msg=False), use_mps=False)
    v = extract()
    cert = certify(kit.problem(data), v[model.x_index], v[model.y_index], model, v, oracle)
    agrees = abs(cert.leader_value - oracle.leader_value) <= 1e-6 * abs(oracle.leader_value)
    assert cert.certified == agrees
