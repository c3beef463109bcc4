"""Tables for the terminal and the Markdown report, rendered from the JSON document only,
so ``gridbench report results.json`` shows exactly what ``gridbench run`` printed."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate


def _num(value: Any, digits: int = 10) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return f"{value:.{digits}g}"


def _secs(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _err(value: Any) -> str:
    return "" if value is None else (value if isinstance(value, str) else f"{value:.2e}")


def run_label(run: dict[str, Any]) -> str:
    return f"{run['formulation']}/{run['variant']}/{run['case']} {run['backend']}/{run['solver']}"


def runs_table(runs: list[dict[str, Any]], tablefmt: str = "simple") -> str:
    rows = []
    for run in runs:
        passed = sum(c["verdict"] == "pass" for c in run["checks"])
        rows.append([run["formulation"], run["variant"], run["case"], run["backend"],
                     run["solver"], run["status"], _num(run["objective"]),
                     _secs(run["build_time_s"]), _secs(run["solve_time_s"]),
                     f"{passed}/{len(run['checks'])}"])
    headers = ["formulation", "variant", "case", "backend", "solver", "status", "objective",
               "build s", "solve s", "checks"]
    return tabulate(rows, headers, tablefmt=tablefmt, disable_numparse=True)


def checks_table(runs: list[dict[str, Any]], verdicts: set[str] | None = None,
                 kinds: set[str] | None = None, tablefmt: str = "simple") -> str:
    """One row per check; ``verdicts=None`` means every check."""
    rows = []
    for run in runs:
        for check in run["checks"]:
            if verdicts is not None and check["verdict"] not in verdicts:
                continue
            if kinds is not None and check["kind"] not in kinds:
                continue
            rows.append([run_label(run), check["quantity"], _num(check["expected"]),
                         _num(check["actual"]), _err(check["abs_err"]), _err(check["rel_err"]),
                         check["tolerance"], check["verdict"], check["note"]])
    headers = ["run", "quantity", "expected", "actual", "abs err", "rel err", "tolerance",
               "verdict", "note"]
    return tabulate(rows, headers, tablefmt=tablefmt, disable_numparse=True) if rows else ""


def derived_table(derived: list[dict[str, Any]], tablefmt: str = "simple") -> str:
    rows = [[f"{d['formulation']}/{d['variant']} {d['backend']}/{d['solver']}", d["name"],
             " ".join(_term(t) for t in d["terms"]),
             _num(d["expected"]), _num(d["actual"]), _err(d["abs_err"]), _err(d["rel_err"]),
             d["verdict"]] for d in derived]
    headers = ["runs", "check", "terms", "expected", "actual", "abs err", "rel err", "verdict"]
    return tabulate(rows, headers, tablefmt=tablefmt, disable_numparse=True) if rows else ""


def _term(term: dict[str, Any]) -> str:
    if "against" in term:
        return f"{term['case']}.{term['quantity']} vs {term['against']}"
    return f"{term['coefficient']:+g}*{term['case']}.{term['quantity']}"


def summary_line(summary: dict[str, Any]) -> str:
    statuses = ", ".join(f"{count} {status}" for status, count in summary["statuses"].items())
    if summary.get("interrupted"):
        verdict = f"INTERRUPTED ({summary['runs']} of {summary['planned']} runs finished)"
    elif summary["ok"]:
        verdict = "OK"
    else:
        verdict = f"FAILED ({summary['failed_runs']} failing)"
    reused = summary.get("reused", 0)
    if reused:
        verdict += f" ({reused} reused from the previous results file)"
    expected = summary.get("expected_failures", 0)
    documented = (f", {expected} expected failures (certificates that references expect to "
                  "fail)") if expected else ""
    published = ""
    if "published_planned" in summary:
        published = (f"; published values checked: {summary['published_checked']} of "
                     f"{summary['published_planned']} planned")
    calibrated = (f", {summary['calibrated']} calibrated (fitted to, not reproduced)"
                  if summary.get("calibrated") else "")
    invalid = (f"; {summary['invalid_cases']} invalid case(s) not run"
               if summary.get("invalid_cases") else "")
    if summary.get("invalid_references"):
        invalid += (f"; {summary['invalid_references']} invalid reference file(s): their "
                    "formulations not run")
    return (f"{verdict}: {summary['runs']} runs ({statuses}); checks: {summary['passed']} passed, "
            f"{summary['failed']} failed{documented}, {summary['deviations']} deviations"
            f"{calibrated} of {summary['checks']}{published}{invalid}")


def markdown_report(doc: dict[str, Any]) -> str:
    meta, runs = doc["meta"], doc["runs"]
    lines = ["# gridbench validation report", ""]
    lines += [f"- gridbench {meta['gridbench_version']}, Python {meta['python']}, "
              f"{meta['platform']} ({meta['cpu_count']} CPUs)",
              f"- started {meta['started_at']}, "
              f"finished {meta.get('finished_at', '(interrupted)')}",
              f"- time limit per solve: {meta.get('time_limit_s')} s; relative MIP gap: "
              f"{meta.get('mip_rel_gap')}", ""]
    lines += ["## Summary", "", summary_line(doc["summary"]), ""]
    lines += ["## Runs", "",
              "Build s is the time to construct the backend's native model; solve s is the wall "
              "time of the solve call (the backend's translation for the solver included).", "",
              runs_table(runs, "github"), ""]
    failing = checks_table(runs, {"fail", "deviation"}, tablefmt="github")
    lines += ["## Checks that did not pass", "", failing or "None.", ""]
    calibrated = checks_table(runs, {"calibrated"}, tablefmt="github")
    if calibrated:
        lines += ["## Published values the data were fitted to", "",
                  "Each case file names these among its calibration targets: their errors "
                  "measure the fit, not a reproduction.", "", calibrated, ""]
    errors = [r for r in runs if r["status"] == "error"]
    if errors:
        lines += ["## Errors", ""] + [f"- {run_label(r)}: {r['message']}" for r in errors] + [""]
    if doc["derived_checks"]:
        lines += ["## Checks across runs", "", derived_table(doc["derived_checks"], "github"), ""]
    lines += ["## Published values checked", "",
              checks_table(runs, kinds={"reference"}, tablefmt="github") or "None.", ""]
    for name, section in doc.get("sections", {}).items():
        lines += [f"## {name}", "", section, ""]
    solvers = [[key, "yes" if s["available"] else "no", s["version"] or "",
                "commercial" if s["commercial"] else "open source"]
               for key, s in meta["solvers"].items()]
    lines += ["## Environment", "",
              tabulate(solvers, ["backend/solver", "available", "version", "licence"],
                       tablefmt="github", disable_numparse=True), "",
              tabulate([[k, v or "not installed"] for k, v in meta["packages"].items()],
                       ["package", "version"], tablefmt="github", disable_numparse=True), ""]
    if meta.get("plugin_problems"):
        lines += ["## Plugin problems (skipped)", ""]
        lines += [f"- {p['plugin']} ({p['distribution']}), {p['stage']}: {p['error']}"
                  for p in meta["plugin_problems"]]
        lines.append("")
    return "\n".join(lines)
