"""The bilevel reformulations as harness variants, and the oracle backend: light imports only,
so a plugin can register them without loading numpy/scipy."""

from __future__ import annotations

from bench.algorithm import AlgorithmBackend
from bench.records import Feature, ProblemClass, Variant

STRONG_DUALITY, KKT_BIGM, KKT_SOS1 = "strong_duality", "kkt_bigm", "kkt_sos1"
STRONG_DUALITY_BILINEAR = "strong_duality_bilinear"
ENUMERATION = "enumeration"
ORACLE_BACKEND = "bilevel_oracle"


def oracle_backend() -> AlgorithmBackend:
    """The backend that runs the exact oracle (register it once, with its solver)."""
    return AlgorithmBackend(ORACLE_BACKEND, "scipy HiGHS LPs")


def bilinear_variant() -> Variant:
    """Strong duality with its leader x follower products kept as bilinear terms: exact for
    continuous leaders (no grid), solved by a global MINLP solver (the pairs that declare
    ``Feature.BILINEAR``: Pyomo with SCIP, or Gurobi when present). Not in
    ``standard_variants``: on the large gridded cases the eq. 42 expansion is the model of
    record, and a spatial branch-and-bound on them would only burn the time limit."""
    return Variant(STRONG_DUALITY_BILINEAR, ProblemClass.BILEVEL,
                   "primal + dual feasibility + strong duality with the leader x follower "
                   "products as bilinear terms (no grid, no big-M): exact for continuous "
                   "leaders, solved by a global MINLP solver (SCIP; Gurobi when present)",
                   solved_as=ProblemClass.MILP,
                   requires=frozenset({Feature.INTEGER, Feature.BILINEAR}))


def standard_variants() -> tuple[Variant, ...]:
    """The four reformulations as harness variants, each run only where it is supported."""
    bilevel, milp = ProblemClass.BILEVEL, ProblemClass.MILP
    return (
        Variant(STRONG_DUALITY, bilevel,
                "primal + dual feasibility + strong duality (thesis eqs. 10-18, 43-44); leader "
                "x follower products by the binary expansion of eq. 42 (gridded leaders)",
                solved_as=milp),
        Variant(KKT_BIGM, bilevel,
                "KKT with one binary and two big-Ms per complementarity pair (Fortuny-Amat & "
                "McCarl); every big-M derived with a proof or stated, and reported if active",
                solved_as=milp),
        Variant(KKT_SOS1, bilevel,
                "KKT with complementarity as SOS1 sets; Pyomo+SCIP and PuLP+CBC (LP file) only: "
                "CVXPY has no SOS1, Pyomo's HiGHS interface refuses SOS, PuLP drops them on "
                "HiGHS/SCIP", solved_as=milp,
                default_solvers={"pyomo": ("scip",), "pulp": ("cbc",)},
                requires=frozenset({Feature.INTEGER, Feature.SOS1})),
        Variant(ENUMERATION, bilevel,
                "exact oracle: follower LP per leader grid point + optimistic tie-break LP; "
                "complementarity branch-and-bound for continuous leaders",
                solved_as=ProblemClass.ALGORITHM),
    )
