"""Linear bilevel problems from the literature on the bilevel engine (bench.bilevel).

Every case is reformulated four ways (strong duality with the thesis's eq. 42 expansion, KKT
with big-Ms, KKT with SOS1, and the exact oracle) and solved on Pyomo, PuLP and CVXPY; every
result is certified against the oracle. Seed: 002_29c219c4cdf1d3aa.txt (chapter 3, section
3.5; section 4.5.3). See docs/bilevel.md.
"""

from __future__ import annotations

from bench.api import (
    BILEVEL_QUANTITIES,
    Agreement,
    Formulation,
    hookimpl,
    shipped_cases,
    shipped_reference,
)
from gridbench_bilevel_textbook.data import BilevelTextbookData

NAME = "bilevel_textbook"
_MODELS = "gridbench_bilevel_textbook.models"


def _formulation() -> Formulation:
    from bench.api import ORACLE_BACKEND, bilinear_variant, standard_variants

    return Formulation(
        name=NAME,
        description="Linear bilevel problems from the literature: strong duality (eq. 42), "
                    "KKT big-M, KKT SOS1 and an exact oracle, certified",
        seed="002_29c219c4cdf1d3aa.txt",
        variants=(*standard_variants(), bilinear_variant()),
        case_schema=BilevelTextbookData,
        implementations={
            "pyomo": f"{_MODELS}:build_pyomo",
            "pulp": f"{_MODELS}:build_pulp",
            "cvxpy": f"{_MODELS}:build_cvxpy",
            "raw": f"{_MODELS}:build_raw",
            ORACLE_BACKEND: f"{_MODELS}:build_oracle",
        },
        bilevel_problem=f"{_MODELS}:problem",  # gridbench export-mibs
        quantities="gridbench_bilevel_textbook.models:quantities",
        quantity_names=BILEVEL_QUANTITIES,
        verify="gridbench_bilevel_textbook.models:verify",
        # MILP solvers' default tolerances (about 1e-6 on rows with big-M or grid
        # coefficients) move objectives by up to ~1e-5 relative
        agreement=(Agreement(("leader_objective",), rel=1e-5, abs=1e-6,
                             description="every backend/solver of a reformulation finds the "
                                         "same leader objective"),),
        report_section="gridbench_bilevel_textbook.models:report_section",
    )


@hookimpl
def gridbench_formulations():
    return [_formulation()]


@hookimpl
def gridbench_cases():
    return shipped_cases(NAME)


@hookimpl
def gridbench_references():
    return [shipped_reference(NAME)]
