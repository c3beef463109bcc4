"""The linopy and PyOptInterface backends (issue 16): unit commitment, market equilibrium
and the relaxed prosumer QP on every case, the solvers and features they declare, and a
missing HiGHS reported as ``unavailable``."""

from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import gridbench, in_child_process

from bench.records import Feature, ProblemClass, SolveLimits, Status, Verdict
from bench.results import run_from_dict
from bench.runner import Selection, execute, plan_runs

pytest.importorskip("linopy")
pytest.importorskip("pyoptinterface")
if importlib.util.find_spec("pulp") is None:  # found, never imported here: PuLP loads
    # highspy into the global symbols, and a later OSQP solve in this process crashes
    pytest.skip("pulp is not installed", allow_module_level=True)

LAYERS = ("linopy", "pyoptinterface")


def _runs(tmp_path_factory, formulation: str, *backends: str):
    """The runs of a `gridbench run` in a subprocess: HiGHS solved in the pytest process
    makes a later OSQP solve there crash (docs/running.md), so no solve happens here."""
    out = tmp_path_factory.mktemp(formulation) / "out.json"
    args = [a for b in backends for a in ("-b", b)]
    done = gridbench("run", "-f", formulation, *args, "-s", "highs", "--json", str(out))
    assert out.exists(), done.stderr
    return [run_from_dict(r) for r in json.loads(out.read_text())["runs"]]


@pytest.fixture(scope="module")
def uc_results(tmp_path_factory):
    return _runs(tmp_path_factory, "unit_commitment", *LAYERS, "pulp")


def test_every_unit_commitment_case_is_optimal_with_checks_passing(uc_results):
    layer_runs = [r for r in uc_results if r.backend in LAYERS]
    assert {(r.backend, r.variant, r.case) for r in layer_runs} == {
        (b, v, c) for b in LAYERS for v in ("as_published", "startup_coupled")
        for c in ("uc_seed_noreserve", "uc_seed_reserve")}
    for result in layer_runs:
        assert result.status is Status.OPTIMAL, (result.key, result.message)
        assert result.checks and all(c.verdict is Verdict.PASS for c in result.checks), [
            (result.key, c) for c in result.checks if c.verdict is not Verdict.PASS]
        assert result.solver_time_s is not None and result.solver_time_s <= result.solve_time_s
        assert result.handoff_time_s is not None and result.bound is not None


def test_objectives_match_pulp_highs(uc_results):
    pulp = {(r.variant, r.case): r.objective for r in uc_results if r.backend == "pulp"}
    assert len(pulp) == 4
    for result in uc_results:
        if result.backend in LAYERS:
            assert result.objective == pytest.approx(pulp[result.variant, result.case],
                                                     rel=1e-6), result.key


@pytest.fixture(scope="module")
def market_results(tmp_path_factory):
    return _runs(tmp_path_factory, "market_equilibrium", *LAYERS, "pulp")


def test_market_equilibrium_matches_pulp_highs_on_every_case(market_results):
    pulp = {r.case: r.objective for r in market_results if r.backend == "pulp"}
    layer_runs = [r for r in market_results if r.backend in LAYERS]
    assert pulp and {(r.backend, r.case) for r in layer_runs} == {
        (b, c) for b in LAYERS for c in pulp}
    for result in layer_runs:
        assert result.status is Status.OPTIMAL, (result.key, result.message)
        assert result.checks and all(c.verdict is Verdict.PASS for c in result.checks), [
            (result.key, c) for c in result.checks if c.verdict is not Verdict.PASS]
        assert result.objective == pytest.approx(pulp[result.case], rel=1e-6), result.key


def test_prosumer_relaxed_qp_with_its_dual_price(tmp_path_factory):
    results = _runs(tmp_path_factory, "prosumer_sharing", *LAYERS)
    relaxed = [r for r in results if r.variant == "relaxed"]
    assert {(r.backend, r.case) for r in relaxed} == {
        (b, c) for b in LAYERS for c in ("prosumer_seed_2", "prosumer_seed_2_no_degradation")}
    for result in relaxed:
        assert result.status is Status.OPTIMAL, (result.key, result.message)
        assert result.checks and all(c.verdict is Verdict.PASS for c in result.checks), [
            (result.key, c) for c in result.checks if c.verdict is not Verdict.PASS]
        assert any(c.kind == "reference" for c in result.checks)
        assert "price" in " ".join(result.quantities), result.quantities
    by = {(r.backend, r.case): r for r in relaxed}
    for case in ("prosumer_seed_2", "prosumer_seed_2_no_degradation"):
        linopy, poi = by["linopy", case], by["pyoptinterface", case]
        assert linopy.objective == pytest.approx(poi.objective, rel=1e-6)
        for name, value in linopy.quantities.items():
            assert poi.quantities[name] == pytest.approx(value, rel=1e-6, abs=1e-9), name
    # the tangent-line variants are not written in these layers: not_applicable, with why
    others = [r for r in results if r.variant != "relaxed"]
    assert others and all(r.status is Status.NOT_APPLICABLE and "only the relaxed QP"
                          in r.message for r in others), [(r.key, r.status) for r in others]


@pytest.mark.parametrize("backend", LAYERS)
def test_backend_declares_its_solvers_and_features(registry, backend):
    assert registry.backends[backend].available()
    specs = [s for s in registry.solvers.values() if s.backend == backend]
    assert [s.name for s in specs] == ["highs"]
    (spec,) = specs
    assert spec.available() and spec.version()
    assert spec.problem_classes == frozenset({ProblemClass.LP, ProblemClass.MILP,
                                              ProblemClass.QP})
    assert spec.capabilities == frozenset({Feature.INTEGER, Feature.QUADRATIC_OBJECTIVE,
                                           Feature.DUALS})


def _one_run(registry, backend):
    plan = plan_runs(registry, Selection(formulations=("unit_commitment",), backends=(backend,),
                                         variants=("as_published",), cases=("uc_seed_reserve",)))
    (run,) = plan.runs
    return run


def _skipped(registry, backend) -> list[str]:
    """A default run of ``backend`` and pulp skips the missing solver and says so (a solver
    named with -s is planned, and its runs are ``unavailable``)."""
    plan = plan_runs(registry, Selection(formulations=("unit_commitment",),
                                         backends=(backend, "pulp")))
    assert backend not in {r.backend for r in plan.runs}
    return plan.skipped


@in_child_process  # plans with PuLP, which a later OSQP solve here must not meet
def test_pyoptinterface_without_highs_library_is_unavailable(registry, book, monkeypatch):
    from gridbench_pyoptinterface import adapter

    run = _one_run(registry, "pyoptinterface")
    monkeypatch.setattr(adapter, "highs_library", lambda: (False, adapter.NO_LIBRARY))
    result = execute(run, registry, book, time_limit=60)  # planned before it went missing
    assert result.status is Status.UNAVAILABLE, result.message
    assert "pyoptinterface/highs" in _skipped(registry, "pyoptinterface")
    assert not adapter.solver_available("highs") and adapter.solver_version("highs") is None
    with pytest.raises(RuntimeError, match="highsbox"):
        adapter.new_model()


@in_child_process  # plans with PuLP, which a later OSQP solve here must not meet
def test_linopy_without_highs_is_unavailable(registry, book, monkeypatch):
    import gridbench_linopy

    run = _one_run(registry, "linopy")
    monkeypatch.setattr(gridbench_linopy, "solver_available", lambda native: False)
    result = execute(run, registry, book, time_limit=60)
    assert result.status is Status.UNAVAILABLE, result.message
    assert "linopy/highs" in _skipped(registry, "linopy")


@pytest.mark.parametrize("backend", LAYERS)
@in_child_process  # plans with PuLP, which a later OSQP solve here must not meet
def test_a_backend_that_is_not_installed_is_skipped(registry, monkeypatch, backend):
    monkeypatch.setattr(type(registry.backends[backend]), "available", lambda self: False)
    plan = plan_runs(registry, Selection(formulations=("unit_commitment",),
                                         backends=(backend, "pulp")))
    assert f"backend {backend}" in plan.skipped
    assert {r.backend for r in plan.runs} == {"pulp"}


def _poi_model(bounded: bool, feasible: bool):
    import pyoptinterface as poi

    from gridbench_pyoptinterface.adapter import new_model

    model = new_model()
    x = model.add_variable(lb=0.0, domain=poi.VariableDomain.Integer)
    if not feasible:
        model.add_linear_constraint(x, poi.Leq, -1.0)
    if bounded:
        model.add_linear_constraint(x, poi.Leq, 3.0)
    model.set_objective(-2.0 * x + 1.0, poi.ObjectiveSense.Minimize)
    return model


def _linopy_model(bounded: bool, feasible: bool):
    import linopy

    model = linopy.Model()
    x = model.add_variables(lower=0, name="x", integer=True)
    if not feasible:
        model.add_constraints(x <= -1, name="impossible")
    if bounded:
        model.add_constraints(x <= 3, name="cap")
    model.add_objective(-2 * x)
    return model


@pytest.mark.parametrize("backend", LAYERS)
@in_child_process
def test_status_objective_bound_and_ambiguous_statuses(registry, backend):
    adapter = registry.backends[backend]
    spec = next(s for s in registry.solvers.values() if s.backend == backend)
    make = _poi_model if backend == "pyoptinterface" else _linopy_model
    constant = 1.0 if backend == "pyoptinterface" else 0.0
    optimal = adapter.solve(make(True, True), spec, SolveLimits(time_limit_s=10))
    assert optimal.status is Status.OPTIMAL and optimal.sense == "min"
    assert optimal.objective == pytest.approx(-6.0 + constant)
    assert optimal.bound == pytest.approx(-6.0 + constant) and optimal.solver_time_s >= 0
    assert adapter.solve(make(False, True), spec, SolveLimits(time_limit_s=10)).status \
        is Status.UNBOUNDED
    assert adapter.solve(make(True, False), spec, SolveLimits(time_limit_s=10)).status \
        is Status.INFEASIBLE
