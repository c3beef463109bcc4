"""``gridbench compare BASE.json NEW.json``: what changed between two runs of gridbench.

Both files are of one kind: results files of ``gridbench run --json`` (``meta``, ``runs``,
``derived_checks``) or timing files of ``gridbench bench --json`` (``meta``, ``rows``).
Anything else, or one of each, is an :class:`~bench.errors.InputError` (exit 2).

**Matching.** A run is keyed by (formulation, variant, case, backend, solver), a bench row
by (benchmark, case, variant, backend, solver); a key that appears twice in one file is
numbered (``#2``) in file order. A check is keyed by its quantity and kind within its run
(numbered the same way when repeated); a check across runs (``derived_checks``) by its
formulation, variant, backend, solver, name, kind and the cases it combines.

**Status order** (best first)::

    optimal > uncertified = feasible > time_limit > infeasible = unbounded > error

``uncertified`` and ``feasible`` are solutions whose optimality is not proven; every model
gridbench ships has an optimum, so ``infeasible`` and ``unbounded`` are wrong answers
(the runner fails them too) and rank just above a crash. ``not_applicable`` and
``unavailable`` are neutral: they say the variant cannot state the case or the solver is
not installed here, nothing about the code, so a change to or from them is reported as
``neutral``, never as worse or better (unknown statuses are neutral too).

**Verdict order**: ``pass`` = ``calibrated`` > ``deviation`` > ``fail``. A lower rank is
``worse`` (pass -> fail, pass -> deviation: a value that reproduced no longer does), a
higher one ``better``; pass <-> calibrated is ``neutral`` (the case file's calibration list
changed, not the result).

**Correctness regressions** (exit 1 whatever the options):

* a status that got worse;
* a check whose verdict got worse, or a new check that fails (a run's check when the run
  is in both files with the same status; a check across runs whenever it is new);
* a run or bench row with status ``optimal`` in BASE that is missing from NEW (so compare
  like with like: a NEW file of a smaller selection fails).

Reported but never failing: runs only in NEW, checks only in one file, statuses to or from
``not_applicable``/``unavailable``, objective changes (beyond ``1e-6 x max(1, |BASE|)``: the
checks judge correctness; several optima or a solver tolerance may move an objective),
timing changes. A run whose status changed lists only the checks present in both files
(the status explains the others).

**Timing.** Compared only for runs with the same status in both files that is neither
``error``, ``not_applicable`` nor ``unavailable``, and times in both. Build, solve and
total (build + solve) are shown as NEW/BASE ratios. A *slowdown* is judged on the total
alone: ``NEW / BASE > FACTOR`` **and** ``NEW - BASE > noise floor`` (default
:data:`NOISE_FLOOR_S` = 1.0 s). Only with ``--fail-on-slowdown FACTOR`` does a slowdown
exit 1. Why a fixed floor: a results file holds one measurement per run, and a bench row
holds the median of its repeats and their count but not their spread, so neither gives a
per-run noise estimate. Measured on the 2-core development machine, two runs of the same
code differ by up to 2x on runs of 0.03-0.15 s (0.07 s apart); a floor of 1 s means
sub-second jitter never fails a comparison, however large its ratio. A bench row's median
(of ``repeats`` >= 3) already drops single outliers, so the same factor and floor apply to
it unchanged. Without ``--all-timings`` the table lists only timings beyond the floor whose
ratio is at least ``min(FACTOR, 1.5)`` either way (faster or slower).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tabulate import tabulate

from bench.errors import InputError

NOISE_FLOOR_S = 1.0  # a slowdown must add more than this many seconds to a run's total
SHOWN_FACTOR = 1.5  # timings listed (without --all-timings) from this ratio either way
OBJECTIVE_REL = 1e-6  # objectives differ when |NEW - BASE| > OBJECTIVE_REL * max(1, |BASE|)

RESULTS, BENCH = "results", "bench"
KIND_NAMES = {RESULTS: "a results file (gridbench run --json)",
              BENCH: "a timing file (gridbench bench --json)"}
KEY_FIELDS = {RESULTS: ("formulation", "variant", "case", "backend", "solver"),
              BENCH: ("benchmark", "case", "variant", "backend", "solver")}
TIME_FIELDS = {RESULTS: ("build_time_s", "solve_time_s"), BENCH: ("build_s", "solve_s")}

STATUS_RANK = {"optimal": 5, "uncertified": 4, "feasible": 4, "time_limit": 3,
               "infeasible": 2, "unbounded": 2, "error": 1}  # the rest: neutral
VERDICT_RANK = {"pass": 2, "calibrated": 2, "deviation": 1, "fail": 0}
UNTIMED = {"error", "not_applicable", "unavailable"}

WORSE, BETTER, NEUTRAL = "worse", "better", "neutral"

Key = tuple[Any, ...]  # the key fields, then the occurrence number (1, 2, ...)


def _direction(base: str | None, new: str | None, ranks: dict[str, int]) -> str:
    old, now = ranks.get(base or ""), ranks.get(new or "")
    if old is None or now is None or old == now:
        return NEUTRAL
    return WORSE if now < old else BETTER


def status_direction(base: str, new: str) -> str:
    """``worse``, ``better`` or ``neutral`` for a status change (module docstring)."""
    return _direction(base, new, STATUS_RANK)


def verdict_direction(base: str | None, new: str | None) -> str:
    """``worse``, ``better`` or ``neutral`` for a check's verdict change."""
    return _direction(base, new, VERDICT_RANK)


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class OnlyIn:
    """A run (or bench row) present in one file only."""

    label: str
    side: str  # "BASE" or "NEW"
    status: str

    @property
    def regression(self) -> bool:
        return self.side == "BASE" and self.status == "optimal"


@dataclass(frozen=True)
class StatusChange:
    label: str
    base: str
    new: str

    @property
    def direction(self) -> str:
        return status_direction(self.base, self.new)

    @property
    def regression(self) -> bool:
        return self.direction == WORSE


@dataclass(frozen=True)
class CheckChange:
    """A check whose verdict changed, or that one file has and the other lacks (None)."""

    label: str  # the run, or the runs a check across runs combines
    quantity: str
    kind: str
    base: str | None
    new: str | None

    @property
    def direction(self) -> str:
        if self.base is None:
            return WORSE if self.new == "fail" else NEUTRAL
        return verdict_direction(self.base, self.new) if self.new is not None else NEUTRAL

    @property
    def regression(self) -> bool:
        return self.direction == WORSE


@dataclass(frozen=True)
class ObjectiveChange:
    label: str
    base: float | None
    new: float | None

    @property
    def rel(self) -> float | None:
        if self.base is None or self.new is None or not self.base:
            return None
        return abs(self.new - self.base) / abs(self.base)


def _ratio(base: float | None, new: float | None) -> float | None:
    if base is None or new is None:
        return None
    if base > 0:
        return new / base
    return math.inf if new > 0 else 1.0


@dataclass(frozen=True)
class TimingChange:
    """Build and solve seconds of a run timed in both files (bench rows: medians)."""

    label: str
    base_build: float
    base_solve: float
    new_build: float
    new_solve: float
    base_repeats: int | None = None  # bench rows: how many repeats each median is of
    new_repeats: int | None = None

    @property
    def base_total(self) -> float:
        return self.base_build + self.base_solve

    @property
    def new_total(self) -> float:
        return self.new_build + self.new_solve

    @property
    def delta(self) -> float:
        return self.new_total - self.base_total

    @property
    def build_ratio(self) -> float | None:
        return _ratio(self.base_build, self.new_build)

    @property
    def solve_ratio(self) -> float | None:
        return _ratio(self.base_solve, self.new_solve)

    @property
    def total_ratio(self) -> float:
        ratio = _ratio(self.base_total, self.new_total)
        assert ratio is not None
        return ratio

    def slowdown(self, factor: float, floor: float = NOISE_FLOOR_S) -> bool:
        """Slower beyond the noise: total ratio above ``factor`` and more than ``floor``
        seconds added."""
        return self.total_ratio > factor and self.delta > floor

    def speedup(self, factor: float, floor: float = NOISE_FLOOR_S) -> bool:
        return self.total_ratio < 1 / factor and -self.delta > floor


@dataclass
class Comparison:
    kind: str  # RESULTS or BENCH
    base_path: Path
    new_path: Path
    matched: int  # runs in both files
    base_runs: int
    new_runs: int
    only: list[OnlyIn] = field(default_factory=list)
    statuses: list[StatusChange] = field(default_factory=list)
    checks: list[CheckChange] = field(default_factory=list)
    objectives: list[ObjectiveChange] = field(default_factory=list)
    timings: list[TimingChange] = field(default_factory=list)  # every run timed in both
    notes: list[str] = field(default_factory=list)  # e.g. different machines

    @property
    def regressions(self) -> list[str]:
        """Every correctness regression, one line each (empty: none)."""
        out = [f"{o.label}: optimal in BASE, missing from NEW" for o in self.only
               if o.regression]
        out += [f"{s.label}: status {s.base} -> {s.new}" for s in self.statuses if s.regression]
        out += [f"{c.label}: check {c.quantity} ({c.kind}) {c.base or 'absent'} -> {c.new}"
                for c in self.checks if c.regression]
        return out

    def slowdowns(self, factor: float, floor: float = NOISE_FLOOR_S) -> list[TimingChange]:
        return [t for t in self.timings if t.slowdown(factor, floor)]

    def exit_code(self, fail_on_slowdown: float | None = None,
                  floor: float = NOISE_FLOOR_S) -> int:
        if self.regressions:
            return 1
        if fail_on_slowdown is not None and self.slowdowns(fail_on_slowdown, floor):
            return 1
        return 0


# --------------------------------------------------------------------------- reading


def _load(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's kind and document; InputError when it is neither kind."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise InputError(f"{path}: not JSON ({type(exc).__name__}: {str(exc)[:200]})") from None
    if isinstance(doc, dict) and isinstance(doc.get("meta"), dict):
        if isinstance(doc.get("runs"), list):
            kind = RESULTS
        elif isinstance(doc.get("rows"), list):
            kind = BENCH
        else:
            kind = ""
        if kind:
            _validate(path, kind, doc)
            return kind, doc
    raise InputError(f"{path}: neither {KIND_NAMES[RESULTS]} nor {KIND_NAMES[BENCH]} "
                     "(no meta with runs or rows)")


def _number(value: Any) -> float | None:
    """A number as gridbench writes it (None, a number, or "inf"/"nan" as a string)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def _validate(path: Path, kind: str, doc: dict[str, Any]) -> None:
    entries = doc["runs" if kind == RESULTS else "rows"]
    what = "run" if kind == RESULTS else "row"
    for i, entry in enumerate(entries):
        where = f"{path}: {what} {i + 1}"
        if not isinstance(entry, dict):
            raise InputError(f"{where} is not an object")
        for name in (*KEY_FIELDS[kind], "status"):
            if not isinstance(entry.get(name), str):
                raise InputError(f"{where} has no text {name!r}")
        try:
            for name in ("objective", *TIME_FIELDS[kind]):
                _number(entry.get(name))
        except (TypeError, ValueError):
            raise InputError(f"{where}: {name!r} is not a number") from None
        if kind == RESULTS:
            checks = entry.get("checks", [])
            if not isinstance(checks, list) or not all(
                    isinstance(c, dict) and isinstance(c.get("quantity"), str)
                    and isinstance(c.get("verdict"), str) for c in checks):
                raise InputError(f"{where}: 'checks' is not a list of checks with a "
                                 "quantity and a verdict")
    derived = doc.get("derived_checks", [])
    if kind == RESULTS and not (isinstance(derived, list) and all(
            isinstance(d, dict) and isinstance(d.get("verdict"), str) for d in derived)):
        raise InputError(f"{path}: 'derived_checks' is not a list of checks with a verdict")


def _keyed(items: list[Any], key) -> dict[Key, Any]:
    """Items by key, in file order; a repeated key gets its occurrence number."""
    seen: Counter = Counter()
    out = {}
    for item in items:
        base = key(item)
        seen[base] += 1
        out[(*base, seen[base])] = item
    return out


def _label(kind: str, key: Key) -> str:
    *fields, occurrence = key
    if kind == RESULTS:
        formulation, variant, case, backend, solver = fields
        text = f"{formulation}/{variant}/{case} {backend}/{solver}"
    else:
        benchmark, case, variant, backend, solver = fields
        text = f"{benchmark}: {case} {variant} {backend}/{solver}"
    return text if occurrence == 1 else f"{text} #{occurrence}"


def _check_name(key: Key) -> str:
    quantity, occurrence = key[0], key[-1]
    return quantity if occurrence == 1 else f"{quantity} #{occurrence}"


def _derived_key(d: dict[str, Any]) -> tuple[Any, ...]:
    cases = tuple(sorted({str(t.get("case", "")) for t in d.get("terms") or []
                          if isinstance(t, dict)}))
    return (str(d.get("formulation", "")), str(d.get("variant", "")), str(d.get("backend", "")),
            str(d.get("solver", "")), str(d.get("name", d.get("quantity", ""))),
            str(d.get("kind", "derived")), cases)


def _check_changes(label: str, base: list[dict[str, Any]], new: list[dict[str, Any]],
                   one_sided: bool) -> list[CheckChange]:
    def key(c: dict[str, Any]) -> tuple[str, str]:
        return (c["quantity"], str(c.get("kind", "reference")))

    old, now = _keyed(base, key), _keyed(new, key)
    out = []
    for k in [*old, *(k for k in now if k not in old)]:
        before, after = old.get(k), now.get(k)
        if before is not None and after is not None:
            if before["verdict"] != after["verdict"]:
                out.append(CheckChange(label, _check_name(k), k[1], before["verdict"],
                                       after["verdict"]))
        elif one_sided:
            out.append(CheckChange(label, _check_name(k), k[1],
                                   before["verdict"] if before else None,
                                   after["verdict"] if after else None))
    return out


def _objective_changed(base: float | None, new: float | None) -> bool:
    if base is None or new is None:
        return base is not new
    if math.isnan(base) or math.isnan(new):
        return not (math.isnan(base) and math.isnan(new))
    if math.isinf(base) or math.isinf(new):
        return base != new
    return abs(new - base) > OBJECTIVE_REL * max(1.0, abs(base))


def _environment_notes(base: dict[str, Any], new: dict[str, Any]) -> list[str]:
    notes = []
    for name, what in (("platform", "platforms"), ("cpu_count", "core counts"),
                       ("jobs", "job counts (-j)"), ("solver_threads", "solver threads")):
        if name in base and name in new and base[name] != new[name]:
            notes.append(f"different {what}: {base[name]} vs {new[name]}: compare timings "
                         "with care")
    return notes


def compare_files(base: Path, new: Path) -> Comparison:
    """Compare two results files, or two bench timing files (module docstring)."""
    base, new = Path(base), Path(new)
    kind, old_doc = _load(base)
    new_kind, new_doc = _load(new)
    if kind != new_kind:
        raise InputError(f"BASE {base} is {KIND_NAMES[kind]} but NEW {new} is "
                         f"{KIND_NAMES[new_kind]}: compare two files of the same kind")
    entries = "runs" if kind == RESULTS else "rows"
    fields = KEY_FIELDS[kind]
    old = _keyed(old_doc[entries], lambda r: tuple(r[f] for f in fields))
    now = _keyed(new_doc[entries], lambda r: tuple(r[f] for f in fields))
    result = Comparison(kind, base, new, sum(k in now for k in old), len(old), len(now),
                        notes=_environment_notes(old_doc["meta"], new_doc["meta"]))
    result.only = ([OnlyIn(_label(kind, k), "BASE", r["status"])
                    for k, r in old.items() if k not in now]
                   + [OnlyIn(_label(kind, k), "NEW", r["status"])
                      for k, r in now.items() if k not in old])
    build, solve = TIME_FIELDS[kind]
    for k, before in old.items():
        after = now.get(k)
        if after is None:
            continue
        label = _label(kind, k)
        if before["status"] != after["status"]:
            result.statuses.append(StatusChange(label, before["status"], after["status"]))
        if kind == RESULTS:
            result.checks += _check_changes(label, before.get("checks", []),
                                            after.get("checks", []),
                                            one_sided=before["status"] == after["status"])
        b_obj, n_obj = _number(before.get("objective")), _number(after.get("objective"))
        if _objective_changed(b_obj, n_obj):
            result.objectives.append(ObjectiveChange(label, b_obj, n_obj))
        times = [_number(r.get(f)) for r in (before, after) for f in (build, solve)]
        if (before["status"] == after["status"] and before["status"] not in UNTIMED
                and all(t is not None for t in times)):
            result.timings.append(TimingChange(
                label, *times, base_repeats=before.get("repeats"),
                new_repeats=after.get("repeats")))
    if kind == RESULTS:
        result.checks += _derived_changes(old_doc.get("derived_checks", []),
                                          new_doc.get("derived_checks", []))
    return result


def _derived_changes(base: list[dict[str, Any]], new: list[dict[str, Any]]
                     ) -> list[CheckChange]:
    old, now = _keyed(base, _derived_key), _keyed(new, _derived_key)
    out = []
    for k in [*old, *(k for k in now if k not in old)]:
        formulation, variant, backend, solver, name, kind, cases, occurrence = k
        label = (f"{formulation}/{variant} {backend}/{solver} (across runs: "
                 f"{', '.join(cases) or '-'})")
        before, after = old.get(k), now.get(k)
        verdicts = (before["verdict"] if before else None, after["verdict"] if after else None)
        if verdicts[0] != verdicts[1]:
            out.append(CheckChange(label, _check_name((name, occurrence)), kind, *verdicts))
    return out


# --------------------------------------------------------------------------- rendering


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "es" if what.endswith("s") else "s")


def _secs(value: float) -> str:
    return f"{value:.4g}"


def _times(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return "inf" if math.isinf(ratio) else f"{ratio:.2f}"


def render(comparison: Comparison, fail_on_slowdown: float | None = None,
           floor: float = NOISE_FLOOR_S, all_timings: bool = False) -> str:
    """The tables of what changed and a closing verdict line (``OK`` or ``REGRESSION``)."""
    c = comparison
    what = "runs" if c.kind == RESULTS else "bench rows"
    parts = [f"BASE {c.base_path}: {c.base_runs} {what}; NEW {c.new_path}: {c.new_runs} "
             f"{what}; {c.matched} in both"]
    parts += [f"note: {n}" for n in c.notes]

    def section(title: str, rows: list[list[Any]], headers: list[str]) -> None:
        if rows:
            parts.append(f"\n{title}\n" + tabulate(rows, headers, disable_numparse=True))

    section("Runs in one file only",
            [[o.label, o.side, o.status, "REGRESSION" if o.regression else ""]
             for o in c.only], ["run", "only in", "status", ""])
    section("Status changes",
            [[s.label, s.base, s.new, s.direction + (" (REGRESSION)" if s.regression else "")]
             for s in c.statuses], ["run", "BASE", "NEW", "change"])
    section("Check changes",
            [[ch.label, ch.quantity, ch.kind, ch.base or "(absent)", ch.new or "(absent)",
              ch.direction + (" (REGRESSION)" if ch.regression else "")] for ch in c.checks],
            ["run", "check", "kind", "BASE", "NEW", "change"])
    section(f"Objective changes (beyond {OBJECTIVE_REL:g} x max(1, |BASE|))",
            [[o.label, _num(o.base), _num(o.new), "" if o.rel is None else f"{o.rel:.2e}"]
             for o in c.objectives], ["run", "BASE", "NEW", "rel change"])

    shown = min(fail_on_slowdown or SHOWN_FACTOR, SHOWN_FACTOR)
    timed = [t for t in c.timings
             if all_timings or t.slowdown(shown, floor) or t.speedup(shown, floor)]
    rows = []
    for t in timed:
        note = ""
        if fail_on_slowdown is not None and t.slowdown(fail_on_slowdown, floor):
            note = "SLOWDOWN"
        elif t.slowdown(shown, floor):
            note = "slower"
        elif t.speedup(shown, floor):
            note = "faster"
        rows.append([t.label, _secs(t.base_total), _secs(t.new_total), f"{t.delta:+.3g}",
                     _times(t.build_ratio), _times(t.solve_ratio), _times(t.total_ratio), note])
    scope = ("every run timed in both" if all_timings else
             f"total ratio >= {shown:g} either way and more than {floor:g} s apart")
    section(f"Timing changes, NEW/BASE ({scope})", rows,
            ["run", "BASE s", "NEW s", "diff s", "build x", "solve x", "total x", ""])
    if c.timings:
        base_sum = sum(t.base_total for t in c.timings)
        new_sum = sum(t.new_total for t in c.timings)
        parts.append(f"\ntime (build + solve) of the {len(c.timings)} {what} timed in both: "
                     f"BASE {_secs(base_sum)} s, NEW {_secs(new_sum)} s "
                     f"(x{_times(_ratio(base_sum, new_sum))})")

    regressions = c.regressions
    slow = c.slowdowns(fail_on_slowdown, floor) if fail_on_slowdown is not None else []
    better = (sum(s.direction == BETTER for s in c.statuses)
              + sum(ch.direction == BETTER for ch in c.checks))
    tally = ", ".join(_count(n, what) for n, what in (
        (len(c.statuses), "status change"), (len(c.checks), "check change"),
        (len(c.objectives), "objective change"), (better, "improvement")))
    if regressions:
        parts.append(f"\nREGRESSION: {_count(len(regressions), 'correctness regression')} "
                     f"({tally})")
        parts += [f"  {line}" for line in regressions]
    else:
        parts.append(f"\nOK: no correctness regression ({tally})")
    if fail_on_slowdown is not None:
        rule = f"more than {fail_on_slowdown:g} x BASE and more than {floor:g} s slower"
        if slow:
            parts.append(f"SLOWDOWN: {_count(len(slow), what[:-1])} {rule}")
            parts += [f"  {t.label}: {_secs(t.base_total)} s -> {_secs(t.new_total)} s "
                      f"(x{_times(t.total_ratio)})" for t in slow]
        else:
            parts.append(f"no slowdown beyond the noise ({rule})")
    return "\n".join(parts)
