"""bench/pytest_plugin.py: gridbench's benchmarks as pytest-benchmark tests.

Each test runs pytest in a subprocess (pytester) on the smallest case of the fastest
benchmark (pbpm_scaling, pbpm_gen_10: milliseconds per run, no solver), in an empty
directory: the plugin is loaded by its pytest11 entry point, as in any environment with
gridbench installed.
"""

from __future__ import annotations

import json

import pytest

from bench.pytest_plugin import INJECT_DELAY_ENV
from bench.runner import Selection, plan_runs

pytest.importorskip("pytest_benchmark")

pytest_plugins = ["pytester"]

SMALLEST = ["--gridbench-bench", "pbpm_scaling", "--gridbench-case", "pbpm_gen_10"]
ONE_PAIR = [*SMALLEST, "--gridbench-backend", "pbpm_python", "--gridbench-rounds", "3"]


def _json(path) -> dict:
    return json.loads(path.read_text())


def test_nothing_collected_without_the_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    assert result.stdout.lines[0] == "test_plain.py::test_plain"
    assert "test_bench" not in result.stdout.str()
    assert "1 test collected" in result.stdout.str()


def test_one_benchmark_per_planned_run(pytester: pytest.Pytester, registry) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")  # not collected
    out = pytester.path / "out.json"
    result = pytester.runpytest_subprocess(*SMALLEST, "--gridbench-rounds", "2",
                                           f"--benchmark-json={out}")
    benchmark = registry.benchmarks["pbpm_scaling"]
    plan = plan_runs(registry, Selection(formulations=(benchmark.formulation,),
                                         cases=("pbpm_gen_10",), backends=benchmark.backends))
    result.assert_outcomes(passed=len(plan.runs))
    assert len(plan.runs) == 2  # plain Python and NumPy
    data = _json(out)
    assert sorted(b["param"] for b in data["benchmarks"]) == sorted(
        f"pbpm_scaling-pbpm_gen_10-notebook-{r.backend}-{r.solver.name}" for r in plan.runs)
    for entry in data["benchmarks"]:
        info = entry["extra_info"]
        assert info["status"] == "optimal"
        assert info["checks_passed"] > 0 and info["checks_failed"] == 0
        assert info["failed_checks"] == []
        assert info["rounds"] == entry["stats"]["rounds"] == 2
        for phase in ("build_s", "handoff_s", "solve_s", "solver_s", "extract_s",
                      "validate_s"):
            assert phase in info
        assert info["build_s"] >= 0 and info["solve_s"] >= 0
        assert info["peak_memory_mb"] is None or info["peak_memory_mb"] >= 0
        assert entry["group"] == "pbpm_scaling pbpm_gen_10"
        assert entry["fullname"] == f"bench/pytest_benchmarks.py::{entry['name']}"


def test_compare_fail_catches_a_slowdown(pytester: pytest.Pytester,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    storage = f"file://{pytester.path / 'storage'}"
    first = pytester.runpytest_subprocess(*ONE_PAIR, "--benchmark-autosave",
                                          f"--benchmark-storage={storage}")
    first.assert_outcomes(passed=1)
    assert list((pytester.path / "storage").rglob("0001_*.json"))
    monkeypatch.setenv(INJECT_DELAY_ENV, "0.3")  # each round: milliseconds -> 0.3 s
    second = pytester.runpytest_subprocess(*ONE_PAIR, f"--benchmark-storage={storage}",
                                           "--benchmark-compare",
                                           "--benchmark-compare-fail=median:10%")
    assert second.ret != pytest.ExitCode.OK
    assert "Performance has regressed" in second.stdout.str() + second.stderr.str()


def test_a_wrong_answer_fails(pytester: pytest.Pytester) -> None:
    # a published value the run does not reproduce (pbpm_gen_10 has 17 prices)
    reference = pytester.makefile(".toml", wrong="""
        formulation = "pbpm"
        seed = "tests/test_pytest_plugin.py"

        [[reference]]
        case = "pbpm_gen_10"
        variants = ["notebook"]
        fidelity = "exact"
        tolerance = { abs = 0 }

        [reference.quantities]
        n_prices = { value = 16, unit = "-", where = "deliberately wrong" }
        """)
    out = pytester.path / "out.json"
    result = pytester.runpytest_subprocess(*ONE_PAIR, f"--gridbench-reference-file={reference}",
                                           f"--benchmark-json={out}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*not a result: status optimal*check n_prices failed "
                                 "(expected 16.0, got 17.0)*"])
    assert _json(out)["benchmarks"] == []  # a fast wrong answer is not a result
