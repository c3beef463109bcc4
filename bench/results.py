"""The JSON results file: ``meta``, ``runs``, ``derived_checks``, ``summary``.

Key names are a contract (later formulations and external tools read them); see the
README. The file is rewritten atomically after every run, so an interrupted or crashing
run keeps every result obtained before it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import __version__
from bench.backend_support import dist_version
from bench.records import Check, RunResult, Status, Verdict
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
        "time_limit_s": result.time_limit_s,
        "model_size": asdict(result.model_size) if result.model_size else None,
        "message": result.message,
        "traceback": result.traceback,
    }


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


def summarise(results: list[RunResult], derived: list[DerivedResult]) -> dict[str, Any]:
    checks = [c for r in results for c in r.checks] + [d.check for d in derived]
    verdicts = Counter(str(c.verdict) for c in checks)
    # failed certificates of runs whose references expect exactly that (certified = 0)
    expected = sum(c.kind == "certificate" and c.verdict is Verdict.FAIL
                   for r in results if not r.failed for c in r.checks)
    statuses = Counter(str(r.status) for r in results)
    failed_runs = [r for r in results if r.failed]
    return {
        "runs": len(results),
        "statuses": dict(sorted(statuses.items())),
        "checks": len(checks),
        "passed": verdicts.get(str(Verdict.PASS), 0),
        "failed": verdicts.get(str(Verdict.FAIL), 0) - expected,
        "expected_failures": expected,
        "deviations": verdicts.get(str(Verdict.DEVIATION), 0),
        "failed_runs": len(failed_runs) + sum(d.check.verdict is Verdict.FAIL for d in derived),
        "ok": not failed_runs and not any(d.check.verdict is Verdict.FAIL for d in derived),
        "unavailable": statuses.get(str(Status.UNAVAILABLE), 0),
    }


class ResultsFile:
    """Collects results and, when given a path, keeps the JSON file current after each run."""

    def __init__(self, path: Path | None, meta: dict[str, Any]) -> None:
        self.path = path
        self.meta = {**meta, "started_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self.results: list[RunResult] = []
        self.derived: list[DerivedResult] = []
        self.extra: dict[str, Any] = {}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.write()  # fail early on an unwritable path, before any solve

    def add(self, result: RunResult) -> None:
        self.results.append(result)
        self.write()

    def finish(self, derived: list[DerivedResult]) -> dict[str, Any]:
        self.derived = derived
        self.meta["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        self.write()
        return self.document()

    def document(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "runs": [run_to_dict(r) for r in self.results],
            "derived_checks": [derived_to_dict(d) for d in self.derived],
            "summary": summarise(self.results, self.derived),
            **self.extra,
        }

    def write(self) -> None:
        if self.path is None:
            return
        text = json.dumps(self.document(), indent=2, ensure_ascii=False)
        handle = tempfile.NamedTemporaryFile("w", dir=self.path.parent, delete=False,
                                             suffix=".tmp", encoding="utf-8")
        with handle:
            handle.write(text)
        os.replace(handle.name, self.path)
