"""A plugin whose runs misbehave on purpose, loaded with ``-p misbehaving_plugin`` (the
tests put this folder on PYTHONPATH). Each variant is one way a run can end badly:

``fine`` returns the sum; ``hang`` never returns from build(); ``os_exit`` calls
``os._exit(3)``; ``segfault`` dereferences a null pointer; ``allocate`` allocates without
bound; ``sys_exit`` calls ``sys.exit(0)``; ``banner`` writes to fds 1 and 2 from C and from
Python (like a solver) and then returns the sum; ``slow`` sleeps SLOW_S seconds (counted in
MISBEHAVING_COUNT_DIR when set, one file per solve, for resume tests).

MISBEHAVING_REFERENCE names a reference file to register; MISBEHAVING_EXTRA_CASE is the
TOML text of one more case (``numbers_extra``), e.g. an invalid one.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
import uuid

import numpy as np
from pydantic import BaseModel

from bench.algorithm import AlgorithmBackend, AlgorithmRun
from bench.hookspecs import hookimpl
from bench.records import CaseSource, Formulation, ProblemClass, Solution, Variant

VARIANTS = ("fine", "hang", "os_exit", "segfault", "allocate", "sys_exit", "banner", "slow")
SLOW_S = float(os.environ.get("MISBEHAVING_SLOW_S", "0.5"))


class Numbers(BaseModel):
    numbers: list[float]


def _sum(data: Numbers) -> Solution:
    total = float(sum(data.numbers))
    return Solution({"total": np.array(total)}, objective=total)


def build(data: Numbers, variant: str):
    if variant == "hang":
        while True:
            time.sleep(1)
    if variant == "os_exit":
        os._exit(3)
    if variant == "segfault":
        ctypes.string_at(0)
    if variant == "allocate":
        hoard = []
        while True:
            hoard.append(bytearray(50 * 2**20))
            hoard[-1][::4096] = b"x" * len(range(0, 50 * 2**20, 4096))
    if variant == "sys_exit":
        sys.exit(0)
    if variant == "banner":
        libc = ctypes.CDLL(None)
        libc.puts(b"Running FakeSolver 1.0 from C on stdout")
        libc.fflush(None)
        print("FakeSolver: Python print on stdout")
        print("FakeSolver: Python print on stderr", file=sys.stderr)
        os.write(2, b"FakeSolver: raw write on fd 2\n")
    if variant == "slow":
        folder = os.environ.get("MISBEHAVING_COUNT_DIR")
        if folder:
            with open(os.path.join(folder, uuid.uuid4().hex), "w") as handle:
                handle.write(repr(data.numbers))
        time.sleep(SLOW_S)
    return AlgorithmRun(lambda: _sum(data)).built()


BACKEND = AlgorithmBackend("misbehaving", "1")

FORMULATION = Formulation(
    name="misbehaving", description="runs that hang, crash or exit on purpose",
    variants=tuple(Variant(name, ProblemClass.ALGORITHM, name) for name in VARIANTS),
    case_schema=Numbers, implementations={"misbehaving": build},
    quantities=lambda data, variant, solution: {"total": float(solution.values["total"])} | (
        {os.environ["MISBEHAVING_EXTRA_QUANTITY"]: 0.0}
        if os.environ.get("MISBEHAVING_EXTRA_QUANTITY") else {}),
    quantity_names=("total",),
    verify=lambda data, variant, solution: [])


def _case(name: str, numbers: list[float]) -> CaseSource:
    raw = {"case": {"name": name, "formulation": "misbehaving", "description": "test",
                    "fidelity": "exact", "provenance": "tests"},
           "data": {"numbers": numbers}}
    return CaseSource(name, "misbehaving", lambda: raw, "tests/plugins/misbehaving_plugin.py")


@hookimpl
def gridbench_backends():
    return [BACKEND]


@hookimpl
def gridbench_solvers():
    return [BACKEND.solver()]


@hookimpl
def gridbench_formulations():
    return [FORMULATION]


@hookimpl
def gridbench_cases():
    cases = [_case(f"numbers_{k}", [1.0, 2.0, float(k)]) for k in range(4)]
    extra = os.environ.get("MISBEHAVING_EXTRA_CASE")
    if extra:
        import tomllib

        cases.append(CaseSource("numbers_extra", "misbehaving", lambda: tomllib.loads(extra),
                                "MISBEHAVING_EXTRA_CASE"))
    return cases


@hookimpl
def gridbench_references():
    path = os.environ.get("MISBEHAVING_REFERENCE")
    return [path] if path else []
