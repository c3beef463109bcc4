"""Compare what a solver computed with the published values.

A check passes within its tolerance; otherwise it fails, or, where the reference says the
mismatch is a documented finding (``on_mismatch = "deviation"``, the default for
reconstructed data), it is a deviation: reported with its error, not counted as a failure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from bench.records import Check, Formulation, RunResult, Status, Verdict
from bench.references import Reference, ReferenceBook, Tolerance, errors


def _compare(name: str, expected: float, actual: float | None, tolerance: Tolerance,
             on_mismatch: str, note: str, kind: str = "reference",
             calibrated: bool = False) -> Check:
    if actual is None:
        return Check(name, expected, None, None, None, Verdict.FAIL, kind, str(tolerance),
                     "not computed")
    abs_err, rel_err = errors(expected, actual)
    if calibrated:  # fitted to it: agreement here is not a reproduction
        verdict = Verdict.CALIBRATED
    elif tolerance.accepts(abs_err, rel_err):
        verdict = Verdict.PASS
    else:
        verdict = Verdict.DEVIATION if on_mismatch == "deviation" else Verdict.FAIL
    return Check(name, expected, actual, abs_err, rel_err, verdict, kind, str(tolerance), note)


def check_against(result: RunResult, references: list[Reference]) -> list[Check]:
    """One check per published quantity of this run's formulation, case and variant."""
    checks = []
    for ref in references:
        actual = result.quantities.get(ref.quantity)
        note = ref.note
        if actual is None and result.status.has_solution:
            note = f"quantity {ref.quantity!r} not produced by the formulation"
        checks.append(_compare(ref.label, ref.value, actual, ref.tolerance,
                               ref.on_mismatch, note or f"{ref.seed}: {ref.where}",
                               calibrated=ref.calibrated))
    return checks


@dataclass
class DerivedResult:
    """A check across runs: a derived reference (``kind="derived"``) for one
    formulation/variant/backend/solver, or an agreement between runs (``kind="agreement"``)."""

    formulation: str
    variant: str
    backend: str
    solver: str
    check: Check
    terms: list[dict]  # what was combined or compared, for the report


def derived_checks(results: list[RunResult], book: ReferenceBook) -> list[DerivedResult]:
    """Evaluate every derived reference for every backend/solver that ran all its terms."""
    by_group: dict[tuple[str, str, str, str], dict[str, RunResult]] = defaultdict(dict)
    for result in results:
        group = (result.formulation, result.variant, result.backend, result.solver)
        by_group[group][result.case] = result
    out = []
    for (formulation, variant, backend, solver), runs in by_group.items():
        for ref in book.derived:
            if (ref.formulation, ref.variant) != (formulation, variant):
                continue
            if not all(term.case in runs for term in ref.terms):
                continue  # this run selection did not include every case the check needs
            values = [runs[term.case].quantities.get(term.quantity) for term in ref.terms]
            actual = None if any(v is None for v in values) else sum(
                term.coefficient * value for term, value in zip(ref.terms, values, strict=True))
            check = _compare(ref.name, ref.value, actual, ref.tolerance, ref.on_mismatch,
                             ref.note or f"{ref.seed}: {ref.where}", kind="derived")
            out.append(DerivedResult(formulation, variant, backend, solver, check,
                                     [term.model_dump() for term in ref.terms]))
    return out


# how far an objective may pass another run's proven bound (solver tolerances) before the
# claim counts as impossible
BOUND_TOL_REL = 1e-6


def _beats_a_proven_bound(run: RunResult, runs: list[RunResult], sign: float) -> bool:
    """Whether ``run`` claims an objective better than another run's proven bound (a
    minimum below a proven lower bound): no correct solve can, so it is no truth."""
    for other in runs:
        if other is run or other.bound is None or run.objective is None:
            continue
        slack = BOUND_TOL_REL * max(1.0, abs(other.bound))
        if sign * (run.objective - other.bound) < -slack:
            return True
    return False


def _truth(runs: list[RunResult]) -> RunResult:
    """The run the others are compared with: among runs whose own checks all pass and whose
    objective no other run's proven bound rules out, the one with the best objective (a run
    with a proven bound first among equals) when every run states its sense (the same one)
    and objective, so that with a loose --mip-gap a suboptimal run never becomes the truth;
    otherwise the first such run in plan order."""
    trusted = [r for r in runs if not r.failed] or runs
    senses = {r.sense for r in trusted}
    if len(senses) == 1 and None not in senses and all(r.objective is not None
                                                       for r in trusted):
        sign = 1.0 if senses == {"min"} else -1.0
        possible = [r for r in trusted if not _beats_a_proven_bound(r, runs, sign)] or trusted
        return min(possible, key=lambda r: (sign * r.objective, r.bound is None))
    return trusted[0]


def _bounds(other: RunResult, base: RunResult) -> str:
    if other.bound is None and base.bound is None:
        return ""
    return f"; proven bounds {other.bound!r} vs {base.bound!r}"


def agreement_checks(results: list[RunResult], formulations: dict[str, Formulation]
                     ) -> list[DerivedResult]:
    """Every optimal run of a case must agree, per quantity of each :class:`Agreement` the
    formulation declares (implementations, reformulations), with the group's truth
    (:func:`_truth`). Time-limited or uncertified runs are left out: their disagreement is
    expected. A disagreement names both sides."""
    out = []
    for name, formulation in formulations.items():
        for agreement in formulation.agreement:
            groups: dict[tuple[str, ...], list[RunResult]] = defaultdict(list)
            for r in results:
                if r.formulation == name and r.status is Status.OPTIMAL:
                    key = (r.case,) if agreement.across_variants else (r.case, r.variant)
                    groups[key].append(r)
            for runs in groups.values():
                if len(runs) < 2:
                    continue
                base = _truth(runs)
                label = (f"{base.variant}/{base.backend}/{base.solver}"
                         if agreement.across_variants else f"{base.backend}/{base.solver}")
                for other in runs:
                    if other is base:
                        continue
                    for quantity in agreement.quantities:
                        expected = base.quantities.get(quantity)
                        if expected is None:
                            continue
                        tolerance = Tolerance(abs=agreement.abs, rel=agreement.rel)
                        actual = other.quantities.get(quantity)
                        note = agreement.description or f"against {label}"
                        check = _compare(f"agree:{quantity}", expected, actual, tolerance,
                                         "fail", note, kind="agreement")
                        if check.verdict is not Verdict.PASS:
                            check = replace(check, note=(
                                f"{other.variant}/{other.backend}/{other.solver} gives "
                                f"{actual!r}, {label} gives {expected!r} (objective "
                                f"{other.objective!r} vs {base.objective!r}"
                                + _bounds(other, base) + f"); {note}"))
                        out.append(DerivedResult(
                            name, other.variant, other.backend, other.solver, check,
                            [{"case": other.case, "quantity": quantity, "against": label}]))
    return out


def solution_check(name: str, violation: float, tolerance: float, note: str = "") -> Check:
    """A feasibility property recomputed from the case data: violation must be <= tolerance."""
    verdict = Verdict.PASS if violation <= tolerance else Verdict.FAIL
    return Check(name, 0.0, violation, violation, None, verdict, "solution",
                 f"abs {tolerance:g}", note)


def objective_check(reported: float | None, recomputed: float, rel_tol: float = 1e-6) -> Check:
    """The backend's objective against the objective recomputed from the solution values."""
    if reported is None:
        return Check("objective_recomputed", None, recomputed, None, None, Verdict.FAIL,
                     "solution", f"rel {rel_tol:g}", "backend reported no objective")
    abs_err, rel_err = errors(reported, recomputed)
    ok = abs_err <= rel_tol * max(1.0, abs(reported))
    return Check("objective_recomputed", reported, recomputed, abs_err, rel_err,
                 Verdict.PASS if ok else Verdict.FAIL, "solution",
                 f"rel {rel_tol:g} (abs below 1)", "objective from the case data")
