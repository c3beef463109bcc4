"""What a previous results file is still good for: reuse (``--resume``) and durations.

A run is reused only when its key (formulation, variant, case, backend, solver) and its
fingerprint match: the gridbench version, a hash of the validated case data, the solve
options (time limit, MIP gap) and the backend's and solver's versions. Anything else is run
again. The reference checks of a reused run are evaluated again against today's references
(they are cheap and references may have been corrected since).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from bench import __version__
from bench.records import RunResult, SolveLimits, Status
from bench.references import ReferenceBook
from bench.registry import Registry
from bench.runner import PlannedRun
from bench.validation import check_against

Key = tuple[str, str, str, str, str]

# a run with one of these statuses says nothing about the model: run it again
_NOT_REUSED = {str(Status.ERROR), str(Status.UNAVAILABLE)}


def run_key(data: dict[str, Any]) -> Key:
    return (data["formulation"], data["variant"], data["case"], data["backend"],
            data["solver"])


def _probe(func: Any) -> str | None:
    try:
        return func()
    except Exception:
        return None


def fingerprint(planned: PlannedRun, limits: SolveLimits, registry: Registry) -> str:
    """A hash of everything a run's answer depends on, apart from the code of the plugin
    itself (its version is part of the gridbench version for built-ins)."""
    data = planned.case.data
    dumped = data.model_dump(mode="json") if hasattr(data, "model_dump") else repr(data)
    backend = registry.backends.get(planned.backend)
    parts = {
        "gridbench": __version__,
        "case": dumped,
        "time_limit_s": limits.time_limit_s,
        "mip_rel_gap": limits.mip_rel_gap,
        "backend": _probe(backend.version) if backend is not None else None,
        "solver": _probe(planned.solver.version),
    }
    text = json.dumps(parts, sort_keys=True, default=str, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def durations(doc: dict[str, Any] | None) -> dict[Key, float]:
    """Seconds each run took in a previous results file (for longest-first scheduling)."""
    found: dict[Key, float] = {}
    for run in (doc or {}).get("runs", []):
        try:
            seconds = (run.get("build_time_s") or 0) + (run.get("solve_time_s") or 0)
            found[run_key(run)] = float(seconds)
        except (KeyError, TypeError, ValueError):
            continue
    return found


def reusable(doc: dict[str, Any] | None) -> dict[tuple[Key, str], dict[str, Any]]:
    """Finished runs of a previous file by (key, fingerprint)."""
    found = {}
    for run in (doc or {}).get("runs", []):
        try:
            if run["status"] in _NOT_REUSED or not run.get("fingerprint"):
                continue
            found[(run_key(run), run["fingerprint"])] = run
        except (KeyError, TypeError):
            continue
    return found


def reuse(run: dict[str, Any], book: ReferenceBook) -> RunResult:
    """A previous run as a result of this one, its reference checks evaluated again."""
    from bench.results import run_from_dict

    result = run_from_dict(run)
    own = [c for c in result.checks if c.kind != "reference"]
    fresh = check_against(result, book.for_run(result.formulation, result.case, result.variant))
    return replace(result, checks=own + fresh, reused=True)
