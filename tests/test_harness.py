"""Harness features used by every formulation: agreement between runs, certificates,
per-variant default solvers, non-default (scaling) cases, algorithm backends, benchmarks and
plugin commands. A tiny in-process plugin exercises them without any modelling library."""

from __future__ import annotations

import json
import types

import click
import numpy as np
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from bench.algorithm import AlgorithmBackend, AlgorithmRun
from bench.cli import cli
from bench.hookspecs import hookimpl
from bench.records import (
    Agreement,
    Benchmark,
    CaseSource,
    Check,
    Formulation,
    ProblemClass,
    RunResult,
    Solution,
    Status,
    Variant,
    Verdict,
)
from bench.references import load_references
from bench.registry import load_registry
from bench.runner import Selection, execute, plan_runs
from bench.validation import agreement_checks


class SumData(BaseModel):
    numbers: list[float]
    certificate_ok: bool = True


def _build(offset: float):
    def build(data: SumData, variant: str):
        return AlgorithmRun(lambda: Solution({"total": np.array(sum(data.numbers) + offset)},
                                             objective=sum(data.numbers) + offset)).built()
    return build


def _verify(data: SumData, variant: str, solution: Solution) -> list[Check]:
    verdict = Verdict.PASS if data.certificate_ok else Verdict.FAIL
    return [Check("toy_certificate", None, None, None, None, verdict, "certificate")]


def _case(name: str, numbers: list[float], default: bool = True, ok: bool = True,
          variants: tuple[str, ...] = (), time_limit_s: float | None = None) -> CaseSource:
    raw = {"case": {"name": name, "formulation": "toy_sum", "description": "toy",
                    "fidelity": "exact", "provenance": "test", "variants": list(variants),
                    "time_limit_s": time_limit_s},
           "data": {"numbers": numbers, "certificate_ok": ok}}
    return CaseSource(name, "toy_sum", lambda: raw, "test", default=default)


def _toy_plugin(offset_fast: float = 0.0):
    fast, slow = AlgorithmBackend("toy_fast", "1"), AlgorithmBackend("toy_slow", "1")
    formulation = Formulation(
        name="toy_sum", description="sum of numbers", case_schema=SumData,
        variants=(Variant("plain", ProblemClass.ALGORITHM, "sum"),
                  Variant("only_fast", ProblemClass.ALGORITHM, "sum",
                          default_solvers={"toy_fast": ("builtin",)})),
        implementations={"toy_fast": _build(offset_fast), "toy_slow": _build(0.0)},
        quantities=lambda data, variant, sol: {"total": float(sol.values["total"])},
        verify=_verify, agreement=(Agreement(("total",), rel=1e-9),),
        report_section=lambda runs: f"{len(runs)} toy runs")

    @click.command("toy-hello")
    def hello():
        click.echo("hello from a plugin command")

    return types.SimpleNamespace(
        gridbench_backends=hookimpl(lambda: [fast, slow]),
        gridbench_solvers=hookimpl(lambda: [fast.solver(), slow.solver()]),
        gridbench_formulations=hookimpl(lambda: [formulation]),
        gridbench_cases=hookimpl(lambda: [_case("toy_a", [1, 2, 3]),
                                          _case("toy_big", [1] * 1000, default=False),
                                          _case("toy_bad_cert", [1], ok=False),
                                          _case("toy_plain_only", [2], variants=("plain",)),
                                          _case("toy_one_pair", [2], variants=(
                                              "plain:toy_slow/builtin",))]),
        gridbench_benchmarks=hookimpl(lambda: [Benchmark(
            "toy_bench", "toy timing", "toy_sum", cases=("toy_a", "toy_big"),
            variants=("plain",), repeat=2, series=True)]),
        gridbench_commands=hookimpl(lambda: [hello]))


@pytest.fixture
def toy_registry():
    return load_registry(autoload=False, extra_plugins=[("toy", _toy_plugin())])


def _run(registry, **selection) -> list[RunResult]:
    plan = plan_runs(registry, Selection(formulations=("toy_sum",), **selection))
    book = load_references([])
    return [execute(run, registry, book, 10) for run in plan.runs]


def test_default_solvers_and_non_default_cases(toy_registry):
    runs = _run(toy_registry)
    keys = {(r.variant, r.case, r.backend) for r in runs}
    assert ("only_fast", "toy_a", "toy_fast") in keys
    assert ("only_fast", "toy_a", "toy_slow") not in keys  # variant names toy_fast only
    assert not any(r.case == "toy_big" for r in runs)  # scaling case: not in a plain run
    named = _run(toy_registry, cases=("toy_big",))
    assert {r.case for r in named} == {"toy_big"}
    forced = _run(toy_registry, variants=("only_fast",), solvers=("builtin",))
    assert {r.backend for r in forced} == {"toy_fast", "toy_slow"}  # -s overrides defaults


def test_a_failed_certificate_makes_the_run_uncertified_and_failed(toy_registry):
    runs = {(r.case, r.backend, r.variant): r for r in _run(toy_registry)}
    good = runs["toy_a", "toy_fast", "plain"]
    assert good.status is Status.OPTIMAL and not good.failed
    bad = runs["toy_bad_cert", "toy_fast", "plain"]
    assert bad.status is Status.UNCERTIFIED and bad.failed


def test_agreement_catches_implementations_that_disagree():
    registry = load_registry(autoload=False, extra_plugins=[("toy", _toy_plugin(1e-3))])
    runs = _run(registry, cases=("toy_a",), variants=("plain",))
    (check,) = agreement_checks(runs, registry.formulations)
    assert check.check.verdict is Verdict.FAIL and check.check.abs_err == pytest.approx(1e-3)
    agreeing = load_registry(autoload=False, extra_plugins=[("toy", _toy_plugin())])
    (ok,) = agreement_checks(_run(agreeing, cases=("toy_a",), variants=("plain",)),
                             agreeing.formulations)
    assert ok.check.verdict is Verdict.PASS


def _cli(*args: str):
    # the CLI loads plugins itself: hand it the toy plugin through a module on sys.path
    return CliRunner().invoke(cli, ["--disable-plugin-autoload", "-p", "toy_plugin_module",
                                    *args])


@pytest.fixture
def toy_module(monkeypatch):
    module = types.ModuleType("toy_plugin_module")
    for name, value in vars(_toy_plugin()).items():
        setattr(module, name, value)
    monkeypatch.setitem(__import__("sys").modules, "toy_plugin_module", module)


def test_plugin_commands_benchmarks_and_sections(toy_module, tmp_path):
    hello = _cli("toy-hello")
    assert hello.exit_code == 0 and "hello from a plugin command" in hello.output
    assert "toy-hello" in _cli("--help").output
    listing = _cli("bench")
    assert "toy_bench" in listing.output
    timed = _cli("bench", "toy_bench", "--json", str(tmp_path / "t.json"))
    assert timed.exit_code == 0, timed.output
    assert "largest case solved" in timed.output and "toy_big" in timed.output
    saved = json.loads((tmp_path / "t.json").read_text())["rows"]
    assert {r["case"] for r in saved} == {"toy_a", "toy_big"}
    # every attempt ran in a forked worker: its peak memory and the time limit are recorded
    assert all(r["time_limit_s"] == 60.0 for r in saved)
    assert all(r["peak_memory_mb"] is not None and r["peak_memory_mb"] >= 0 for r in saved)
    assert _cli("bench", "nope").exit_code == 2
    one = _cli("bench", "toy_bench", "-c", "toy_big")  # a benchmark's own filters
    assert one.exit_code == 0 and "toy_big" in one.output and "toy_a " not in one.output
    outside = _cli("bench", "toy_bench", "-c", "toy_plain_only")
    assert outside.exit_code == 2 and "not in benchmark 'toy_bench'" in outside.output
    run = _cli("run", "-c", "toy_a", "--json", str(tmp_path / "r.json"))
    assert run.exit_code == 0, run.output
    assert "toy_sum\n3 toy runs" in run.output  # the formulation's report section
    assert "Agreement between runs: 1 of 1 checks pass" in run.output


def test_a_case_can_name_the_variants_of_its_default_run(toy_registry):
    default = {r.variant for r in _run(toy_registry, cases=("toy_plain_only",))}
    assert default == {"plain"}
    named = {r.variant for r in _run(toy_registry, cases=("toy_plain_only",),
                                     variants=("only_fast",))}
    assert named == {"only_fast"}
    pair = {(r.variant, r.backend) for r in _run(toy_registry, cases=("toy_one_pair",))}
    assert pair == {("plain", "toy_slow")}  # "variant:backend/solver" names one pair


def test_a_malformed_default_run_entry_is_a_case_error(toy_registry):
    from bench.cases import CaseError, load_case

    formulation = toy_registry.formulations["toy_sum"]
    for entry, words in (("nope", "unknown variants nope"),
                         ("plain:toy_slow", "not 'variant' or 'variant:backend/solver'")):
        with pytest.raises(CaseError, match=words):
            load_case(_case("bad", [1], variants=(entry,)), formulation)


def test_a_case_time_limit_applies_unless_the_user_gives_one(toy_registry):
    from bench.cases import CaseError, load_case
    from bench.records import SolveLimits
    from bench.runner import run_plan

    toy_registry.cases["toy_slow_case"] = _case("toy_slow_case", [1], time_limit_s=900.0)
    plan = plan_runs(toy_registry, Selection(formulations=("toy_sum",),
                                             cases=("toy_slow_case", "toy_a")))
    book = load_references([])
    limits = SolveLimits(time_limit_s=7.0)
    own = {(r.case, r.time_limit_s) for r in run_plan(plan, toy_registry, book, limits,
                                                      case_time_limits=True)}
    assert own == {("toy_slow_case", 900.0), ("toy_a", 7.0)}
    given = {r.time_limit_s for r in run_plan(plan, toy_registry, book, limits)}
    assert given == {7.0}  # an explicit --time-limit wins
    with pytest.raises(CaseError, match="time_limit_s"):
        load_case(_case("bad", [1], time_limit_s=-1.0), toy_registry.formulations["toy_sum"])
