"""How close the oracle's optimum comes to the thesis's tables, per table, out-of-sample:
``python -m gridbench_dg_contract_pricing.calibration_report BEFORE.json AFTER.json``
prints one Markdown table per chapter from two results files of
``gridbench run -f dg_contract_pricing --variant enumeration --json FILE`` (e.g. before and
after calibration). Only the exact oracle's runs are read (one answer per case); values
with verdict ``calibrated`` are counted apart, never as out-of-sample.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

CHAPTER_OF_TABLE = {**dict.fromkeys(range(2, 8), 4), **dict.fromkeys(range(8, 16), 5),
                    **dict.fromkeys(range(16, 25), 6)}


@dataclass(frozen=True)
class TableScore:
    """Out-of-sample agreement of one table in one results file."""

    values: int  # out-of-sample published values checked
    within: int  # within the printed precision
    median_rel_error: float | None  # relative |error|, %
    max_rel_error: float | None
    calibrated: int  # values the data were fitted to (not scored)


def _table(note: str) -> int | None:
    found = re.search(r"Table (\d+)", note)
    return int(found.group(1)) if found else None


def scores(path: Path) -> dict[int, TableScore]:
    """Per printed table: the oracle's out-of-sample errors (Lopez-Lezama columns left out:
    another method's results, not the thesis's)."""
    runs = json.loads(path.read_text())["runs"]
    errors: dict[int, list[float]] = defaultdict(list)
    within: dict[int, int] = defaultdict(int)
    calibrated: dict[int, int] = defaultdict(int)
    for run in runs:
        if run["variant"] != "enumeration" or run["formulation"] != "dg_contract_pricing":
            continue
        for check in run["checks"]:
            table = _table(check.get("note", ""))
            if check["kind"] != "reference" or table is None or "[" in check["quantity"]:
                continue
            if check["verdict"] == "calibrated":
                calibrated[table] += 1
                continue
            if check["actual"] is None:
                continue
            expected, actual = check["expected"], check["actual"]
            errors[table].append(100 * abs(actual - expected) / max(abs(expected), 1e-9))
            within[table] += check["verdict"] == "pass"
    return {t: TableScore(len(errors[t]), within[t],
                          statistics.median(errors[t]) if errors[t] else None,
                          max(errors[t]) if errors[t] else None, calibrated[t])
            for t in sorted(set(errors) | set(calibrated))}


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def markdown(before: dict[int, TableScore], after: dict[int, TableScore]) -> str:
    """One table per chapter: values, within precision, median and max relative error."""
    out = []
    for chapter in (4, 5, 6):
        tables = [t for t in sorted(set(before) | set(after)) if CHAPTER_OF_TABLE.get(t) == chapter]
        if not tables:
            continue
        out += [f"Chapter {chapter}:", "",
                "| table | out-of-sample values | within precision (before / after) | median "
                "rel. error % (before / after) | max rel. error % (before / after) | "
                "calibrated (after) |", "|---|---|---|---|---|---|"]
        for t in tables:
            b, a = before.get(t), after.get(t)
            count = a.values if a else (b.values if b else 0)
            out.append(
                f"| {t} | {count} | {b.within if b else ''} / {a.within if a else ''} | "
                f"{_pct(b.median_rel_error) if b else ''} / {_pct(a.median_rel_error) if a else ''}"
                f" | {_pct(b.max_rel_error) if b else ''} / {_pct(a.max_rel_error) if a else ''}"
                f" | {a.calibrated if a else 0} |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gridbench_dg_contract_pricing.calibration_report",
        description="Per-table out-of-sample errors of two dg_contract_pricing result files.")
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    for path in (args.before, args.after):
        if not path.is_file():
            parser.error(f"{path}: no such results file")
    print(markdown(scores(args.before), scores(args.after)))


if __name__ == "__main__":
    main()
