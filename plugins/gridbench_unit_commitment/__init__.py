"""Unit commitment with an operational-flexibility reserve (seed 001_7e28a5851423f98c.txt).

Three generator types, five periods: integer units on (z), start-ups (w) and output (x).
Variants: ``as_published`` is the model exactly as the seed codes it (its constraint 5, the
start-up coupling, is never added, so start-ups cost nothing); ``startup_coupled`` adds
w_gt >= z_gt - z_g,t-1 with the first period as the case file states.
"""

from __future__ import annotations

from bench.api import (
    Agreement,
    Benchmark,
    CaseSource,
    Formulation,
    ProblemClass,
    Variant,
    hookimpl,
    shipped_cases,
    shipped_reference,
)
from gridbench_unit_commitment import checks
from gridbench_unit_commitment.data import UnitCommitmentData
from gridbench_unit_commitment.generator import ScaledParameters, generate_case

NAME = "unit_commitment"

FORMULATION = Formulation(
    name=NAME,
    description="Unit commitment with a 15 % reserve; tariff per period = period cost / demand",
    seed="001_7e28a5851423f98c.txt",
    variants=(
        Variant(checks.AS_PUBLISHED, ProblemClass.MILP,
                "the seed's code: no start-up coupling (constraint 5 is never added)"),
        Variant(checks.STARTUP_COUPLED, ProblemClass.MILP,
                "adds constraint 5: w_gt >= z_gt - z_g,t-1"),
    ),
    case_schema=UnitCommitmentData,
    implementations={
        "pyomo": "gridbench_unit_commitment.pyomo_model:build",
        "pyomo_linear": "gridbench_unit_commitment.pyomo_linear_model:build",
        "pulp": "gridbench_unit_commitment.pulp_model:build",
        "pulp_dicts": "gridbench_unit_commitment.pulp_dicts_model:build",
        "cvxpy": "gridbench_unit_commitment.cvxpy_model:build",
        "linopy": "gridbench_unit_commitment.linopy_model:build",
        "pyoptinterface": "gridbench_unit_commitment.pyoptinterface_model:build",
        "raw": "gridbench_unit_commitment.raw_model:build",
    },
    quantities=checks.quantities,
    quantity_names=("total_cost", "tariff_*"),
    verify=checks.verify,
    # the optimum is unique in cost even where schedules differ between solvers
    agreement=(Agreement(("total_cost",), rel=1e-6,
                         description="every backend/solver finds the same optimal cost"),),
)


@hookimpl
def gridbench_formulations():
    return [FORMULATION]


# scaling series for `gridbench bench uc_scaling` (generator.py): about 1e3 to 1e6 variables
SCALING = tuple(ScaledParameters(types, periods) for types, periods in
                ((10, 34), (20, 167), (40, 834), (100, 3334)))


def _scaled_source(p: ScaledParameters) -> CaseSource:
    return CaseSource(name=p.name, formulation=NAME, load=lambda: generate_case(p),
                      origin=f"generator gridbench_unit_commitment (types={p.n_types}, "
                             f"periods={p.n_periods}, seed={p.seed})", default=False)


@hookimpl
def gridbench_cases():
    return [*shipped_cases(NAME), *(_scaled_source(p) for p in SCALING)]


@hookimpl
def gridbench_benchmarks():
    return [Benchmark(
        name="uc_scaling",
        description="unit-commitment MILP (as_published), growing types x periods, "
                    "1e3 to 1e6 variables: the layers' build and handoff against raw",
        formulation=NAME, cases=tuple(p.name for p in SCALING), variants=(checks.AS_PUBLISHED,),
        repeat=1, time_limit_s=120.0, series=True)]


@hookimpl
def gridbench_references():
    return [shipped_reference(NAME)]
