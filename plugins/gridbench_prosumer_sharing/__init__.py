"""Prosumer energy sharing: the social-welfare model of seed 000_d1d2f3a0547e2695.txt.

Prosumers on one bus choose demand D, supply S, battery charge Qch and discharge Qdis and
share energy E = D + Qch - S - Qdis with each other (sum of E = grid exchange, zero in the
seed) to maximise the social welfare of the seed's quadratic utility curves.

Variants: ``complementarity`` (the published model: a battery never charges and
discharges in the same period, a binary per battery and period; MIQP) and ``relaxed``
(the convex QP without it). PuLP is linear only, so it solves ``complementarity_pwl`` and
``relaxed_pwl``: the same models with each quadratic term replaced by tangent lines (an
outer approximation), checked against the published values with the approximation's own,
stated tolerance (reference_results/prosumer_sharing.toml).
"""

from __future__ import annotations

from functools import partial

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
from gridbench_prosumer_sharing import checks, generator
from gridbench_prosumer_sharing.data import ProsumerSharingData
from gridbench_prosumer_sharing.welfare import (
    COMPLEMENTARITY,
    COMPLEMENTARITY_PWL,
    RELAXED,
    RELAXED_PWL,
)

NAME = "prosumer_sharing"
PULP_SOLVERS = {"pulp": ("cbc", "highs")}

FORMULATION = Formulation(
    name=NAME,
    description="Prosumer energy sharing on one bus: maximise social welfare (quadratic "
                "utilities, batteries, degradation cost)",
    seed="000_d1d2f3a0547e2695.txt",
    variants=(
        Variant(COMPLEMENTARITY, ProblemClass.MIQP,
                "the published model: no battery charges and discharges at once (binary)",
                default_solvers={"cvxpy": ("scip",), "pyomo": ("scip",)}),
        Variant(RELAXED, ProblemClass.QP,
                "convex QP without the complementarity; the sharing balance's dual is the "
                "market-clearing price",
                default_solvers={"cvxpy": ("clarabel", "osqp"), "pyomo": ("highs",),
                                 "raw": ("highs",)}),
        Variant(COMPLEMENTARITY_PWL, ProblemClass.MILP,
                "complementarity with each quadratic term replaced by tangent lines "
                "(PuLP's linear path)", default_solvers=PULP_SOLVERS),
        Variant(RELAXED_PWL, ProblemClass.LP,
                "relaxed with each quadratic term replaced by tangent lines "
                "(PuLP's linear path)", default_solvers=PULP_SOLVERS),
    ),
    case_schema=ProsumerSharingData,
    implementations={
        "pyomo": "gridbench_prosumer_sharing.pyomo_model:build",
        "pulp": "gridbench_prosumer_sharing.pulp_model:build",
        "cvxpy": "gridbench_prosumer_sharing.cvxpy_model:build",
        "linopy": "gridbench_prosumer_sharing.linopy_model:build",
        "pyoptinterface": "gridbench_prosumer_sharing.pyoptinterface_model:build",
        "raw": "gridbench_prosumer_sharing.raw_model:build",
    },
    quantities=checks.quantities,
    quantity_names=("D_*", "S_*", "E_*", "Qch_*", "Qdis_*", "social_welfare", "model_objective",
                    "pwl_welfare_error", "pwl_error_bound", "total_demand_kwh",
                    "total_supply_kwh", "total_charge_kwh", "total_discharge_kwh",
                    "simultaneous_kwh", "shared_kwh", "price_kkt", "price_kkt_mean",
                    "price_kkt_gap", "price", "price_mean", "price_min", "price_max",
                    "payment_*", "traded_value", "payments_sum"),
    verify=checks.verify,
    agreement=(Agreement(("model_objective",), rel=1e-6,
                         description="every backend/solver finds the same optimal objective"),),
    report_section=checks.report_section,
)

# generated sizes (T = 24): the relaxed benchmark uses 10, 100, 1000; the mixed-integer
# series climbs until a backend/solver pair no longer proves optimality within 60 s
RELAXED_SIZES = (10, 100, 1000)
SERIES_SIZES = (2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
PERIODS = 24


def _generated_cases() -> list[CaseSource]:
    return [CaseSource(name=generator.case_name(n, PERIODS), formulation=NAME,
                       load=partial(generator.generate, n, PERIODS),
                       origin=f"generator gridbench_prosumer_sharing.generator "
                              f"(N={n}, T={PERIODS}, seed={generator.DEFAULT_SEED})",
                       default=False)
            for n in sorted({*RELAXED_SIZES, *SERIES_SIZES})]


@hookimpl
def gridbench_formulations():
    return [FORMULATION]


@hookimpl
def gridbench_cases():
    files = shipped_cases(NAME)
    return files + _generated_cases()


@hookimpl
def gridbench_references():
    return [shipped_reference(NAME)]


@hookimpl
def gridbench_benchmarks():
    return [
        Benchmark(
            name="prosumer_relaxed_scaling",
            description="relaxed QP (cvxpy clarabel/osqp, pyomo highs) and its tangent-line "
                        "LP (pulp cbc/highs), N = 10, 100, 1000 prosumers x 24 periods",
            formulation=NAME,
            cases=tuple(generator.case_name(n, PERIODS) for n in RELAXED_SIZES),
            variants=(RELAXED, RELAXED_PWL), repeat=3, time_limit_s=60.0),
        Benchmark(
            name="prosumer_complementarity_series",
            description="complementarity (MIQP: cvxpy/pyomo scip; tangent-line MILP: pulp "
                        "cbc/highs) over increasing N x 24 periods: the largest N each "
                        "mixed-integer path solves to optimality within 60 s",
            formulation=NAME,
            cases=tuple(generator.case_name(n, PERIODS) for n in SERIES_SIZES),
            variants=(COMPLEMENTARITY, COMPLEMENTARITY_PWL), repeat=1, time_limit_s=60.0,
            series=True),
    ]
