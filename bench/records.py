"""Typed records exchanged between the harness and plugins.

Plugins return these from their hooks; the harness never looks inside a formulation's
native model. Everything a report needs ends up in a :class:`RunResult`.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np


class ProblemClass(StrEnum):
    LP = "LP"
    MILP = "MILP"
    QP = "QP"
    MIQP = "MIQP"
    BILEVEL = "bilevel"
    ALGORITHM = "algorithm"


class Status(StrEnum):
    """One status set for every backend and solver."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a solution, optimality not proven (gap, inaccurate)
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ERROR = "error"
    UNAVAILABLE = "unavailable"  # backend or solver not installed: skipped, not failed
    # a solution whose certificate failed (a "certificate" check did not pass), e.g. a
    # bilevel result with an active big-M: a solution, but not a proven optimum
    UNCERTIFIED = "uncertified"
    # the variant cannot state this case (bench.errors.NotApplicable): skipped, not failed
    NOT_APPLICABLE = "not_applicable"

    @property
    def has_solution(self) -> bool:
        """Whether a run with this status may carry a solution (time_limit: only if the
        solver had an incumbent, see :attr:`SolveOutcome.solution`)."""
        return self in (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT, Status.UNCERTIFIED)


class Feature(StrEnum):
    """What a solver can do as one backend drives it; a variant states what it needs."""

    INTEGER = "integer"
    SOS1 = "sos1"
    QUADRATIC_OBJECTIVE = "quadratic_objective"
    QUADRATIC_CONSTRAINTS = "quadratic_constraints"
    # products of two variables in rows and objective, not convex (x * d = ... in strong
    # duality with a continuous leader): a global MINLP solver's spatial branch-and-bound
    BILINEAR = "bilinear"
    DUALS = "duals"  # constraint duals read back after a continuous solve


# what a problem class implies when a solver does not state its features
_IMPLIED = {ProblemClass.MILP: {Feature.INTEGER}, ProblemClass.QP: {Feature.QUADRATIC_OBJECTIVE},
            ProblemClass.MIQP: {Feature.INTEGER, Feature.QUADRATIC_OBJECTIVE}}


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    DEVIATION = "deviation"  # a documented mismatch with a published value: a finding
    # a published value the reconstructed data were fitted to: reported with its error,
    # never counted as reproduced (the case file names it among its calibration targets)
    CALIBRATED = "calibrated"


class Fidelity(StrEnum):
    EXACT = "exact"  # reproduces the published run
    INFERRED = "inferred"  # needs a parameter the document does not print
    RECONSTRUCTED = "reconstructed"  # data rebuilt from other sources or assumed


def resolve(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    """Turn a ``"package.module:attribute"`` reference into the object (lazy plugin imports)."""
    if callable(ref):
        return ref
    module_name, _, attribute = ref.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class CaseSource:
    """Where a case comes from. ``load`` returns the raw mapping of the case file.

    The raw mapping has a ``[case]`` header (name, formulation, description, fidelity,
    provenance, assumptions) and a ``[data]`` table that the formulation validates.
    """

    name: str
    formulation: str
    load: Callable[[], Mapping[str, Any]]
    origin: str  # a file path or a generator description, for messages
    default: bool = True  # part of a run without -c; scaling cases set False


@dataclass(frozen=True)
class Case:
    """A validated case: header fields plus the formulation's typed data object."""

    name: str
    formulation: str
    description: str
    fidelity: Fidelity
    provenance: str
    assumptions: tuple[str, ...]
    data: Any  # the formulation's pydantic model instance
    origin: str
    # a default run uses only these (all when empty): "variant" (every default solver) or
    # "variant:backend/solver" (only that pair)
    variants: tuple[str, ...] = ()
    # seconds per solve when the user gives no --time-limit (a case measured to need longer)
    time_limit_s: float | None = None
    time_limit_expected: bool = False  # ending at the time limit is not a failure here
    # published values the data were fitted to ("quantity = value (table cell)")
    calibrated_on: tuple[str, ...] = ()

    def runs_by_default(self, variant: str, backend: str, solver: str) -> bool:
        """Whether a run without --variant includes this combination on this case."""
        return not self.variants or variant in self.variants or (
            f"{variant}:{backend}/{solver}" in self.variants)


# --------------------------------------------------------------------------- solutions


@dataclass
class Solution:
    """Variable values by name (numpy arrays) and the objective the backend reported."""

    values: dict[str, np.ndarray]
    objective: float | None


@dataclass
class ModelSize:
    variables: int
    integer_variables: int
    constraints: int


@dataclass
class BuiltModel:
    """What a formulation's backend implementation returns.

    ``native`` is the backend's own model object; ``extract`` reads the solution back
    after the backend adapter has solved it. ``review``, when given, is called after each
    solve with the solver's outcome and the extracted solution (None without one); what it
    returns (:class:`Review`) may ask for another solve or correct the status.
    """

    native: Any
    extract: Callable[[], Solution]
    review: Callable[[SolveOutcome, Solution | None], Review | None] | None = None


@dataclass
class Review:
    """A formulation's verdict on one solve of its model (``BuiltModel.review``).

    ``rebuild`` asks the runner to build (timed as build time) and solve another model, as
    an iterative scheme does (heuristic big-Ms doubled while one is active); the runner
    allows at most ``MAX_SOLVES`` solves per run. ``status`` replaces the solver's status
    when the formulation knows better (a reformulation the solver calls infeasible while
    an exact method finds a solution is an ``error``, never a silent ``infeasible``);
    ``note`` is appended to the run's message either way."""

    rebuild: Callable[[], BuiltModel] | None = None
    status: Status | None = None
    note: str = ""


MAX_SOLVES = 8


@dataclass(frozen=True)
class SolveLimits:
    """What every solve is held to. The relative MIP gap is set explicitly (solvers default
    to 1e-4 or so) and kept below the 1e-6 tolerances the references use."""

    time_limit_s: float | None = 300.0
    mip_rel_gap: float = 1e-7
    # solver threads (None: the solver's default); set so that parallel runs x threads stay
    # within the machine's cores
    threads: int | None = None
    # ask the solver for its log (it goes to the run's --solver-logs file, never to
    # gridbench's own output); off, solvers are told to be quiet
    solver_output: bool = False


@dataclass
class SolveOutcome:
    status: Status
    objective: float | None
    message: str = ""
    solver_time_s: float | None = None  # time the solver itself reports, when it does
    # whether variable values can be read; None: optimal and feasible have one, a time
    # limit has one only when the adapter says the solver returned an incumbent
    has_incumbent: bool | None = None
    sense: str | None = None  # "min" or "max": which objective value is better
    bound: float | None = None  # the solver's proven bound on the objective, when it says
    nodes: int | None = None  # branch-and-bound nodes the solver reports, when it does
    traceback: str = ""  # when the solver raised: kept in the run's JSON

    @property
    def solution(self) -> bool:
        if self.has_incumbent is not None:
            return self.has_incumbent
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)


@dataclass(frozen=True)
class SolverSpec:
    """A solver as one backend drives it.

    ``native`` is the name the backend uses (``appsi_highs`` in Pyomo, ``HIGHS`` in CVXPY).
    ``available`` is called lazily; a commercial solver that is not installed reports
    ``False`` and every run that asks for it is skipped as ``unavailable``.
    """

    name: str
    backend: str
    native: str
    problem_classes: frozenset[ProblemClass]
    available: Callable[[], bool]
    version: Callable[[], str | None] = lambda: None
    commercial: bool = False
    default: bool = True  # part of a default run when it supports the problem class
    options: Mapping[str, Any] = field(default_factory=dict)
    # declared capabilities (None: only what the problem classes imply); the planner never
    # discovers them by catching an exception
    features: frozenset[Feature] | None = None

    @property
    def capabilities(self) -> frozenset[Feature]:
        if self.features is not None:
            return frozenset(self.features)
        return frozenset(f for c in self.problem_classes for f in _IMPLIED.get(c, ()))


class Backend(Protocol):
    """A modelling backend adapter (Pyomo, PuLP, CVXPY, or a plain-Python algorithm host)."""

    name: str

    def available(self) -> bool: ...

    def version(self) -> str | None: ...

    def solve(self, native: Any, solver: SolverSpec, limits: SolveLimits) -> SolveOutcome:
        """Solve ``native`` with ``solver`` within ``limits`` (time, MIP gap)."""
        ...

    def model_size(self, native: Any) -> ModelSize | None: ...


# --------------------------------------------------------------------------- formulations


@dataclass(frozen=True)
class Variant:
    name: str
    problem_class: ProblemClass
    description: str
    solved_as: ProblemClass | None = None  # e.g. a bilevel variant reformulated as a MILP
    # backend -> solvers of a default run (None: every default solver of the class);
    # naming a solver with -s still selects any solver that supports the class
    default_solvers: Mapping[str, tuple[str, ...]] | None = None
    # solver features the variant needs: a pair without them is planned as not_applicable
    requires: frozenset[Feature] = frozenset()


@dataclass(frozen=True)
class Check:
    """One comparison: a quantity against a reference, or a solution property against 0."""

    quantity: str
    expected: float | None
    actual: float | None
    abs_err: float | None
    rel_err: float | None
    verdict: Verdict
    kind: str = "reference"  # reference | solution | certificate | derived | agreement
    tolerance: str = ""
    note: str = ""


@dataclass(frozen=True)
class Agreement:
    """Quantities that every run of one case must agree on, across backends and solvers
    (and across variants when ``across_variants``): reformulations, implementations."""

    quantities: tuple[str, ...]
    rel: float = 1e-6
    abs: float = 1e-9
    across_variants: bool = False
    description: str = ""


@dataclass(frozen=True)
class Formulation:
    """A model from a seed document, written once per backend.

    ``implementations`` maps a backend name to a builder ``build(data, variant) ->
    BuiltModel`` (or a ``"module:function"`` reference, imported only when used, so that
    listing plugins never imports a modelling library).
    ``quantities(data, variant, solution)`` and ``verify(data, variant, solution)`` work on
    numpy values and the case data only, independently of the backend that solved it. They
    and ``report_section`` may also be ``"module:function"`` references (imported on use).
    """

    name: str
    description: str
    variants: Sequence[Variant]
    case_schema: type
    implementations: Mapping[str, str | Callable[..., BuiltModel]]
    quantities: str | Callable[[Any, str, Solution], dict[str, float]]
    verify: str | Callable[[Any, str, Solution], list[Check]]
    seed: str = ""
    agreement: tuple[Agreement, ...] = ()
    # extra Markdown/terminal section from this formulation's run dicts (JSON form)
    report_section: str | Callable[[list[dict[str, Any]]], str] | None = None
    # the names ``quantities`` may return, ``*`` matching any text (``tariff_*``): a
    # reference naming another quantity is an input error instead of a check that can only
    # fail. Empty: not declared, reference quantities are not checked when loaded.
    quantity_names: tuple[str, ...] = ()
    # for a formulation built on the bilevel engine: ``problem(data) -> BilevelProblem`` (or a
    # ``"module:function"`` reference), the engine's matrix form of a case; declared, so
    # that ``gridbench export-mibs`` can write any bilevel case
    bilevel_problem: str | Callable[[Any], Any] | None = None

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise KeyError(name)

    def declares_quantity(self, name: str) -> bool:
        """Whether ``name`` is one of the declared quantities (True when none are)."""
        if not self.quantity_names:
            return True
        return _quantity_pattern(tuple(self.quantity_names)).fullmatch(name) is not None


@functools.cache
def _quantity_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """The declared names as one compiled alternation (``*`` matches any text): the runner
    asks once per quantity of every run, thousands for a PBPM case."""
    return re.compile("|".join(re.escape(p).replace(r"\*", ".*") for p in patterns))


# --------------------------------------------------------------------------- results


@dataclass
class RunResult:
    formulation: str
    variant: str
    case: str
    backend: str
    solver: str
    status: Status
    objective: float | None = None
    quantities: dict[str, float] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    build_time_s: float | None = None
    solve_time_s: float | None = None
    solver_time_s: float | None = None
    time_limit_s: float | None = None  # the limit this solve had
    model_size: ModelSize | None = None
    message: str = ""
    traceback: str = ""  # kept in the JSON for plugin authors, never printed
    solver_log: str | None = None  # the run's captured solver output (--solver-logs)
    fingerprint: str = ""  # what --resume compares (see bench.resume)
    reused: bool = False  # taken from a previous results file by --resume
    time_limit_expected: bool = False  # the case declares ending at the limit as expected
    # why an optimal solve is not certified: one entry per failed certificate check
    uncertified_reasons: list[str] = field(default_factory=list)
    sense: str | None = None  # the model's objective sense, "min" or "max"
    # the solver's proven bound on the objective (best bound of a MIP), when it reports one
    bound: float | None = None
    nodes: int | None = None  # branch-and-bound nodes the solver reports, when it does
    # phases (docs/running.md, "Phase timing"): build_time_s (the layer's own objects),
    # handoff (the layer's solve call minus the solver's own time: translation into the
    # solver, its setup, reading the answer back; None when the solver reports no time of
    # its own), solve_time_s (the whole solve call), solver_time_s (the solver's own),
    # extract (reading the solution into numpy), validate (quantities, certificate and
    # reference checks)
    handoff_time_s: float | None = None
    extract_time_s: float | None = None
    validate_time_s: float | None = None
    # the run's peak resident memory above its worker's at the start (MB): what building,
    # solving and checking needed on top of gridbench with its plugins and cases loaded
    # (bench.worker.MemoryMeter; with gridbench bench's warm-up on a case never larger
    # than the run's, the peak over both); None when the run had no worker of its own
    peak_memory_mb: float | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.formulation, self.variant, self.case, self.backend, self.solver)

    @property
    def checks_passed(self) -> int:
        return sum(check.verdict is Verdict.PASS for check in self.checks)

    @property
    def failed(self) -> bool:
        """A run fails when a check fails, the solve broke (error, wrong status), it ended
        at its time limit (unless its case expects that), or its certificate failed, unless
        a reference expects exactly that (``certified = 0``)."""
        if any(c.verdict is Verdict.FAIL for c in self.checks if c.kind != "certificate"):
            return True
        if self.status is Status.UNCERTIFIED:
            return not any(c.quantity == "certified" and c.kind == "reference"
                           and c.verdict is Verdict.PASS for c in self.checks)
        if self.status is Status.TIME_LIMIT:
            return not self.time_limit_expected
        return self.status in (Status.ERROR, Status.INFEASIBLE, Status.UNBOUNDED)


@dataclass(frozen=True)
class Benchmark:
    """A timing study run by ``gridbench bench NAME``: a selection, repeated.

    With ``series`` the cases are sizes in increasing order, and a backend/solver pair
    that does not finish optimal on one size is not run on the larger ones.
    """

    name: str
    description: str
    formulation: str
    cases: tuple[str, ...]
    variants: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()
    solvers: tuple[str, ...] = ()
    repeat: int = 3
    time_limit_s: float = 60.0
    series: bool = False


@dataclass(frozen=True)
class PluginProblem:
    """A plugin that failed to import, to register, or raised in a hook; it was skipped."""

    plugin: str
    distribution: str
    stage: str  # import | register | validate | hook <name> | case <name>
    error: str
