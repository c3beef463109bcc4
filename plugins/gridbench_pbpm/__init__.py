"""Price-Based Power Management: the price-response-matrix algorithm (seed 004).

Seed document: 004_c438baf47ef532b1.txt (../shared/seeds/).

An off-grid DC bus where a price index, raised on low-voltage and lowered on high-voltage
events, selects each element's operation mode from its Price Response Matrix (PRM). The
notebook computes the price vector and the PRMs from each element's kind, whether it can
regulate the bus voltage and its buy/sell prices per operating condition. Two
implementations run as backends of problem class ``algorithm``: a plain-Python port
(``pbpm_python``) and a vectorised NumPy one (``pbpm_numpy``); the harness checks that they
agree cell for cell and times them. docs/pbpm.md documents the algorithm.
"""

from __future__ import annotations

from bench.api import (
    Agreement,
    AlgorithmBackend,
    Benchmark,
    CaseSource,
    Formulation,
    ProblemClass,
    Variant,
    hookimpl,
    shipped_cases,
    shipped_reference,
)
from gridbench_pbpm import checks
from gridbench_pbpm.generate import SIZES, generated_case
from gridbench_pbpm.spec import PbpmSpec

NAME = "pbpm"
PYTHON_BACKEND, NUMPY_BACKEND = "pbpm_python", "pbpm_numpy"
BACKENDS = (AlgorithmBackend(PYTHON_BACKEND, "plain Python (reference port)"),
            AlgorithmBackend(NUMPY_BACKEND, "NumPy (vectorised)"))

FORMULATION = Formulation(
    name=NAME,
    description="PBPM price vector and price response matrices (notebook algorithm)",
    seed="004_c438baf47ef532b1.txt",
    variants=(Variant(checks.NOTEBOOK, ProblemClass.ALGORITHM,
                      "the notebook's level rule and tie order, prices compared as numbers "
                      "(option tie_order = regulators_first); a condition may carry only a "
                      "buy or only a sell price"),),
    case_schema=PbpmSpec,
    implementations={PYTHON_BACKEND: "gridbench_pbpm.reference:build",
                     NUMPY_BACKEND: "gridbench_pbpm.vectorised:build"},
    quantities=checks.quantities,
    quantity_names=("n_elements", "n_conditions", "n_prices", "price_first", "price_last",
                    "price_vector_crc32", "prm_crc32", "notebook_n_prices",
                    "price_indices_shared_by_regulators", "price_indices_without_regulator",
                    "price_*", "prm_*_*_*"),
    verify=checks.verify,
    # integer results: the implementations must agree exactly (CRC-32 of every cell)
    agreement=(Agreement(("n_prices", "price_first", "price_last", "price_vector_crc32",
                          "prm_crc32"), rel=0.0, abs=0.0,
                         description="plain Python and NumPy give identical PRMs"),),
    report_section=checks.report_section,
)


@hookimpl
def gridbench_backends():
    return list(BACKENDS)


@hookimpl
def gridbench_solvers():
    return [backend.solver() for backend in BACKENDS]


@hookimpl
def gridbench_formulations():
    return [FORMULATION]


@hookimpl
def gridbench_cases():
    files = shipped_cases(NAME)
    generated = [CaseSource(f"pbpm_gen_{n}", NAME, load=lambda n=n: generated_case(n),
                            origin=f"generator gridbench_pbpm.generate ({n} elements)",
                            default=False) for n in SIZES]
    return files + generated


@hookimpl
def gridbench_references():
    return [shipped_reference(NAME)]


@hookimpl
def gridbench_benchmarks():
    return [Benchmark(
        name="pbpm_scaling",
        description="PRM computation for 10 to 10,000 generated elements, plain Python vs NumPy",
        formulation=NAME, cases=tuple(f"pbpm_gen_{n}" for n in SIZES),
        backends=(PYTHON_BACKEND, NUMPY_BACKEND), repeat=5, time_limit_s=60, series=True)]


@hookimpl
def gridbench_commands():
    from gridbench_pbpm.cli import pbpm_command, pbpm_sim_command

    return [pbpm_command, pbpm_sim_command]
