"""Two solver libraries in one process: PuLP shares highspy's HiGHS with every later
extension (RTLD_GLOBAL), whose exported ``csc_copy`` OSQP's extension would then call and
crash (gridbench_cvxpy/isolation.py). Each case runs in a subprocess, since the failure is
a segmentation fault."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("osqp")
pytest.importorskip("pulp")

SOLVE = """
import cvxpy as cp, numpy as np
x = cp.Variable(3)
problem = cp.Problem(cp.Minimize(cp.sum_squares(x - np.arange(3.0))), [x >= 0.5])
problem.solve(solver="OSQP")
print(round(problem.value, 6))
"""


@pytest.mark.parametrize("first", ["import pulp\nfrom bench.registry import load_registry",
                                   "from bench.registry import load_registry\nimport pulp"])
def test_osqp_solves_in_a_process_that_imported_pulp(first):
    code = f"{first}\nload_registry()\nimport pulp\npulp.LpProblem('p')\n{SOLVE}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert done.stdout.strip().splitlines()[-1] == "0.25"
