"""Plugin loading: entry points, check_pending, failing plugins, blocking, autoload."""

from __future__ import annotations

import types

from bench.hookspecs import hookimpl
from bench.registry import load_registry


def _plugin(**hooks) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{name: hookimpl(func) for name, func in hooks.items()})


def test_builtins_register_through_entry_points(registry):
    names = {p.name: p.distribution for p in registry.plugins}
    for builtin in ("pyomo", "pulp", "cvxpy", "unit_commitment"):
        assert names[builtin] == "gridbench"
    assert {"pyomo", "pulp", "cvxpy"} <= set(registry.backends)
    assert "unit_commitment" in registry.formulations
    assert {"uc_seed_reserve", "uc_seed_noreserve"} <= set(registry.cases)


def test_a_hook_that_raises_skips_that_plugin_only():
    def boom():
        raise RuntimeError("kaput")

    broken = _plugin(gridbench_formulations=boom, gridbench_cases=lambda: [])
    reg = load_registry(autoload=False, requested=["pulp"], extra_plugins=[("broken", broken)])
    assert "pulp" in reg.backends  # the rest carries on
    assert [p.name for p in reg.plugins] == ["pulp"]
    (problem,) = reg.problems
    assert problem.plugin == "broken"
    assert problem.stage == "hook gridbench_formulations"
    assert "RuntimeError: kaput" in problem.error


def test_check_pending_rejects_a_misspelled_hook():
    typo = _plugin(gridbench_formulation=lambda: [])  # missing the final "s"
    reg = load_registry(autoload=False, requested=["pulp"], extra_plugins=[("typo", typo)])
    assert [p.name for p in reg.plugins] == ["pulp"]
    (problem,) = reg.problems
    assert (problem.plugin, problem.stage) == ("typo", "validate")
    assert "gridbench_formulation" in problem.error


def test_blocking_and_disabling_autoload(monkeypatch):
    reg = load_registry(blocked=["cvxpy"])
    assert "cvxpy" not in reg.backends and "pyomo" in reg.backends
    monkeypatch.setenv("GRIDBENCH_DISABLE_PLUGIN_AUTOLOAD", "1")
    reg = load_registry()
    assert reg.plugins == [] and reg.problems == []
    monkeypatch.setenv("GRIDBENCH_PLUGINS", "pyomo")
    assert [p.name for p in load_registry().plugins] == ["pyomo"]


def test_an_unknown_requested_plugin_is_reported():
    reg = load_registry(autoload=False, requested=["no_such_plugin_xyz"])
    (problem,) = reg.problems
    assert problem.stage == "import" and "no_such_plugin_xyz" in problem.error


def test_duplicate_names_keep_the_first_and_report_the_second(registry):
    formulation = registry.formulations["unit_commitment"]
    clash = _plugin(gridbench_formulations=lambda: [formulation])
    reg = load_registry(extra_plugins=[("clash", clash)])
    assert any(p.plugin == "clash" and "already provided" in p.error for p in reg.problems)
    assert reg.owner[("formulation", "unit_commitment")] == "unit_commitment"
