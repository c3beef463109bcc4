"""Shared fixtures: the registry of installed plugins and the reference book."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.references import load_references
from bench.registry import load_registry

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def registry():
    return load_registry()


@pytest.fixture(scope="session")
def book(registry):
    return load_references(registry.reference_files)


@pytest.fixture(scope="session")
def example_plugin_installed() -> None:
    """The third-party example plugin must be installed (tox does: see tox.ini)."""
    if importlib.util.find_spec("gridbench_example_plugin") is None:
        pytest.fail("tests/example_plugin is not installed: "
                    "pip install --no-deps ./tests/example_plugin (tox does this)")


def gridbench(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    """Run the installed `gridbench` command in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=600)
