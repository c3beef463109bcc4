"""Plan and execute formulation x variant x case x backend x solver runs.

The runner only talks to records: it asks a formulation's implementation for a native
model, hands it to the backend adapter, and gives the extracted numpy solution back to the
formulation for quantities and independent checks. A run that raises is recorded as
``error`` with its message and the suite carries on.
"""

from __future__ import annotations

import difflib
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from bench.cases import CaseError, load_case
from bench.errors import InputError, NotApplicable, short_error
from bench.records import (
    MAX_SOLVES,
    Case,
    Check,
    Formulation,
    RunResult,
    Solution,
    SolveLimits,
    SolveOutcome,
    SolverSpec,
    Status,
    Variant,
    Verdict,
    resolve,
)
from bench.references import ReferenceBook
from bench.registry import Registry
from bench.validation import check_against

DEFAULT_TIME_LIMIT_S = SolveLimits().time_limit_s


@dataclass(frozen=True)
class Selection:
    """The CLI's filters; an empty tuple means "all"."""

    formulations: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    backends: tuple[str, ...] = ()
    solvers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedRun:
    formulation: Formulation
    variant: Variant
    case: Case
    backend: str
    solver: SolverSpec
    # why this pair cannot run this variant (a feature the solver does not declare): it is
    # recorded as not_applicable without building anything
    skip_reason: str = ""


@dataclass
class Plan:
    runs: list[PlannedRun] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not installed: commercial solvers...
    case_problems: list[str] = field(default_factory=list)  # invalid cases that were skipped


# beyond this many names an error suggests the closest ones instead of listing them all
_LISTED_NAMES = 20


def _check_names(kind: str, asked: Sequence[str], known: Sequence[str]) -> None:
    unknown = [name for name in asked if name not in known]
    if not unknown:
        return
    names = sorted(set(known))
    if len(names) <= _LISTED_NAMES:
        raise InputError(f"unknown {kind} {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(names) or 'none'})")
    close = sorted({match for name in unknown
                    for match in difflib.get_close_matches(name, names, n=5, cutoff=0.6)})
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise InputError(f"unknown {kind} {', '.join(map(repr, unknown))} ({hint}{len(names)} "
                     f"{kind}s are registered: `gridbench list` shows them)")


def plan_runs(registry: Registry, selection: Selection) -> Plan:
    """Expand the selection into runs. Unknown names or an empty plan are input errors."""
    formulations = registry.formulations
    _check_names("formulation", selection.formulations, list(formulations))
    _check_names("case", selection.cases, list(registry.cases))
    _check_names("backend", selection.backends, list(registry.backends))
    _check_names("solver", selection.solvers, [name for _, name in registry.solvers])
    chosen = [f for name, f in sorted(formulations.items())
              if not selection.formulations or name in selection.formulations]
    _check_names("variant", selection.variants,
                 [v.name for f in chosen for v in f.variants])

    plan = Plan()
    skipped: set[str] = set()
    for formulation in chosen:
        cases = _cases_for(registry, formulation, selection, plan)
        variants = [v for v in formulation.variants
                    if not selection.variants or v.name in selection.variants]
        for backend_name in sorted(formulation.implementations):
            if selection.backends and backend_name not in selection.backends:
                continue
            backend = registry.backends.get(backend_name)
            if backend is None or not backend.available():
                skipped.add(f"backend {backend_name}")
                continue
            for variant in variants:
                for solver in _solvers_for(registry, backend_name, variant, selection, skipped):
                    for case in cases:
                        if not (selection.variants or case.runs_by_default(
                                variant.name, backend_name, solver.name)):
                            continue  # the case limits its default run (named: runs all)
                        plan.runs.append(PlannedRun(formulation, variant, case, backend_name,
                                                    solver, _missing(variant, solver)))
    plan.skipped = sorted(skipped)
    if not plan.runs:
        why = [f"not installed: {', '.join(plan.skipped)}"] if plan.skipped else []
        unwritten = [b for b in selection.backends
                     if not any(b in f.implementations for f in chosen)]
        if unwritten:
            why.append(f"{', '.join(f.name for f in chosen)} "
                       f"{'is' if len(chosen) == 1 else 'are'} not written for "
                       f"{', '.join(unwritten)}")
        raise InputError("no runs match the selection" + (f" ({'; '.join(why)})" if why else ""))
    return plan


def _cases_for(registry: Registry, formulation: Formulation, selection: Selection,
               plan: Plan) -> list[Case]:
    cases = []
    for name, source in sorted(registry.cases.items()):
        if source.formulation != formulation.name:
            continue
        if selection.cases and name not in selection.cases:
            continue
        if not selection.cases and not source.default:
            continue  # scaling cases run only when named (or by `gridbench bench`)
        try:
            cases.append(load_case(source, formulation))
        except CaseError as exc:
            if selection.cases:  # the user asked for this case by name: their input is bad
                raise
            plan.case_problems.append(str(exc))
    return cases


def _solvers_for(registry: Registry, backend: str, variant: Variant, selection: Selection,
                 skipped: set[str]) -> list[SolverSpec]:
    solve_class = variant.solved_as or variant.problem_class
    preferred = None if variant.default_solvers is None else variant.default_solvers.get(
        backend, ())
    chosen = []
    for spec in sorted(registry.solvers_for(backend), key=lambda s: s.name):
        if solve_class not in spec.problem_classes:
            continue
        if selection.solvers:
            if spec.name in selection.solvers:
                chosen.append(spec)  # asked for by name: shown even when unavailable
            continue
        if preferred is not None:
            if spec.name not in preferred:
                continue
        elif not spec.default:
            continue
        if not _available(spec):
            skipped.add(f"{backend}/{spec.name}")
            continue
        chosen.append(spec)
    return chosen


def _missing(variant: Variant, solver: SolverSpec) -> str:
    """Why ``solver`` cannot run ``variant`` ("" when it can), from declared features."""
    missing = sorted(str(f) for f in variant.requires - solver.capabilities)
    if not missing:
        return ""
    return (f"{variant.name} needs {', '.join(missing)}, which {solver.backend}/{solver.name} "
            "does not support (declared features: "
            f"{', '.join(sorted(map(str, solver.capabilities))) or 'none'})")


def _available(spec: SolverSpec) -> bool:
    try:
        return bool(spec.available())
    except Exception:
        return False


def planned_run(registry: Registry, key: tuple[str, ...]) -> PlannedRun:
    """The run named by ``key`` (formulation, variant, case, backend, solver), rebuilt from
    the registry: what a worker in another process or on another machine executes."""
    formulation_name, variant_name, case_name, backend, solver_name = key
    try:
        formulation = registry.formulations[formulation_name]
        variant = formulation.variant(variant_name)
        case = load_case(registry.cases[case_name], formulation)
        solver = registry.solvers[(backend, solver_name)]
    except KeyError as exc:
        raise InputError(f"run {'/'.join(key)}: {exc.args[0]!r} is not registered here "
                         "(are the same plugins installed?)") from None
    return PlannedRun(formulation, variant, case, backend, solver, _missing(variant, solver))


def _solve_rounds(build, backend, solver: SolverSpec, limits: SolveLimits, result: RunResult
                  ) -> tuple[SolveOutcome, Solution | None]:
    """Build and solve; then, while the model's ``review`` asks for it, rebuild and solve
    again (at most ``MAX_SOLVES`` solves). Build and solve times, solver time and nodes
    add up over the rounds; the last round's outcome and solution are the run's, and each
    review's note goes into the run's message."""
    notes: list[str] = []
    result.build_time_s = result.solve_time_s = 0.0
    # the time limit covers every round (the watchdog allows it once, plus its grace)
    deadline = None if limits.time_limit_s is None else \
        time.perf_counter() + limits.time_limit_s
    round_limits = limits
    for round_ in range(1, MAX_SOLVES + 1):
        start = time.perf_counter()
        built = build()
        result.build_time_s += time.perf_counter() - start
        result.model_size = backend.model_size(built.native)
        start = time.perf_counter()
        outcome = backend.solve(built.native, solver, round_limits)
        solve_s = time.perf_counter() - start
        result.solve_time_s += solve_s
        for name in ("solver_time_s", "nodes"):
            value = getattr(outcome, name)
            if value is not None:
                setattr(result, name, (getattr(result, name) or 0) + value)
        if outcome.solver_time_s is not None:  # the layer's part of its own solve call
            result.handoff_time_s = (result.handoff_time_s or 0.0) + max(
                0.0, solve_s - outcome.solver_time_s)
        solution = None
        if outcome.solution:
            start = time.perf_counter()
            solution = built.extract()
            result.extract_time_s = (result.extract_time_s or 0.0) + (
                time.perf_counter() - start)
            solution.objective = outcome.objective
        review = built.review(outcome, solution) if built.review is not None else None
        if review is None:
            break
        if review.note:
            notes.append(review.note)
        if review.rebuild is not None and round_ < MAX_SOLVES:
            left = None if deadline is None else deadline - time.perf_counter()
            if left is None or left > 0:
                build = review.rebuild
                if left is not None:
                    round_limits = replace(limits, time_limit_s=left)
                continue
            notes.append(f"time limit ({limits.time_limit_s:g} s, over every round) reached "
                         f"before round {round_ + 1}")
            if not outcome.status.has_solution:  # e.g. "infeasible": not concluded
                outcome.status = Status.TIME_LIMIT
            break
        if review.status is not None:
            outcome.status = review.status
            if not review.status.has_solution:
                solution = None
        break
    result.status, result.objective = outcome.status, outcome.objective
    result.message = "; ".join(filter(None, [outcome.message, *notes]))
    result.sense, result.bound, result.traceback = (outcome.sense, outcome.bound,
                                                    outcome.traceback)
    return outcome, solution


def execute(planned: PlannedRun, registry: Registry, book: ReferenceBook,
            limits: SolveLimits | float | None = None, *,
            time_limit: float | None = None) -> RunResult:
    """Build, solve, extract, compute quantities, verify and compare one run.

    ``limits`` may be a plain number of seconds, and ``time_limit`` overrides its time
    limit (the default MIP gap then applies)."""
    if not isinstance(limits, SolveLimits):
        limits = SolveLimits() if limits is None else SolveLimits(time_limit_s=limits)
    if time_limit is not None:
        limits = replace(limits, time_limit_s=time_limit)
    formulation, variant, case = planned.formulation, planned.variant, planned.case
    result = RunResult(formulation.name, variant.name, case.name, planned.backend,
                       planned.solver.name, Status.ERROR, time_limit_s=limits.time_limit_s,
                       time_limit_expected=case.time_limit_expected)
    backend = registry.backends[planned.backend]
    if planned.skip_reason:
        result.status = Status.NOT_APPLICABLE
        result.message = planned.skip_reason
        return result
    if not _available(planned.solver):
        result.status = Status.UNAVAILABLE
        result.message = f"solver {planned.solver.name} is not installed for {planned.backend}"
        return result
    validate_start = None
    try:
        build = resolve(formulation.implementations[planned.backend])
        outcome, solution = _solve_rounds(lambda: build(case.data, variant.name), backend,
                                          planned.solver, limits, result)
        validate_start = time.perf_counter()
        if solution is not None:
            result.quantities = {k: float(v) for k, v in
                                 resolve(formulation.quantities)(case.data, variant.name,
                                                                 solution).items()}
            undeclared = sorted(q for q in result.quantities
                                if not formulation.declares_quantity(q))
            if undeclared:  # the plugin's declaration is out of date: references to these
                # quantities would be refused as misspelt
                result.checks.append(Check(
                    "declared_quantities", 0.0, float(len(undeclared)), None, None,
                    Verdict.FAIL, "solution", "", "quantities the formulation does not "
                    f"declare (Formulation.quantity_names): {', '.join(undeclared[:5])}"))
            result.checks.extend(resolve(formulation.verify)(case.data, variant.name, solution))
            failed_certificates = [c for c in result.checks if c.kind == "certificate"
                                   and c.verdict is not Verdict.PASS]
            if result.status is Status.OPTIMAL and failed_certificates:
                result.status = Status.UNCERTIFIED
                result.uncertified_reasons = [c.note or c.quantity
                                              for c in failed_certificates]
    except NotApplicable as exc:  # the variant cannot state this case: no references apply
        result.status = Status.NOT_APPLICABLE
        result.message = str(exc)
        return result
    except Exception as exc:  # a plugin or solver bug: record it and carry on
        result.status = Status.ERROR
        result.message = short_error(exc)
        result.traceback = traceback.format_exc()
    result.checks.extend(check_against(result, book.for_run(formulation.name, case.name,
                                                              variant.name)))
    if validate_start is not None:
        result.validate_time_s = time.perf_counter() - validate_start
    return result


def run_plan(plan: Plan, registry: Registry, book: ReferenceBook,
             limits: SolveLimits | None = None,
             case_time_limits: bool = False) -> Iterator[RunResult]:
    """Execute the plan in order; with ``case_time_limits`` a case's own ``time_limit_s``
    replaces the limit of ``limits`` (used when the user did not give one)."""
    limits = limits or SolveLimits()
    for planned in plan.runs:
        own = planned.case.time_limit_s if case_time_limits else None
        yield execute(planned, registry, book, limits, time_limit=own)
