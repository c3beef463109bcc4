"""Shared fixtures: the registry of installed plugins and the reference book."""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
import traceback
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


def in_child_process(test):
    """Run a test in a forked child: solving with highspy and then with OSQP in one process
    segfaults (docs/running.md), so a test that solves with HiGHS in-process keeps it out of
    the pytest process. The child's traceback goes to the captured stderr."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                test(*args, **kwargs)
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "failed in its child process (above)"

    return wrapper
