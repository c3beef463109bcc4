"""``gridbench bench-report``: comparable reports from ``gridbench bench --json`` timing files.

Input: one or more files written by ``gridbench bench NAME... --json FILE`` (``{"meta": ...,
"rows": [BenchRow, ...]}``). A *key* is (benchmark, case, variant, backend, solver); rows of
one key from several files (or repeated in one file) are separate runs of it, and every
table and figure uses the median over those runs (the number of runs is reported per key).
A key counts as solved correctly (``optimal``) only when every run of it ended ``optimal``.

Definitions (all times in seconds):

* total time of a run: ``build_s + solve_s``. ``handoff_s`` (when a row has it) is not added:
  ``solve_s`` is the whole solve call and the handoff is the modelling layer's part of it
  (the call minus the solver's own time, bench/records.py RunResult); the stacked bars split
  the solve into handoff and the rest. ``extract_s`` is shown in the run table, not added.
  A key's total is the median of its runs' totals; the bars show the medians of the parts.
* comparison group: a benchmark, with pairs = (backend, solver) and instances = (case,
  variant). When the benchmark's pairs did not all run the same variants (e.g. a QP variant
  on some backends, its LP approximation on others) the group is one variant of it instead,
  so that every instance can be compared across the group's pairs. A pair with no row for
  an instance of its group (a series stopped after a failure) did not solve it.
* shifted geometric mean with shift ``s`` (default 10 s) of times ``t_1..t_n``::

      SGM_s(t) = exp( (1/n) * sum_i log(t_i + s) ) - s

  computed per pair over (a) the instances every pair of the group solved correctly, with
  the measured times; (b) all instances, a run that is not ``optimal`` (failed, time limit,
  wrong status, no row) counted at the time limit T; (c) all instances, penalised at 10 T.
  Each column is also normalised to its best pair (= 1.00).
* time limit T of an instance: the row's ``time_limit_s`` when present, else the file's
  meta (``time_limit_s``, or ``benchmarks[NAME].time_limit_s``), else the fallback the
  command passes (``--time-limit``, else the benchmark's registered limit, else 60 s).
* Dolan-More performance profile: with ``t_ps`` the time of pair s on instance p and
  ``r_ps = t_ps / min_s' t_ps'`` its ratio to the best pair on p, pair s's profile is
  ``rho_s(tau) = |{p : r_ps <= tau}| / |P|``. "correct and fast": a run that is not
  ``optimal`` has ``t = inf`` (never solved); "fast only": any run with a time counts,
  whatever its status. Times are floored at 1e-6 s so that a ratio is always defined.
* scaling exponent: the least-squares slope b of ``log t = a + b log n`` (n = the number of
  variables) over a pair's ``optimal`` keys with n > 0 and t > 0, at least two distinct n;
  the same for ``peak_memory_mb`` when the rows carry it (the run's peak resident memory
  above its forked worker's at the start, ``bench.worker.MemoryMeter``).
* build+handoff / raw: the row's ``raw_ratio`` (``bench.benchmark.raw_ratios``), median per
  key: the layer's build + handoff over the ``raw`` backend's on the same case, variant and
  solver, in the same run of ``gridbench bench``.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import InputError

DEFAULT_SHIFT_S = 10.0
DEFAULT_TIME_LIMIT_S = 60.0  # bench.records.Benchmark.time_limit_s's default
PENALTY_FACTOR = 10.0
OPTIMAL = "optimal"
SKIPPED_STATUSES = ("unavailable", "not_applicable")  # never timed: left out, listed
TIME_FLOOR_S = 1e-6
KEY_FIELDS = ("benchmark", "case", "variant", "backend", "solver")
TIME_FIELDS = ("build_s", "handoff_s", "solve_s", "extract_s")
PNG_DPI = 110

Pair = tuple[str, str]  # (backend, solver)
Instance = tuple[str, str]  # (case, variant)


# ---------------------------------------------------------------------------- formulas


def shifted_geometric_mean(times: Iterable[float], shift: float = DEFAULT_SHIFT_S
                           ) -> float | None:
    """``exp(mean(log(t + shift))) - shift``; None for no times."""
    values = list(times)
    if not values:
        return None
    return math.exp(sum(math.log(t + shift) for t in values) / len(values)) - shift


def performance_ratios(times: Mapping[Instance, Mapping[Pair, float | None]],
                       pairs: Sequence[Pair]) -> dict[Pair, list[float]]:
    """Per pair, its ratio to the best pair on every instance (``inf``: not solved; an
    instance no pair solved gives ``inf`` to all). ``times[p][s]`` is None or missing for
    a run that does not count."""
    ratios: dict[Pair, list[float]] = {pair: [] for pair in pairs}
    for instance in times:
        row = {pair: times[instance].get(pair) for pair in pairs}
        finite = [max(t, TIME_FLOOR_S) for t in row.values() if t is not None and math.isfinite(t)]
        best = min(finite) if finite else None
        for pair, t in row.items():
            if best is None or t is None or not math.isfinite(t):
                ratios[pair].append(math.inf)
            else:
                ratios[pair].append(max(t, TIME_FLOOR_S) / best)
    return ratios


def profile_fraction(ratios: Sequence[float], tau: float) -> float:
    """rho(tau): the fraction of instances with ratio <= tau."""
    if not ratios:
        return 0.0
    return sum(r <= tau * (1 + 1e-12) for r in ratios) / len(ratios)


def scaling_exponent(sizes: Sequence[float], values: Sequence[float]) -> float | None:
    """Least-squares slope of log(value) against log(size); None with fewer than two
    distinct positive sizes."""
    points = [(math.log(n), math.log(v)) for n, v in zip(sizes, values, strict=True)
              if n and v and n > 0 and v > 0]
    if len({x for x, _ in points}) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx


# ---------------------------------------------------------------------------- input


@dataclass
class BenchFile:
    path: str
    meta: dict[str, Any]
    rows: list[dict[str, Any]]


def read_bench_file(path: Path) -> BenchFile:
    """Read and check one ``gridbench bench --json`` file; InputError (one line) if not."""
    label = str(path)
    if not path.exists():
        raise InputError(f"{label}: no such file")
    if path.is_dir():
        raise InputError(f"{label}: is a folder, not a bench timing file")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{label}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{label}: not a gridbench bench timing file (not JSON: {exc})"
                         ) from None
    what = f"{label}: not a gridbench bench timing file"
    if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
        hint = (" (a results file of `gridbench run`?)"
                if isinstance(doc, dict) and "runs" in doc else "")
        raise InputError(f"{what} (no \"rows\" list){hint}")
    meta = doc.get("meta") or {}
    if not isinstance(meta, dict):
        raise InputError(f"{what} (\"meta\" is not an object)")
    rows = []
    for i, row in enumerate(doc["rows"]):
        if not isinstance(row, dict):
            raise InputError(f"{what} (row {i} is not an object)")
        missing = [k for k in (*KEY_FIELDS, "status") if not isinstance(row.get(k), str)]
        if missing:
            raise InputError(f"{what} (row {i} has no {', '.join(missing)})")
        for name in (*TIME_FIELDS, "variables", "peak_memory_mb", "time_limit_s", "raw_ratio"):
            value = row.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not math.isfinite(value) or value < 0):
                raise InputError(f"{what} (row {i}: {name} = {value!r} is not a time, size "
                                 "or amount >= 0)")
        rows.append(row)
    return BenchFile(label, meta, rows)


def read_bench_files(paths: Sequence[Path]) -> list[BenchFile]:
    if not paths:
        raise InputError("no timing files given (files written by `gridbench bench NAME "
                         "--json FILE`)")
    files = [read_bench_file(Path(p)) for p in paths]
    if not any(f.rows for f in files):
        raise InputError(f"no timing rows in {', '.join(f.path for f in files)}")
    return files


def _meta_time_limit(meta: Mapping[str, Any], benchmark: str) -> float | None:
    per = meta.get("benchmarks")
    if isinstance(per, Mapping) and isinstance(per.get(benchmark), Mapping):
        value = per[benchmark].get("time_limit_s")
        if _positive(value):
            return float(value)
    value = meta.get("time_limit_s")
    return float(value) if _positive(value) else None


def _positive(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


# ---------------------------------------------------------------------------- aggregation


@dataclass
class Entry:
    """The median over the runs of one key."""

    benchmark: str
    case: str
    variant: str
    backend: str
    solver: str
    status: str  # optimal only if every run was; else the first other status
    statuses: Counter
    runs: int
    build_s: float | None
    handoff_s: float | None
    solve_s: float | None
    extract_s: float | None
    total_s: float | None
    variables: int | None
    peak_memory_mb: float | None
    time_limit_s: float
    time_limit_source: str
    # (build + handoff) / the raw backend's, same case, variant and solver (median)
    raw_ratio: float | None = None

    @property
    def pair(self) -> Pair:
        return (self.backend, self.solver)

    @property
    def instance(self) -> Instance:
        return (self.case, self.variant)

    @property
    def optimal(self) -> bool:
        return self.status == OPTIMAL


def run_total(row: Mapping[str, Any]) -> float | None:
    """build + solve (the solve call includes the handoff)."""
    if row.get("build_s") is None or row.get("solve_s") is None:
        return None
    return row["build_s"] + row["solve_s"]


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def aggregate(files: Sequence[BenchFile], fallback_time_limit: Mapping[str, float] | None = None,
              default_time_limit: float = DEFAULT_TIME_LIMIT_S,
              fallback_source: str = "the registered benchmark's limit"
              ) -> tuple[list[Entry], list[dict[str, Any]]]:
    """Median entries per key (in first-seen order), and the skipped rows (unavailable,
    not applicable). ``fallback_time_limit`` (per benchmark, described by
    ``fallback_source``) and then ``default_time_limit`` apply to rows whose file records
    no time limit."""
    fallback_time_limit = fallback_time_limit or {}
    grouped: dict[tuple[str, ...], list[tuple[dict[str, Any], float, str]]] = {}
    skipped = []
    for bench_file in files:
        for row in bench_file.rows:
            if row["status"] in SKIPPED_STATUSES:
                skipped.append({**row, "file": bench_file.path})
                continue
            name = row["benchmark"]
            if _positive(row.get("time_limit_s")):
                limit, source = float(row["time_limit_s"]), "from the rows"
            elif (meta_limit := _meta_time_limit(bench_file.meta, name)) is not None:
                limit, source = meta_limit, "from the file's meta"
            elif name in fallback_time_limit:
                limit = float(fallback_time_limit[name])
                source = f"not in the files: {fallback_source}"
            else:
                limit = default_time_limit
                source = f"not in the files: default {default_time_limit:g} s"
            key = tuple(row[k] for k in KEY_FIELDS)
            grouped.setdefault(key, []).append((row, limit, source))
    entries = []
    for key, runs in grouped.items():
        rows = [r for r, _, _ in runs]
        statuses = Counter(r["status"] for r in rows)
        others = [r["status"] for r in rows if r["status"] != OPTIMAL]
        limit, source = max((limit, source) for _, limit, source in runs)
        variables = next((r["variables"] for r in rows if r.get("variables") is not None), None)
        entries.append(Entry(
            *key, status=others[0] if others else OPTIMAL, statuses=statuses, runs=len(rows),
            build_s=_median(r.get("build_s") for r in rows),
            handoff_s=_median(r.get("handoff_s") for r in rows),
            solve_s=_median(r.get("solve_s") for r in rows),
            extract_s=_median(r.get("extract_s") for r in rows),
            total_s=_median(run_total(r) for r in rows),
            variables=int(variables) if variables is not None else None,
            peak_memory_mb=_median(r.get("peak_memory_mb") for r in rows),
            time_limit_s=limit, time_limit_source=source,
            raw_ratio=_median(r.get("raw_ratio") for r in rows)))
    return entries, skipped


@dataclass
class Group:
    """Pairs compared on the same instances: a benchmark, or one variant of it."""

    benchmark: str
    variant: str | None  # None: every variant of the benchmark
    pairs: list[Pair]
    instances: list[Instance]
    entries: dict[tuple[Instance, Pair], Entry]

    @property
    def label(self) -> str:
        return self.benchmark if self.variant is None else f"{self.benchmark} / {self.variant}"

    def time_limit(self, instance: Instance) -> float:
        limits = [e.time_limit_s for (i, _), e in self.entries.items() if i == instance]
        return max(limits) if limits else DEFAULT_TIME_LIMIT_S

    def correct_time(self, instance: Instance, pair: Pair) -> float | None:
        entry = self.entries.get((instance, pair))
        return entry.total_s if entry is not None and entry.optimal else None

    def any_time(self, instance: Instance, pair: Pair) -> float | None:
        entry = self.entries.get((instance, pair))
        return entry.total_s if entry is not None else None


def benchmark_order(entries: Sequence[Entry], case_order: Mapping[str, Sequence[str]] | None = None
                    ) -> dict[str, list[str]]:
    """Each benchmark's cases in series order: the registered order where known, then the
    order the files list them in."""
    order: dict[str, list[str]] = {}
    for entry in entries:
        order.setdefault(entry.benchmark, [])
    for name, cases in order.items():
        seen = [e.case for e in entries if e.benchmark == name]
        known = [c for c in (case_order or {}).get(name, ()) if c in seen]
        cases.extend(known + [c for c in dict.fromkeys(seen) if c not in known])
    return order


def comparison_groups(entries: Sequence[Entry],
                      case_order: Mapping[str, Sequence[str]] | None = None) -> list[Group]:
    cases = benchmark_order(entries, case_order)
    groups = []
    for name, ordered in cases.items():
        mine = [e for e in entries if e.benchmark == name]
        variants = list(dict.fromkeys(e.variant for e in mine))
        ran = {pair: {e.variant for e in mine if e.pair == pair}
               for pair in dict.fromkeys(e.pair for e in mine)}
        split = len({frozenset(v) for v in ran.values()}) > 1
        for variant in (variants if split else [None]):
            chosen = [e for e in mine if variant is None or e.variant == variant]
            rank = {c: i for i, c in enumerate(ordered)}
            instances = sorted(dict.fromkeys(e.instance for e in chosen),
                               key=lambda i: (rank[i[0]], variants.index(i[1])))
            groups.append(Group(name, variant, sorted(dict.fromkeys(e.pair for e in chosen)),
                                instances, {(e.instance, e.pair): e for e in chosen}))
    return groups


@dataclass
class SgmRow:
    pair: Pair
    solved: int  # instances solved correctly
    values: tuple[float | None, float | None, float | None]  # (a), (b), (c) in seconds
    ratios: tuple[float | None, float | None, float | None] = (None, None, None)


@dataclass
class SgmTable:
    group: Group
    shift: float
    counts: tuple[int, int, int]  # instances in (a), (b), (c)
    rows: list[SgmRow] = field(default_factory=list)


def sgm_table(group: Group, shift: float = DEFAULT_SHIFT_S,
              factor: float = PENALTY_FACTOR) -> SgmTable:
    """The three shifted geometric means of every pair of a group, and their ratios to the
    best pair of each column."""
    common = [i for i in group.instances
              if all(group.correct_time(i, p) is not None for p in group.pairs)]
    table = SgmTable(group, shift, (len(common), len(group.instances), len(group.instances)))
    for pair in group.pairs:
        solved = [group.correct_time(i, pair) for i in group.instances]
        penalised = [(t, group.time_limit(i)) for i, t in zip(group.instances, solved, strict=True)]
        table.rows.append(SgmRow(pair, sum(t is not None for t in solved), (
            shifted_geometric_mean([group.correct_time(i, pair) for i in common], shift),
            shifted_geometric_mean([limit if t is None else t for t, limit in penalised], shift),
            shifted_geometric_mean([factor * limit if t is None else t
                                    for t, limit in penalised], shift))))
    for column in range(3):
        present = [r.values[column] for r in table.rows if r.values[column] is not None]
        best = min(present) if present else None
        for row in table.rows:
            value = row.values[column]
            ratio = None if value is None or best is None else (
                value / best if best > 0 else (1.0 if value == best else math.inf))
            row.ratios = (*row.ratios[:column], ratio, *row.ratios[column + 1:])
    return table


def group_profiles(group: Group, correct: bool) -> dict[Pair, list[float]]:
    timing = group.correct_time if correct else group.any_time
    times = {i: {p: timing(i, p) for p in group.pairs} for i in group.instances}
    return performance_ratios(times, group.pairs)


@dataclass
class ScalingFit:
    benchmark: str
    variant: str
    pair: Pair
    points: int
    smallest: int | None
    largest: int | None
    time_exponent: float | None
    memory_exponent: float | None


def scaling_fits(entries: Sequence[Entry]) -> list[ScalingFit]:
    fits = []
    keys = dict.fromkeys((e.benchmark, e.variant, e.pair) for e in entries)
    for benchmark, variant, pair in keys:
        good = [e for e in entries if (e.benchmark, e.variant, e.pair) == (benchmark, variant, pair)
                and e.optimal and e.variables]
        timed = [e for e in good if e.total_s]
        memory = [e for e in good if e.peak_memory_mb]
        sizes = [e.variables for e in timed]
        fits.append(ScalingFit(
            benchmark, variant, pair, len(timed), min(sizes) if sizes else None,
            max(sizes) if sizes else None,
            scaling_exponent(sizes, [e.total_s for e in timed]),
            scaling_exponent([e.variables for e in memory], [e.peak_memory_mb for e in memory])))
    return fits


# ---------------------------------------------------------------------------- report


@dataclass
class Report:
    files: list[BenchFile]
    entries: list[Entry]
    skipped: list[dict[str, Any]]
    groups: list[Group]
    tables: list[SgmTable]
    fits: list[ScalingFit]
    case_order: dict[str, list[str]]
    shift: float


def build_report(files: Sequence[BenchFile], shift: float = DEFAULT_SHIFT_S,
                 fallback_time_limit: Mapping[str, float] | None = None,
                 case_order: Mapping[str, Sequence[str]] | None = None,
                 default_time_limit: float = DEFAULT_TIME_LIMIT_S,
                 fallback_source: str = "the registered benchmark's limit") -> Report:
    entries, skipped = aggregate(files, fallback_time_limit, default_time_limit,
                                 fallback_source)
    if not entries:
        raise InputError("no timed rows to report (every row was unavailable or not "
                         "applicable)")
    groups = comparison_groups(entries, case_order)
    return Report(list(files), entries, skipped, groups, [sgm_table(g, shift) for g in groups],
                  scaling_fits(entries), benchmark_order(entries, case_order), shift)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _exponent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pair(pair: Pair) -> str:
    return f"{pair[0]}/{pair[1]}"


def _md_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _limits_text(group: Group) -> str:
    limits = Counter((e.time_limit_s, e.time_limit_source) for e in group.entries.values())
    return "; ".join(f"{limit:g} s ({source})" for limit, source in sorted(limits))


def sgm_markdown(table: SgmTable) -> str:
    group = table.group
    n_a, n_b, n_c = table.counts
    header = ["backend/solver", "solved",
              f"(a) solved by all pairs, n = {n_a}",
              f"(b) failures at T, n = {n_b}",
              f"(c) failures at {PENALTY_FACTOR:g} T, n = {n_c}"]

    def cell(ratio: float | None, value: float | None) -> str:
        if value is None:
            return "-"
        return f"{ratio:.2f} ({_seconds(value)} s)"

    rows = [[_pair(r.pair), f"{r.solved}/{len(group.instances)}",
             *(cell(r.ratios[k], r.values[k]) for k in range(3))] for r in table.rows]
    return (f"Shifted geometric mean of total time (shift {table.shift:g} s), "
            f"{group.label}: ratio to the best pair (absolute seconds); "
            f"T = {_limits_text(group)}\n\n" + _md_table(header, rows))


def fits_markdown(fits: Sequence[ScalingFit], memory: bool) -> str:
    header = ["benchmark", "variant", "backend/solver", "optimal sizes", "variables",
              "time exponent"] + (["memory exponent"] if memory else [])
    rows = []
    for fit in fits:
        span = f"{fit.smallest:,} - {fit.largest:,}" if fit.smallest is not None else "-"
        rows.append([fit.benchmark, fit.variant, _pair(fit.pair), fit.points, span,
                     _exponent(fit.time_exponent)]
                    + ([_exponent(fit.memory_exponent)] if memory else []))
    return _md_table(header, rows)


def summary_text(report: Report) -> str:
    """What the command prints: the SGM tables and the exponents."""
    parts = [sgm_markdown(t) for t in report.tables]
    memory = any(e.peak_memory_mb is not None for e in report.entries)
    parts.append("Scaling exponents (least-squares slope of log time vs log variables, "
                 "optimal keys)\n\n" + fits_markdown(report.fits, memory))
    return "\n\n".join(parts)


def _file_meta(bench_file: BenchFile, pairs: set[str]) -> str:
    meta = bench_file.meta
    parts = []
    for label, key in (("gridbench", "gridbench_version"), ("Python", "python"),
                       ("machine", "machine"), ("cores", "cpu_count"), ("platform", "platform")):
        if meta.get(key) is not None:
            parts.append(f"{label} {meta[key]}")
    solvers = meta.get("solvers")
    if isinstance(solvers, Mapping):
        versions = [f"{name} {info.get('version')}" for name, info in sorted(solvers.items())
                    if name in pairs and isinstance(info, Mapping) and info.get("version")]
        if versions:
            parts.append("solvers: " + ", ".join(versions))
    packages = meta.get("packages")
    if isinstance(packages, Mapping):
        listed = [f"{k} {v}" for k, v in packages.items() if v]
        if listed:
            parts.append("packages: " + ", ".join(listed))
    return "; ".join(parts) if parts else "no meta"


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def figure_names(benchmark: str) -> dict[str, str]:
    stem = slug(benchmark)
    return {"profile": f"{stem}_profiles.png", "bars": f"{stem}_time_per_case.png",
            "scaling": f"{stem}_scaling.png"}


def markdown(report: Report) -> str:
    lines = ["# Benchmark report", "",
             "Written by `gridbench bench-report` (bench/bench_report.py, which defines every "
             "number below) from the timing files of `gridbench bench --json`.", "",
             "## Files read", ""]
    used = {_pair(e.pair) for e in report.entries}
    lines.append(_md_table(["file", "rows", "benchmarks", "meta"], [
        [f"`{f.path}`", len(f.rows),
         ", ".join(dict.fromkeys(r["benchmark"] for r in f.rows)) or "-", _file_meta(f, used)]
        for f in report.files]))
    runs = Counter(e.runs for e in report.entries)
    lines += ["", "Rows of the same key (benchmark, case, variant, backend, solver) are separate "
              "runs; tables and figures use the median per key. Runs per key: "
              + ", ".join(f"{n} key{'s' if n > 1 else ''} with {r} run{'s' if r > 1 else ''}"
                          for r, n in sorted(runs.items())) + ".", "",
              "## Definitions", "",
              "* total time = build + solve, seconds (the solve call includes the handoff, the "
              "modelling layer's part of it, when recorded);",
              f"* SGM = exp(mean(log(t + s))) - s with shift s = {report.shift:g} s; "
              "(a) over the instances (case, variant) every pair of the group solved "
              "`optimal`, (b) over all instances with a run that is not `optimal` (or has no "
              f"row) counted at the time limit T, (c) the same at {PENALTY_FACTOR:g} T; each "
              "column as a ratio to its best pair (= 1.00), seconds in brackets;",
              "* performance profile: the fraction of instances a pair solves within tau times "
              "the best pair's time; \"correct and fast\" counts only `optimal` runs, \"fast "
              "only\" every run with a time;",
              "* scaling exponent: least-squares slope of log(time) against log(variables) over "
              "a pair's `optimal` keys.", ""]
    if report.skipped:
        skipped = Counter((r["benchmark"], r["variant"], r["backend"], r["solver"], r["status"])
                          for r in report.skipped)
        lines += ["Left out (never timed): " + "; ".join(
            f"{b} {v} {be}/{s}: {st} x{n}" for (b, v, be, s, st), n in skipped.items()) + ".", ""]
    memory = any(e.peak_memory_mb is not None for e in report.entries)
    for benchmark in report.case_order:
        names = figure_names(benchmark)
        lines += [f"## {benchmark}", ""]
        for table in report.tables:
            if table.group.benchmark == benchmark:
                lines += [sgm_markdown(table), ""]
        fits = [f for f in report.fits if f.benchmark == benchmark]
        lines += ["Performance profiles (left: correct and fast; right: fast only):", "",
                  f"![performance profiles of {benchmark}]({names['profile']})", "",
                  "Build / solve time per case (median per key; hatched: not optimal):", "",
                  f"![time per case of {benchmark}]({names['bars']})", "",
                  "Scaling against the number of variables (log-log; the legend gives each "
                  "pair's fitted exponent):", "",
                  f"![scaling of {benchmark}]({names['scaling']})", "",
                  fits_markdown(fits, memory), "", "Median per key:", "",
                  entries_markdown([e for e in report.entries if e.benchmark == benchmark],
                                   report.case_order[benchmark]), ""]
    return "\n".join(lines)


def entries_markdown(entries: Sequence[Entry], cases: Sequence[str]) -> str:
    handoff = any(e.handoff_s is not None for e in entries)
    extract = any(e.extract_s is not None for e in entries)
    memory = any(e.peak_memory_mb is not None for e in entries)
    raw = any(e.raw_ratio is not None for e in entries)
    header = ["case", "variant", "backend/solver", "status", "runs", "variables", "build s"]
    header += ["handoff s"] * handoff + ["solve s"] + ["extract s"] * extract + ["total s"]
    header += ["build+handoff / raw"] * raw + ["peak MB"] * memory
    rank = {c: i for i, c in enumerate(cases)}
    rows = []
    for e in sorted(entries, key=lambda e: (rank[e.case], e.variant, e.pair)):
        status = e.status if len(e.statuses) == 1 else ", ".join(
            f"{s} x{n}" for s, n in e.statuses.items())
        row = [e.case, e.variant, _pair(e.pair), status, e.runs,
               f"{e.variables:,}" if e.variables is not None else "-", _seconds(e.build_s)]
        row += [_seconds(e.handoff_s)] * handoff + [_seconds(e.solve_s)]
        row += [_seconds(e.extract_s)] * extract + [_seconds(e.total_s)]
        row += [f"{e.raw_ratio:.1f}" if e.raw_ratio is not None else "-"] * raw
        row += [_seconds(e.peak_memory_mb)] * memory
        rows.append(row)
    return _md_table(header, rows)


# ---------------------------------------------------------------------------- figures


def require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    except ImportError:
        raise InputError("bench-report draws its figures with matplotlib, which is not "
                         "installed: pip install 'gridbench[plots]'") from None


def _figure(width: float, height: float, rows: int = 1, columns: int = 1):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)  # the Agg backend, no display and no pyplot state
    axes = figure.subplots(rows, columns, squeeze=False)
    return figure, axes


def _save(figure, path: Path) -> None:
    figure.savefig(path, dpi=PNG_DPI, metadata={"Software": None})


LINE_STYLES = ("-", "--", "-.", ":")  # curves that coincide stay visible


def _colours(labels: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {label: cmap(i % 10) for i, label in enumerate(labels)}


def plot_profiles(groups: Sequence[Group], path: Path) -> None:
    figure, axes = _figure(10, 3.6 * len(groups), len(groups), 2)
    for row, group in enumerate(groups):
        colours = _colours([_pair(p) for p in group.pairs])
        for column, (correct, title) in enumerate(((True, "correct and fast"),
                                                   (False, "fast only"))):
            ax = axes[row][column]
            ratios = group_profiles(group, correct)
            finite = [r for rs in ratios.values() for r in rs if math.isfinite(r)]
            top = max(2.0, max(finite, default=1.0) * 1.25)
            for index, (pair, values) in enumerate(ratios.items()):
                steps = sorted({1.0, *(r for r in values if math.isfinite(r)), top})
                ys = [profile_fraction(values, tau) for tau in steps]
                ax.step(steps, ys, where="post", label=_pair(pair), color=colours[_pair(pair)],
                        linewidth=1.6, linestyle=LINE_STYLES[index % len(LINE_STYLES)])
            ax.set_xscale("log", base=2)
            ax.set_xlim(1, top)
            ticks = [2.0 ** k for k in range(int(math.log2(top)) + 1)]
            ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel("tau (time / best pair's time, log2)")
            ax.set_ylabel("fraction of instances")
            ax.set_title(f"{group.label}: {title} ({len(group.instances)} instances)",
                         fontsize=9)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7, loc="lower right")
    _save(figure, path)


def _bar_label(entry: Entry, variants: int) -> str:
    label = _pair(entry.pair)
    label = f"{label}\n{entry.variant}" if variants > 1 else label
    return label if entry.optimal else f"{label}\n({entry.status})"


def _build_part(entry: Entry) -> float:
    return entry.build_s or 0.0


def _handoff_part(entry: Entry) -> float:
    return min(entry.handoff_s or 0.0, entry.solve_s or 0.0)


def _rest_part(entry: Entry) -> float:
    return (entry.solve_s or 0.0) - _handoff_part(entry)


def plot_bars(entries: Sequence[Entry], cases: Sequence[str], path: Path) -> None:
    handoff = any(e.handoff_s is not None for e in entries)
    variants = len({e.variant for e in entries})
    parts = [(_build_part, "build", "#4c72b0")]
    if handoff:
        parts.append((_handoff_part, "handoff (the layer's part of the solve call)", "#dd8452"))
    parts.append((_rest_part, "rest of the solve call" if handoff else "solve", "#55a868"))
    width = max(6.0, min(20.0, 1.2 + 0.45 * len(entries)))
    figure, axes = _figure(width, 4.2, 1, len(cases))
    for ax, case in zip(axes[0], cases, strict=True):
        mine = sorted((e for e in entries if e.case == case), key=lambda e: (e.variant, e.pair))
        xs = list(range(len(mine)))
        bottom = [0.0] * len(mine)
        for part, label, colour in parts:
            heights = [part(e) for e in mine]
            ax.bar(xs, heights, bottom=bottom, color=colour, label=label,
                   hatch=None, edgecolor="white", linewidth=0.5)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        for x, e, height in zip(xs, mine, bottom, strict=True):
            if not e.optimal:
                ax.bar([x], [max(height, 1e-9)], fill=False, hatch="//", edgecolor="red",
                       linewidth=0)
        ax.set_xticks(xs, [_bar_label(e, variants) for e in mine], rotation=90, fontsize=7)
        for tick, e in zip(ax.get_xticklabels(), mine, strict=True):
            if not e.optimal:
                tick.set_color("red")
        variables = next((e.variables for e in mine if e.variables), None)
        ax.set_title(case + (f"\n{variables:,} variables" if variables else ""), fontsize=8)
        ax.set_ylabel("seconds (median)")
        ax.grid(True, axis="y", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, fontsize=7, loc="outside upper center", ncols=len(parts))
    _save(figure, path)


def plot_scaling(entries: Sequence[Entry], fits: Sequence[ScalingFit], path: Path) -> None:
    memory = any(e.peak_memory_mb is not None for e in entries)
    figure, axes = _figure(11 if memory else 6.5, 4.5, 1, 2 if memory else 1)
    variants = len({e.variant for e in entries})
    labels = [(f.variant, f.pair) for f in fits]
    colours = _colours([f"{v} {_pair(p)}" for v, p in labels])
    panels = [("total_s", "total time (s, median)", "time_exponent")]
    if memory:
        panels.append(("peak_memory_mb", "peak memory (MB, median)", "memory_exponent"))
    for ax, (attribute, ylabel, exponent) in zip(axes[0], panels, strict=True):
        for index, fit in enumerate(fits):
            points = sorted((e.variables, getattr(e, attribute), e.optimal) for e in entries
                            if (e.variant, e.pair) == (fit.variant, fit.pair) and e.variables
                            and getattr(e, attribute))
            if not points:
                continue
            name = _pair(fit.pair) + (f" ({fit.variant})" if variants > 1 else "")
            value = getattr(fit, exponent)
            label = f"{name}: n^{value:.2f}" if value is not None else f"{name}: no fit"
            colour = colours[f"{fit.variant} {_pair(fit.pair)}"]
            good = [p for p in points if p[2]]
            ax.plot([p[0] for p in good], [p[1] for p in good], marker="o", label=label,
                    color=colour, linewidth=1.4, markersize=4,
                    linestyle=LINE_STYLES[index % len(LINE_STYLES)])
            failed = [p for p in points if not p[2]]
            if failed:
                ax.plot([p[0] for p in failed], [p[1] for p in failed], linestyle="none",
                        marker="x", color=colour, markersize=8, markeredgewidth=2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("variables")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_title("o: optimal (the fit's points); x: not optimal", fontsize=8)
    _save(figure, path)


def write_report(report: Report, out_dir: Path) -> list[Path]:
    """report.md and three PNGs per benchmark in ``out_dir``; the paths written."""
    from bench.outputs import write_text

    require_matplotlib()
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for benchmark, cases in report.case_order.items():
        names = figure_names(benchmark)
        mine = [e for e in report.entries if e.benchmark == benchmark]
        plot_profiles([g for g in report.groups if g.benchmark == benchmark],
                      out_dir / names["profile"])
        plot_bars(mine, cases, out_dir / names["bars"])
        plot_scaling(mine, [f for f in report.fits if f.benchmark == benchmark],
                     out_dir / names["scaling"])
        written += [out_dir / names[k] for k in ("profile", "bars", "scaling")]
    write_text(out_dir / "report.md", markdown(report))
    written.append(out_dir / "report.md")
    return written
