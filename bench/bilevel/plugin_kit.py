"""Glue between the bilevel engine and gridbench's records, shared by bilevel formulations.

A bilevel plugin supplies two functions of its case data: ``problem(data) ->
BilevelProblem`` (stated with :class:`~bench.bilevel.BilevelBuilder`) and, optionally,
``options(data) -> BoundOptions`` (stated big-Ms). :class:`BilevelKit` then provides the
``build`` functions for Pyomo, PuLP, CVXPY and the exact oracle, ``quantities``, ``verify``
(certification) and a reformulation-comparison ``report_section``. Problems, single-level
models used for certification, and oracle results are cached per case data.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bench import memo
from bench.algorithm import AlgorithmRun, NoSolution
from bench.bilevel.bounds import HEURISTIC, HEURISTIC_ROUNDS, BoundOptions
from bench.bilevel.certify import GAP_RTOL, Certificate, certify
from bench.bilevel.oracle import OracleLimit, OracleResult, optimistic_response, solve_exact
from bench.bilevel.problem import BilevelError, BilevelProblem
from bench.bilevel.reformulate import HPR_EMPTY, SingleLevelModel, reformulate
from bench.bilevel.variants import (
    ENUMERATION,
    KKT_BIGM,
    KKT_SOS1,
    ORACLE_BACKEND,
    STRONG_DUALITY,
    oracle_backend,
    standard_variants,
)
from bench.records import BuiltModel, Check, Review, Solution, SolveOutcome, Status, Verdict
from bench.validation import objective_check


def _emitter(backend: str) -> Callable[[SingleLevelModel], Any]:
    if backend == "pyomo":
        from bench.bilevel.emit_pyomo import to_pyomo

        return to_pyomo
    if backend == "pulp":
        from bench.bilevel.emit_pulp import to_pulp

        return to_pulp
    if backend == "cvxpy":
        from bench.bilevel.emit_cvxpy import to_cvxpy

        return to_cvxpy
    raise BilevelError(f"no emitter for backend {backend!r}")


ORACLE_MEMO = "bilevel-oracle"


def _fingerprint(data: Any) -> str:
    text = data.model_dump_json() if hasattr(data, "model_dump_json") else repr(data)
    return hashlib.sha1(text.encode()).hexdigest()


# the quantities BilevelKit.quantities may return (Formulation.quantity_names): objectives,
# certificate, variable values x[name] / y[name], the oracle's statistics and the
# reformulation's size (n_vars, n_binaries, n_sos1, n_bigm, ...)
BILEVEL_QUANTITIES = ("leader_objective", "follower_objective", "certified", "x[*]", "y[*]",
                      "follower_gap", "oracle_lps", "oracle_nodes", "oracle_points",
                      "oracle_ties", "oracle_value", "oracle_gap", "n_*", "reformulate_s",
                      "bigm_heuristic_value",
                      "published_decision_feasible", "published_decision_value",
                      "published_decision_gap")


@dataclass
class BilevelKit:
    problem_of: Callable[[Any], BilevelProblem]
    options_of: Callable[[Any], BoundOptions] = lambda data: BoundOptions()
    max_oracle_points: int = 20_000
    max_oracle_nodes: int = 50_000
    # which variables become quantities x[name] / y[name]: "all", "leader" or "none" (a
    # follower with thousands of variables should not fill the results file)
    variable_quantities: str = "all"
    # reuse one reformulation per case and variant across backends (its cost, e.g. the grid
    # duals' LPs, then appears in the first build only); default: reformulate on every
    # build, so that every build time includes it
    reuse_models: bool = False
    # the publication's leader decision stated in the case data (None: none printed); the
    # follower is re-solved at it and its leader value reported next to each run's own
    published_decision_of: Callable[[Any], np.ndarray | None] = lambda data: None
    _problems: dict[str, BilevelProblem] = field(default_factory=dict)
    _published: dict[str, Any] = field(default_factory=dict)
    _models: dict[tuple[str, str], SingleLevelModel] = field(default_factory=dict)
    _oracles: dict[str, tuple[OracleResult | None, str]] = field(default_factory=dict)

    # ------------------------------------------------------------------ caches

    def problem(self, data: Any) -> BilevelProblem:
        key = _fingerprint(data)
        if key not in self._problems:
            self._problems[key] = self.problem_of(data)
        return self._problems[key]

    def options(self, data: Any, heuristic_scale: float = 1.0) -> BoundOptions:
        return replace(self.options_of(data), heuristic_scale=heuristic_scale)

    def model(self, data: Any, method: str, heuristic_scale: float = 1.0) -> SingleLevelModel:
        key = (_fingerprint(data), method, heuristic_scale)
        if key not in self._models:
            self._models[key] = reformulate(self.problem(data), method,
                                            self.options(data, heuristic_scale))
        return self._models[key]

    def oracle(self, data: Any) -> tuple[OracleResult | None, str]:
        """The exact optimum when affordable, else None and why not. Computed once per
        suite run (bench.memo: the runs of a suite are separate processes)."""
        key = _fingerprint(data)
        if key not in self._oracles:
            self._oracles[key] = memo.shared(ORACLE_MEMO, key, lambda: self._exact(data))
        return self._oracles[key]

    def _exact(self, data: Any) -> tuple[OracleResult | None, str]:
        """The oracle's answer as (result, "") or (None, why there is none)."""
        try:
            result = self.solve_oracle(data)
        except (OracleLimit, BilevelError) as exc:
            return None, f"oracle not affordable: {exc}"
        # infeasible and unbounded are answers too: the certificate compares statuses
        return result, "" if result.status == "optimal" else f"oracle: {result.status}"

    def solve_oracle(self, data: Any) -> OracleResult:
        """The exact method; a formulation with a faster exact method overrides this."""
        return solve_exact(self.problem(data), self.max_oracle_points, self.max_oracle_nodes)

    def remember_oracle(self, data: Any, result: OracleResult) -> None:
        """Share an oracle result computed by a run (e.g. the timed enumeration run)."""
        key = _fingerprint(data)
        answer = (result, "" if result.status == "optimal" else f"oracle: {result.status}")
        self._oracles[key] = answer
        memo.store(ORACLE_MEMO, key, answer)

    # ------------------------------------------------------------------ build

    def builder(self, backend: str, emitter: Callable[[SingleLevelModel], Any] | None = None
                ) -> Callable[[Any, str], BuiltModel]:
        """``build(data, variant)`` for a modelling backend or for :data:`ORACLE_BACKEND`.
        ``emitter`` states the single-level model for a backend the engine has no emitter
        of its own for (a plugin's: ``model -> (native, extract_vector)``)."""
        if backend == ORACLE_BACKEND:
            return self._build_oracle

        def build(data: Any, variant: str, heuristic_scale: float = 1.0) -> BuiltModel:
            start = time.perf_counter()
            if self.reuse_models:
                model = self.model(data, variant, heuristic_scale)
            else:  # reformulated afresh on every build: its cost is part of the build time
                model = reformulate(self.problem(data), variant,
                                    self.options(data, heuristic_scale))
            reformulate_s = time.perf_counter() - start
            native, extract_vector = (emitter or _emitter(backend))(model)

            def extract() -> Solution:
                v = extract_vector()
                # a variable in no row (a dual fixed at 0) may come back without a value
                fixed = np.isnan(v) & (model.lower == model.upper)
                v[fixed] = model.lower[fixed]
                return Solution({"x": v[model.x_index], "y": v[model.y_index],
                                 "dual": model.dual_scale * v[model.dual_index], "v": v,
                                 "reformulate_s": np.array(reformulate_s),
                                 "heuristic_scale": np.array(heuristic_scale)}, None)

            def review(outcome: SolveOutcome, solution: Solution | None) -> Review | None:
                return self.review(data, model, heuristic_scale, outcome, solution,
                                   lambda: build(data, variant, 2 * heuristic_scale))

            return BuiltModel(native, extract, review)

        return build

    def review(self, data: Any, model: SingleLevelModel, heuristic_scale: float,
               outcome: SolveOutcome, solution: Solution | None,
               doubled: Callable[[], BuiltModel]) -> Review | None:
        """After a reformulation's solve: double the heuristic big-Ms while one is active at
        the answer or the model is infeasible (at most ``HEURISTIC_ROUNDS`` times), and
        never let an "infeasible" stand silently where the oracle finds a solution."""
        table = model.big_m
        heuristic = np.array([source == HEURISTIC for source in table.sources], bool)
        may_double = heuristic.any() and heuristic_scale < 2 ** HEURISTIC_ROUNDS
        limit = table.limits[heuristic].max() if heuristic.any() else 0.0
        if solution is not None and heuristic.any():
            active = [i for i in table.active(solution.values["v"]) if heuristic[i]]
            if not active:
                return None
            names = ", ".join(table.names[i] for i in active[:3]) + (
                f" and {len(active) - 3} more" if len(active) > 3 else "")
            if may_double:
                return Review(rebuild=doubled, note=f"heuristic big-M {limit:g} active at "
                              f"{names}: doubled")
            return Review(note=f"heuristic big-M {limit:g} still active at {names} after "
                               f"{HEURISTIC_ROUNDS} doublings")
        if outcome.status is not Status.INFEASIBLE:
            return None
        if HPR_EMPTY in model.notes:  # no big-M is to blame
            return Review(note=HPR_EMPTY)
        if may_double:
            return Review(rebuild=doubled, note=f"infeasible with heuristic big-Ms "
                          f"{limit:g}: doubled")
        return self.review_infeasible(data, model)

    def review_infeasible(self, data: Any, model: SingleLevelModel) -> Review:
        """A reformulation the solver calls infeasible: the oracle decides (issue 15)."""
        unproven = int(np.sum(~model.big_m.valid))
        kinds = sorted({s for s, ok in zip(model.big_m.sources, model.big_m.valid,
                                           strict=True) if not ok})
        oracle, why_not = self.oracle(data)
        if oracle is not None and oracle.status == "optimal":
            cause = (f"; {unproven} unproven ({', '.join(kinds)}) big-Ms may have cut it off"
                     if unproven else "; every bound it relies on is proven, so the solver "
                     "or its tolerances are at fault")
            return Review(status=Status.ERROR, note="reformulation infeasible, oracle found "
                          f"F = {oracle.leader_value:.10g}{cause}")
        if oracle is not None and oracle.status == "infeasible":
            return Review(note=f"the exact oracle ({oracle.method}) confirms: the bilevel "
                               "problem is infeasible")
        if oracle is not None:
            return Review(status=Status.ERROR, note=f"reformulation infeasible, but the exact "
                          f"oracle finds the bilevel problem {oracle.status}")
        if unproven:
            return Review(note=f"infeasible under {unproven} unproven ({', '.join(kinds)}) "
                               f"big-Ms, which may be the cause; no oracle ({why_not})")
        return Review(note=f"infeasible with proven bounds only; no oracle ({why_not})")

    def _build_oracle(self, data: Any, variant: str) -> BuiltModel:
        self.problem(data)  # built here: the timed solve is the oracle's own work

        def compute() -> Solution:  # computed afresh, then shared with the certificates
            result = self.solve_oracle(data)
            self.remember_oracle(data, result)
            if result.status in ("infeasible", "unbounded"):
                raise NoSolution(Status(result.status),
                                 f"{result.method}: the bilevel problem is {result.status}")
            if result.status != "optimal":
                raise BilevelError(f"oracle: the bilevel problem is {result.status}")
            return Solution({"x": result.x, "y": result.y,
                             "lps": np.array(result.lps), "nodes": np.array(result.nodes),
                             "points": np.array(result.points),
                             "ties": np.array(result.ties)}, result.leader_value)

        return AlgorithmRun(compute).built()

    # ------------------------------------------------------------------ checks

    def certificate(self, data: Any, variant: str, solution: Solution) -> Certificate:
        problem = self.problem(data)
        x, y = solution.values["x"], solution.values["y"]
        if variant == ENUMERATION:
            return certify(problem, x, y)  # it is the oracle: follower re-solve only
        oracle, note = self.oracle(data)
        scale = float(solution.values.get("heuristic_scale", 1.0))
        return certify(problem, x, y, self.model(data, variant, scale), solution.values["v"],
                       oracle, note)

    def published_response(self, data: Any):
        """The optimistic follower response at the published leader decision (None when
        the case states none), computed once per case in a process."""
        key = _fingerprint(data)
        if key not in self._published:
            x = self.published_decision_of(data)
            self._published[key] = None if x is None else optimistic_response(
                self.problem(data), np.asarray(x, float))
        return self._published[key]

    def published_quantities(self, data: Any, leader_value: float) -> dict[str, float]:
        """The leader's value at the published decision, and how much better this run's
        own value is (>= 0: at least as good; in the leader's favour)."""
        response = self.published_response(data)
        if response is None:
            return {}
        if response.leader_value is None:  # not bilevel-feasible under this case's data
            return {"published_decision_feasible": 0.0}
        lead = 1.0 if self.problem(data).leader_sense == "min" else -1.0
        return {"published_decision_feasible": 1.0,
                "published_decision_value": response.leader_value,
                "published_decision_gap": lead * (response.leader_value - leader_value)}

    def published_checks(self, data: Any, leader_value: float) -> list[Check]:
        """A published decision better than this run's answer under the same data proves
        the answer is not optimal: a certificate failure."""
        q = self.published_quantities(data, leader_value)
        if "published_decision_gap" not in q:
            return []
        gap = q["published_decision_gap"]
        worse = -gap / max(1.0, abs(leader_value))
        return [Check("published_decision", leader_value, q["published_decision_value"],
                      abs(gap), None, Verdict.PASS if worse <= GAP_RTOL else Verdict.FAIL,
                      "certificate", f"rel {GAP_RTOL:g}",
                      "the follower re-solved at the publication's leader decision gives "
                      f"the leader {q['published_decision_value']:.10g}; this result "
                      f"{leader_value:.10g}")]

    def quantities(self, data: Any, variant: str, solution: Solution) -> dict[str, float]:
        problem = self.problem(data)
        x, y = solution.values["x"], solution.values["y"]
        cert = self.certificate(data, variant, solution)
        out = {"leader_objective": problem.leader_objective(x, y),
               "follower_objective": problem.follower_objective(x, y),
               "certified": float(cert.certified)}
        if self.variable_quantities in ("all", "leader"):
            out |= {f"x[{name}]": float(v) for name, v in zip(problem.leader_names, x,
                                                                strict=True)}
        if self.variable_quantities == "all":
            out |= {f"y[{name}]": float(v) for name, v in zip(problem.follower_names, y,
                                                                strict=True)}
        if cert.follower_gap is not None:
            out["follower_gap"] = cert.follower_gap
        out |= self.published_quantities(data, out["leader_objective"])
        if variant == ENUMERATION:
            for key in ("lps", "nodes", "points", "ties"):
                out[f"oracle_{key}"] = float(solution.values[key])
            return out
        oracle, _ = self.oracle(data)
        if oracle is not None and cert.oracle_gap is not None:
            out["oracle_value"] = oracle.leader_value
            out["oracle_gap"] = cert.oracle_gap
        scale = float(solution.values.get("heuristic_scale", 1.0))
        model = self.model(data, variant, scale)
        out |= {k: float(v) for k, v in model.size().items()}
        out["n_bigm_active_stated"] = float(len(cert.active_stated))
        heuristic = [limit for limit, source in zip(model.big_m.limits, model.big_m.sources,
                                                    strict=True) if source == HEURISTIC]
        if heuristic:  # the big-Ms' origin: how many were guessed, at what value, how often
            out["n_bigm_heuristic"] = float(len(heuristic))
            out["n_bigm_doublings"] = float(np.log2(scale))
            out["bigm_heuristic_value"] = float(max(heuristic))
        if "reformulate_s" in solution.values:
            out["reformulate_s"] = float(solution.values["reformulate_s"])
        return out

    def verify(self, data: Any, variant: str, solution: Solution) -> list[Check]:
        problem = self.problem(data)
        x, y = solution.values["x"], solution.values["y"]
        if np.any(~np.isfinite(x)) or np.any(~np.isfinite(y)):
            return [Check("solution_values", None, None, None, None, Verdict.FAIL, "solution",
                          "", "the backend returned no value for some variables")]
        cert = self.certificate(data, variant, solution)
        checks = [objective_check(solution.objective, problem.leader_objective(x, y),
                                  rel_tol=1e-6)]
        return (checks + cert.checks()
                + self.published_checks(data, problem.leader_objective(x, y)))

    # ------------------------------------------------------------------ report

    def report_section(self, runs: list[dict[str, Any]]) -> str:
        return comparison_table(runs)


def comparison_table(runs: list[dict[str, Any]]) -> str:
    """Per case and reformulation x backend/solver: model size, times (reform s: deriving
    the bounds and building the matrix form, part of build s), leader objective, agreement
    with the oracle, certification; then why each uncertified run is."""
    from tabulate import tabulate

    def number(value: Any, fmt: str = ".6g") -> str:
        return "" if value is None or isinstance(value, str) else format(value, fmt)

    rows, uncertified, skipped = [], [], set()
    order = {STRONG_DUALITY: 0, KKT_BIGM: 1, KKT_SOS1: 2, ENUMERATION: 3}
    for run in sorted(runs, key=lambda r: (r["case"], order.get(r["variant"], 9),
                                           r["backend"], r["solver"])):
        q, size = run["quantities"], run.get("model_size") or {}
        if run["status"] == "not_applicable":
            if (run["case"], run["variant"]) not in skipped:
                skipped.add((run["case"], run["variant"]))
                rows.append([run["case"], run["variant"], "(every backend)", "n/a",
                             *[""] * 11])
            continue
        if run["variant"] == ENUMERATION and q:
            shape = f"{q.get('oracle_lps', 0):.0f} LPs"
            if q.get("oracle_nodes"):
                shape += f", {q['oracle_nodes']:.0f} nodes"
            if q.get("oracle_points"):
                shape += f", {q['oracle_points']:.0f} points"
            dims = [shape, "", ""]
        elif size:
            dims = [str(size["variables"]), str(size["integer_variables"]),
                    str(size["constraints"])]
        else:
            dims = ["", "", ""]
        big_m = ""
        if q.get("n_bigm"):
            big_m = f"{q['n_bigm']:.0f}"
            if q.get("n_bigm_unproven"):
                kind = "heuristic" if q.get("n_bigm_heuristic") else "stated"
                big_m += f" ({q['n_bigm_unproven']:.0f} {kind}"
                if q.get("n_bigm_doublings"):
                    big_m += f" x{2 ** q['n_bigm_doublings']:.0f}"
                big_m += f", {q['n_bigm_active_stated']:.0f} active)" if q.get(
                    "n_bigm_active_stated") else ")"
        gap = q.get("oracle_gap")
        gap_text = "" if gap is None else ("0" if abs(gap) < 1e-12 else f"{gap:.1e}")
        certified = {1.0: "yes", 0.0: "NO"}.get(q.get("certified"), "")
        label = f"{run['backend']}/{run['solver']}"
        if run["status"] == "uncertified":
            reason = "; ".join(run.get("uncertified_reasons") or []) or run["message"]
            uncertified.append(f"- {run['case']} {run['variant']} {label}: {reason}")
        rows.append([run["case"], run["variant"], label, run["status"], *dims, big_m,
                     number(q.get("reformulate_s"), ".3f"),
                     number(run.get("build_time_s"), ".3f"),
                     number(run.get("solve_time_s"), ".3f"),
                     number(q.get("leader_objective"), ".8g"),
                     number(q.get("oracle_value"), ".8g"), gap_text, certified])
    headers = ["case", "reformulation", "backend/solver", "status", "vars", "int/bin",
               "rows", "big-Ms", "reform s", "build s", "solve s", "leader obj", "oracle",
               "abs gap", "certified"]
    text = tabulate(rows, headers, tablefmt="github", disable_numparse=True)  # terminal + md
    if uncertified:
        text += "\n\nUncertified runs (why):\n\n" + "\n".join(uncertified)
    return text


__all__ = ["ENUMERATION", "ORACLE_BACKEND", "BilevelKit", "comparison_table", "oracle_backend",
           "standard_variants"]
