"""One public plugin API: plugins import only bench.api (or its alias gridbench)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest
from conftest import REPO

PLUGIN_FILES = sorted([*(REPO / "plugins").rglob("*.py"),
                       *(REPO / "tests" / "example_plugin").rglob("*.py")])


@pytest.mark.parametrize("path", PLUGIN_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_a_plugin_imports_only_the_public_api(path):
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and (
                node.module == "bench" or node.module.startswith("bench.")):
            assert node.module == "bench.api", f"{path}:{node.lineno}: from {node.module}"
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{path}:{node.lineno}: private names {private}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name == "bench.api" or not alias.name.startswith("bench"), (
                    f"{path}:{node.lineno}: import {alias.name}")
        if isinstance(node, ast.Attribute) and node.attr in ("_build_oracle", "_oracles",
                                                              "_exact", "_problems"):
            raise AssertionError(f"{path}:{node.lineno}: uses the private {node.attr}")


def test_every_public_name_resolves():
    import bench.api as api

    for name in api.__all__:
        assert getattr(api, name) is not None, name
    with pytest.raises(AttributeError, match="the public API"):
        api.no_such_name  # noqa: B018


def test_the_api_imports_no_modelling_library_until_used():
    code = ("import sys; from bench.api import hookimpl, Formulation, BilevelKit; "
            "print(any(m in sys.modules for m in ('pyomo', 'pulp', 'cvxpy')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_import_gridbench_is_the_same_api():
    import bench.api
    import gridbench

    assert gridbench.hookimpl is bench.api.hookimpl
    assert gridbench.Formulation is bench.api.Formulation
    assert set(bench.api.__all__) <= set(dir(gridbench))


def test_the_oracle_backend_comes_with_the_harness():
    """dg_contract_pricing's enumeration runs with bilevel_textbook blocked."""
    from bench.registry import load_registry

    registry = load_registry(blocked=["bilevel_textbook"])
    assert "bilevel_oracle" in registry.backends
    assert registry.owner[("backend", "bilevel_oracle")] == "bilevel_engine"
