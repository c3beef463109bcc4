"""The peer-comparison table of docs/bilevel.md from a results file of the BilevelJuMP cases.

    python tests/data/bilevel_jump/peer_table.py results.json > table.md

One row per problem: the stated optimum (the reference file's leader objective), the
oracle's value, and per reformulation how many backend/solver pairs ended in each status
("6 opt" = six pairs optimal and certified; pairs that cannot state the problem are left
out and counted in the last column)."""

from __future__ import annotations

import json
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).parent
VARIANTS = ("strong_duality", "strong_duality_bilinear", "kkt_bigm", "kkt_sos1")
SHORT = {"optimal": "opt", "uncertified": "uncert", "infeasible": "infeas",
         "time_limit": "limit", "feasible": "feas", "error": "error"}


def stated(case: str) -> float | None:
    path = HERE / "references" / f"{case}.toml"
    if not path.exists():
        return None
    for ref in tomllib.loads(path.read_text()).get("reference", []):
        value = ref.get("quantities", {}).get("leader_objective")
        if value is not None:
            return float(value["value"])
    return None


def cell(runs: list[dict]) -> str:
    counts = Counter(SHORT.get(r["status"], r["status"]) for r in runs
                     if r["status"] != "not_applicable")
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "n/a"


def main(results: str) -> str:
    runs = json.loads(Path(results).read_text())["runs"]
    by_case: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        by_case[run["case"]][run["variant"]].append(run)
    rows = []
    for case in sorted(by_case):
        variants = by_case[case]
        oracle = variants.get("enumeration", [{}])[0]
        value = oracle.get("objective")
        published = stated(case)
        agrees = ("" if published is None or value is None
                  else "yes" if abs(value - published) <= 1e-5 * max(1.0, abs(published))
                  else f"**no** ({value - published:+.4g})")
        skipped = sum(r["status"] == "not_applicable" for v in VARIANTS
                      for r in variants.get(v, []))
        rows.append([case.removeprefix("bilevel_jump_"),
                     "" if published is None else f"{published:.6g}",
                     oracle.get("status", "") if value is None else f"{value:.6g}", agrees,
                     *[cell(variants.get(v, [])) for v in VARIANTS], skipped])
    headers = ["problem", "stated", "oracle", "agrees", *VARIANTS, "n/a pairs"]
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


if __name__ == "__main__":
    print(main(sys.argv[1]))
