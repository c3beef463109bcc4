"""Plugin loading: entry points, check_pending, failing plugins, blocking, autoload."""

from __future__ import annotations

import types

import pytest

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


def test_a_name_two_plugins_offer_is_used_from_neither(registry):
    formulation = registry.formulations["unit_commitment"]
    clash = _plugin(gridbench_formulations=lambda: [formulation])
    reg = load_registry(extra_plugins=[("clash", clash)])
    involved = {p.plugin for p in reg.problems if "provided by plugins" in p.error}
    assert involved == {"clash", "unit_commitment"}
    assert all("'unit_commitment' and 'clash'; neither is used" in p.error
               for p in reg.problems if p.plugin in involved)
    assert "unit_commitment" not in reg.formulations
    assert "prosumer_sharing" in reg.formulations  # the others are untouched


def test_a_plugin_whose_name_sorts_first_cannot_take_over_a_builtin(registry):
    formulation = registry.formulations["unit_commitment"]
    early = _plugin(gridbench_formulations=lambda: [formulation])
    reg = load_registry(requested=["aaa_early"], extra_plugins=[("aaa_early", early)])
    assert "unit_commitment" not in reg.formulations
    assert any("neither is used" in p.error for p in reg.problems)


@pytest.mark.parametrize("hook, returned", [
    ("gridbench_formulations", lambda: ["not a formulation"]),
    ("gridbench_backends", lambda: [object()]),
    ("gridbench_solvers", lambda: 42),
    ("gridbench_cases", lambda: "uc_seed_reserve"),
    ("gridbench_commands", lambda: [print]),
])
def test_a_hook_returning_the_wrong_type_skips_that_plugin_only(hook, returned):
    wrong = _plugin(**{hook: returned})
    reg = load_registry(extra_plugins=[("wrong", wrong)])
    (problem,) = [p for p in reg.problems if p.plugin == "wrong"]
    assert problem.stage == f"hook {hook}" and "TypeError" in problem.error
    assert "unit_commitment" in reg.formulations and "pulp" in reg.backends


def test_a_wrong_hook_return_never_breaks_the_command_line(tmp_path):
    from conftest import gridbench

    (tmp_path / "wrong_plugin.py").write_text(
        "from bench.hookspecs import hookimpl\n\n"
        "@hookimpl\ndef gridbench_formulations():\n    return [1, 2]\n")
    env = {"PYTHONPATH": str(tmp_path)}
    for args in (["--help"], ["list"], ["run", "-f", "unit_commitment", "-b", "pulp", "-s",
                                        "cbc", "-c", "uc_seed_reserve"]):
        proc = gridbench("-p", "wrong_plugin", *args, env=env)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        if args != ["--help"]:
            assert "plugin 'wrong_plugin'" in proc.stderr and "TypeError" in proc.stderr
