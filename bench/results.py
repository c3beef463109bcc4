"""The JSON results file: ``meta``, ``runs``, ``derived_checks``, ``summary``.

Key names are a contract (later formulations and external tools read them); see the
README. The file is rewritten atomically after every finished run (runs in the plan's
order, whatever order they finish in), so an interrupted or crashing run keeps every result
obtained before it. It is first written when the first result is ready: an existing file is
never emptied by a run that has nothing to put in it yet.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import __version__
from bench.backend_support import dist_version
from bench.outputs import is_special, real_path, write_text
from bench.records import Check, ModelSize, RunResult, Status, Verdict
from bench.registry import Registry
from bench.validation import DerivedResult

PACKAGES = ("pluggy", "pydantic", "numpy", "scipy", "pyomo", "pulp", "cvxpy", "highspy",
            "pyscipopt", "clarabel", "osqp", "scs")


def _number(value: float | None) -> float | None | str:
    """JSON has no inf/nan: write them as strings rather than produce invalid JSON."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else str(value)


def check_to_dict(check: Check) -> dict[str, Any]:
    return {
        "quantity": check.quantity,
        "expected": _number(check.expected),
        "actual": _number(check.actual),
        "abs_err": _number(check.abs_err),
        "rel_err": _number(check.rel_err),
        "verdict": str(check.verdict),
        "kind": check.kind,
        "tolerance": check.tolerance,
        "note": check.note,
    }


def run_to_dict(result: RunResult) -> dict[str, Any]:
    return {
        "formulation": result.formulation,
        "variant": result.variant,
        "case": result.case,
        "backend": result.backend,
        "solver": result.solver,
        "status": str(result.status),
        "objective": _number(result.objective),
        "quantities": {k: _number(v) for k, v in result.quantities.items()},
        "checks": [check_to_dict(c) for c in result.checks],
        "build_time_s": result.build_time_s,
        "solve_time_s": result.solve_time_s,
        "solver_time_s": result.solver_time_s,
        "handoff_time_s": result.handoff_time_s,
        "extract_time_s": result.extract_time_s,
        "validate_time_s": result.validate_time_s,
        "peak_memory_mb": result.peak_memory_mb,
        "time_limit_s": result.time_limit_s,
        "model_size": asdict(result.model_size) if result.model_size else None,
        "message": result.message,
        "traceback": result.traceback,
        "solver_log": result.solver_log,
        "fingerprint": result.fingerprint,
        "reused": result.reused,
        "time_limit_expected": result.time_limit_expected,
        "uncertified_reasons": list(result.uncertified_reasons),
        "sense": result.sense,
        "bound": _number(result.bound),
        "nodes": result.nodes,
    }


def _float(value: Any) -> float | None:
    """Back from :func:`_number`: ``"inf"``/``"nan"`` strings become floats again."""
    return None if value is None else float(value)


def check_from_dict(data: dict[str, Any]) -> Check:
    return Check(data["quantity"], _float(data["expected"]), _float(data["actual"]),
                 _float(data["abs_err"]), _float(data["rel_err"]), Verdict(data["verdict"]),
                 data.get("kind", "reference"), data.get("tolerance", ""), data.get("note", ""))


def run_from_dict(data: dict[str, Any]) -> RunResult:
    """A run as :func:`run_to_dict` wrote it (a worker's result, a previous results file)."""
    size = data.get("model_size")
    return RunResult(
        data["formulation"], data["variant"], data["case"], data["backend"], data["solver"],
        Status(data["status"]), objective=_float(data.get("objective")),
        quantities={k: _float(v) for k, v in data.get("quantities", {}).items()},
        checks=[check_from_dict(c) for c in data.get("checks", [])],
        build_time_s=data.get("build_time_s"), solve_time_s=data.get("solve_time_s"),
        solver_time_s=data.get("solver_time_s"), time_limit_s=data.get("time_limit_s"),
        model_size=ModelSize(**size) if size else None, message=data.get("message", ""),
        traceback=data.get("traceback", ""), solver_log=data.get("solver_log"),
        fingerprint=data.get("fingerprint", ""), reused=bool(data.get("reused", False)),
        time_limit_expected=bool(data.get("time_limit_expected", False)),
        uncertified_reasons=list(data.get("uncertified_reasons") or []),
        sense=data.get("sense"), bound=_float(data.get("bound")), nodes=data.get("nodes"),
        handoff_time_s=data.get("handoff_time_s"), extract_time_s=data.get("extract_time_s"),
        validate_time_s=data.get("validate_time_s"),
        peak_memory_mb=data.get("peak_memory_mb"))


def derived_to_dict(derived: DerivedResult) -> dict[str, Any]:
    return {
        "formulation": derived.formulation,
        "variant": derived.variant,
        "backend": derived.backend,
        "solver": derived.solver,
        "name": derived.check.quantity,
        "terms": derived.terms,
        **check_to_dict(derived.check),
    }


def environment(registry: Registry) -> dict[str, Any]:
    solvers = {}
    for (backend, name), spec in sorted(registry.solvers.items()):
        try:
            available = bool(spec.available())
            version = spec.version() if available else None
        except Exception as exc:  # a solver probe must not sink the report
            available, version = False, f"probe failed: {exc}"
        solvers[f"{backend}/{name}"] = {"available": available, "version": version,
                                        "commercial": spec.commercial}
    return {
        "gridbench_version": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "packages": {name: dist_version(name) for name in PACKAGES},
        "solvers": solvers,
        "plugins": [{"name": p.name, "distribution": p.distribution, "version": p.version}
                    for p in registry.plugins],
        "plugin_problems": [asdict(p) for p in registry.problems],
    }


def summarise(results: list[RunResult], derived: list[DerivedResult], *,
              planned: int | None = None, interrupted: bool = False,
              invalid_cases: int = 0, invalid_references: int = 0,
              published_planned: int | None = None) -> dict[str, Any]:
    """Counts for the summary line. ``ok`` needs every planned run finished (none lost to
    an interrupt), no failing run, no failing check across runs, no invalid case (unless
    skipped on purpose: then ``invalid_cases`` is 0) and every published value planned for
    the runs actually checked (compared with a computed number)."""
    checks = [c for r in results for c in r.checks] + [d.check for d in derived]
    verdicts = Counter(str(c.verdict) for c in checks)
    # failed certificates of runs whose references expect exactly that (certified = 0)
    expected = sum(c.kind == "certificate" and c.verdict is Verdict.FAIL
                   for r in results if not r.failed for c in r.checks)
    statuses = Counter(str(r.status) for r in results)
    failed_runs = [r for r in results if r.failed]
    published = [c for r in results for c in r.checks if c.kind == "reference"]
    published_checked = sum(c.actual is not None for c in published)
    if published_planned is None:
        published_planned = len(published)
    return {
        "runs": len(results),
        "statuses": dict(sorted(statuses.items())),
        "checks": len(checks),
        "passed": verdicts.get(str(Verdict.PASS), 0),
        "failed": verdicts.get(str(Verdict.FAIL), 0) - expected,
        "expected_failures": expected,
        "deviations": verdicts.get(str(Verdict.DEVIATION), 0),
        "calibrated": verdicts.get(str(Verdict.CALIBRATED), 0),
        "failed_runs": len(failed_runs) + sum(d.check.verdict is Verdict.FAIL for d in derived),
        "ok": (not failed_runs and not any(d.check.verdict is Verdict.FAIL for d in derived)
               and not interrupted and (planned is None or planned == len(results))
               and not invalid_cases and not invalid_references
               and published_checked == published_planned),
        "unavailable": statuses.get(str(Status.UNAVAILABLE), 0),
        "planned": len(results) if planned is None else planned,
        "reused": sum(r.reused for r in results),
        "interrupted": interrupted,
        "invalid_cases": invalid_cases,
        "invalid_references": invalid_references,
        "published_planned": published_planned,
        "published_checked": published_checked,
    }


class ResultsFile:
    """Collects results in the plan's order and, when given a path, keeps the JSON file
    current after each finished run (a device or pipe is written once, at the end)."""

    def __init__(self, path: Path | None, meta: dict[str, Any], planned: int | None = None
                 ) -> None:
        self.path = path
        self.meta = {**meta, "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.planned = planned
        self.interrupted = False
        self.invalid_cases = 0  # cases that failed validation and were not skipped on purpose
        self.invalid_references = 0  # plugin reference files left out (their plugin too)
        # published values the plan's runs are to be checked against (None: those it has)
        self.published_planned: int | None = None
        self._runs: dict[int, RunResult] = {}
        self.derived: list[DerivedResult] = []
        self.extra: dict[str, Any] = {}
        self._stream = path is not None and is_special(real_path(path))

    @property
    def results(self) -> list[RunResult]:
        return [self._runs[index] for index in sorted(self._runs)]

    def skipped_indices(self) -> set[int]:
        """Runs that checked nothing on purpose: not applicable, or solver not installed."""
        return {i for i, r in self._runs.items()
                if r.status in (Status.NOT_APPLICABLE, Status.UNAVAILABLE)}

    def add(self, result: RunResult, index: int | None = None) -> None:
        """Record a finished run at its position in the plan (default: after the last)."""
        if index is None:
            index = max(self._runs, default=-1) + 1
        self._runs[index] = result
        self.write()

    def finish(self, derived: list[DerivedResult]) -> dict[str, Any]:
        self.derived = derived
        self.meta["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.write(final=True)
        return self.document()

    def document(self) -> dict[str, Any]:
        results = self.results
        return {
            "meta": self.meta,
            "runs": [run_to_dict(r) for r in results],
            "derived_checks": [derived_to_dict(d) for d in self.derived],
            "summary": summarise(results, self.derived, planned=self.planned,
                                 interrupted=self.interrupted,
                                 invalid_cases=self.invalid_cases,
                                 invalid_references=self.invalid_references,
                                 published_planned=self.published_planned),
            **self.extra,
        }

    def write(self, final: bool = False) -> None:
        if self.path is None or (self._stream and not final):
            return
        write_text(self.path, json.dumps(self.document(), indent=2, ensure_ascii=False))


def read_results(path: Path) -> dict[str, Any]:
    """A results file as a dict; :class:`~bench.errors.InputError` when it is not one."""
    from bench.errors import InputError

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        raise InputError(f"{path}: not a gridbench results file ({type(exc).__name__}: "
                         f"{str(exc)[:200]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list) or not isinstance(
            doc.get("meta"), dict):
        raise InputError(f"{path}: not a gridbench results file (no meta and runs)")
    return doc
