"""Market equilibrium under competition (PSR; seed 003_1f48eceef1db8ef8.txt).

The demand chooses which plants to make viable (binary x_i), contracts Q_i <= d x_i and side
payments phi_i >= 0 to minimise its risk-adjusted cost lambda_d E + (1 - lambda_d) CVaR_alpha
plus the side payments, subject to each chosen plant's risk-adjusted NPV plus side payment
being non-negative (big-M). Both CVaRs are written in Rockafellar-Uryasev linear form, so the
model is a MILP. The seed has no data: cases come from a seeded generator (``generator.py``)
and are validated by enumerating every viability pattern (``oracle.py``). Documentation:
docs/market_equilibrium.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.api import Agreement, Benchmark, CaseSource, Formulation, ProblemClass, Variant, hookimpl
from gridbench_market_equilibrium import checks
from gridbench_market_equilibrium.data import MarketData
from gridbench_market_equilibrium.generator import GeneratorParameters, generate_case
from gridbench_market_equilibrium.report import report_section

NAME = "market_equilibrium"
SEED = "003_1f48eceef1db8ef8.txt"
SCALING_SIZES = ((8, 50), (12, 100), (16, 100), (20, 150), (24, 200), (32, 200))
# the layers series (`gridbench bench market_layers`): about 1e3 to 1e6 variables, N (S + 4)
# + S + 3; risk-neutral, so that HiGHS closes each MILP at once and the series times the
# modelling layers' build and handoff against raw, not branch-and-bound (the risk-averse
# MILP takes 8 s at 12 plants and 100 scenarios already)
LAYERS_SIZES = ((10, 100), (20, 500), (50, 2000), (100, 10000))

FORMULATION = Formulation(
    name=NAME,
    description="PSR market equilibrium: viability x_i, contracts Q_i, side payments phi_i; "
                "E/CVaR (Rockafellar-Uryasev) for the demand and every plant",
    seed=SEED,
    variants=(Variant(checks.RU_MILP, ProblemClass.MILP,
                      "the seed's model with both CVaRs in Rockafellar-Uryasev linear form"),),
    case_schema=MarketData,
    implementations={
        "pyomo": "gridbench_market_equilibrium.pyomo_model:build",
        "pyomo_linear": "gridbench_market_equilibrium.pyomo_linear_model:build",
        "pulp": "gridbench_market_equilibrium.pulp_model:build",
        "pulp_dicts": "gridbench_market_equilibrium.pulp_dicts_model:build",
        "cvxpy": "gridbench_market_equilibrium.cvxpy_model:build",
        "linopy": "gridbench_market_equilibrium.linopy_model:build",
        "pyoptinterface": "gridbench_market_equilibrium.pyoptinterface_model:build",
        "raw": "gridbench_market_equilibrium.raw_model:build",
    },
    quantities=checks.quantities,
    quantity_names=("contracted_total", "cvar_demand", "demand_cost", "expected_demand_cost",
                    "hedge_ratio", "physical_guarantee_total", "risk_adjusted_cost",
                    "risk_premium", "side_payments_total", "viable_plants"),
    verify=checks.verify,
    # the optimal cost is unique; patterns and contracts may differ between solvers (ties)
    agreement=(Agreement(("demand_cost",), rel=1e-6,
                         description="every backend/solver finds the same optimal cost"),),
    report_section=report_section,
)


@dataclass(frozen=True)
class GeneratedCase:
    """A named case and the generator parameters that reproduce it."""

    name: str
    description: str
    parameters: GeneratorParameters
    default: bool = True

    def source(self) -> CaseSource:
        return CaseSource(
            name=self.name, formulation=NAME,
            load=lambda: generate_case(self.name, self.description, self.parameters),
            origin=f"generator gridbench_market_equilibrium (seed={self.parameters.seed}, "
                   f"N={self.parameters.n_plants}, T={self.parameters.n_periods}, "
                   f"S={self.parameters.n_scenarios})",
            default=self.default)


SMALL = GeneratorParameters(seed=1, n_plants=4)
# the medium case extends the small one: same draws, so the same prices and first 4 plants
MEDIUM = SMALL.with_(n_plants=12)
CASES = (
    GeneratedCase("market_small", "4 plants (hydro, wind, thermal, hydro), T = 12, S = 50",
                  SMALL),
    GeneratedCase("market_medium", "12 plants (4 of each kind), T = 12, S = 50", MEDIUM),
    GeneratedCase("market_small_risk_neutral",
                  "market_small with lambda_d = lambda_g = 1 (theory: Q is indifferent, "
                  "cost = d E[P], no side payment)",
                  SMALL.with_(lambda_demand=1.0, lambda_plants=1.0)),
)
# scaling series for `gridbench bench market_scaling`: plants and scenarios grow together
SCALING = tuple(
    GeneratedCase(f"market_scale_n{n}_s{s}", f"scaling series: {n} plants, {s} scenarios",
                  GeneratorParameters(seed=1, n_plants=n, n_scenarios=s), default=False)
    for n, s in SCALING_SIZES)
LAYERS = tuple(
    GeneratedCase(f"market_layers_n{n}_s{s}",
                  f"layers series: {n} plants, {s} scenarios, risk-neutral "
                  "(lambda_d = lambda_g = 1)",
                  GeneratorParameters(seed=1, n_plants=n, n_scenarios=s, lambda_demand=1.0,
                                      lambda_plants=1.0), default=False)
    for n, s in LAYERS_SIZES)


@hookimpl
def gridbench_formulations():
    return [FORMULATION]


@hookimpl
def gridbench_cases():
    return [case.source() for case in (*CASES, *SCALING, *LAYERS)]


@hookimpl
def gridbench_benchmarks():
    return [Benchmark(
        name="market_scaling",
        description="market equilibrium MILP, growing plants x scenarios, every pair",
        formulation=NAME, cases=tuple(case.name for case in SCALING), repeat=1,
        time_limit_s=60.0, series=True), Benchmark(
        name="market_layers",
        description="market equilibrium MILP, risk-neutral, 1e3 to 1e6 variables: the "
                    "layers' build and handoff against raw",
        formulation=NAME, cases=tuple(case.name for case in LAYERS), repeat=1,
        time_limit_s=120.0, series=True)]


@hookimpl
def gridbench_commands():
    from gridbench_market_equilibrium.commands import market_oracle, market_sensitivity

    return [market_sensitivity, market_oracle]
