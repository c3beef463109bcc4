"""The `gridbench` command as a user runs it: exit codes, tables, JSON, report, plugins."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO, gridbench

RUN_KEYS = {"formulation", "variant", "case", "backend", "solver", "status", "objective",
            "quantities", "checks", "build_time_s", "solve_time_s"}
CHECK_KEYS = {"quantity", "expected", "actual", "abs_err", "rel_err", "verdict"}


def test_list_shows_plugins_solvers_and_the_third_party_example(example_plugin_installed):
    proc = gridbench("list")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"example\s+gridbench-example-plugin", out)
    assert re.search(r"unit_commitment\s+gridbench\s", out)
    assert re.search(r"pulp\s+cbc\s+PULP_CBC_CMD\s+LP MILP\s+duals integer sos1\s+yes", out)
    assert re.search(r"pyomo\s+gurobi\s+gurobi_direct.*\s(yes|no)\s", out)
    assert "uc_seed_reserve" in out and "knapsack_small" in out


def test_run_writes_json_and_report(tmp_path):
    out, report = tmp_path / "out.json", tmp_path / "report.md"
    proc = gridbench("run", "-f", "unit_commitment", "-b", "pulp", "-s", "highs",
                     "--json", str(out), "--report", str(report))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(out.read_text())
    assert {"gridbench_version", "python", "platform", "packages", "solvers",
            "started_at"} <= set(doc["meta"])
    assert doc["meta"]["solvers"]["pulp/highs"]["available"] is True
    assert len(doc["runs"]) == 4
    for run in doc["runs"]:
        assert RUN_KEYS <= set(run)
        assert all(CHECK_KEYS <= set(check) for check in run["checks"])
    assert doc["derived_checks"][0]["name"] == "saving"
    assert doc["summary"]["ok"] is True
    text = report.read_text()
    assert "# gridbench validation report" in text and "tariff_3" in text
    assert "OK: 4 runs" in proc.stdout
    # the table has one row per run with the documented columns
    header = proc.stdout.splitlines()[0].split()
    assert header == ["formulation", "variant", "case", "backend", "solver", "status",
                      "objective", "build", "s", "solve", "s", "checks"]
    rendered = gridbench("report", str(out))
    assert rendered.returncode == 0 and "tariff_3" in rendered.stdout


@pytest.mark.parametrize("args, message", [
    (["run", "-f", "no_such_formulation"], "unknown formulation 'no_such_formulation'"),
    (["run", "-f", "unit_commitment", "-c", "nope"], "unknown case 'nope'"),
    # dozens of cases: the closest names, not all of them
    (["run", "-c", "uc_seed_reserv"], "unknown case 'uc_seed_reserv' (did you mean "
                                      "uc_seed_noreserve, uc_seed_reserve? "),
    (["run", "-f", "unit_commitment", "--variant", "x"], "unknown variant 'x'"),
    (["run", "-f", "unit_commitment", "-s", "cbc", "-b", "cvxpy"], "no runs match"),
    (["run", "-f", "prosumer_sharing", "-b", "pulp_dicts"],
     "no runs match the selection (prosumer_sharing is not written for pulp_dicts)"),
    (["run", "--time-limit", "-3"], "Invalid value for '--time-limit'"),
    (["run", "--bogus"], "No such option"),
])
def test_usage_and_input_errors_exit_2_with_one_line(args, message):
    proc = gridbench(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unwritable_results_path_is_an_input_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = gridbench("run", "-f", "unit_commitment", "--json", str(blocker / "out.json"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_a_reference_given_twice_is_reported_for_the_plugin_that_repeats_it(tmp_path):
    (tmp_path / "twice.py").write_text(f"""
from bench.hookspecs import hookimpl

@hookimpl
def gridbench_references():
    return [{str(REPO / "reference_results" / "unit_commitment.toml")!r}]
""")
    proc = gridbench("-p", "twice", "run", "-f", "unit_commitment",
                     env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "plugin 'twice'" in proc.stderr and "has two reference values" in proc.stderr
    assert "OK" not in proc.stdout and "1 invalid reference file(s)" in proc.stdout


def test_a_failing_reference_check_exits_1(tmp_path):
    (tmp_path / "extra_reference.py").write_text('''
from pathlib import Path
from bench.hookspecs import hookimpl

@hookimpl
def gridbench_references():
    path = Path(__file__).with_name("extra.toml")
    path.write_text("""
formulation = "unit_commitment"
seed = "test"
[[reference]]
case = "uc_seed_reserve"
variants = ["startup_coupled"]
fidelity = "exact"
tolerance = { rel = 1e-9 }
[reference.quantities]
total_cost = { value = 1.0, unit = "USD", where = "deliberately wrong" }
""")
    return [path]
''')
    proc = gridbench("-p", "extra_reference", "run", "-f", "unit_commitment", "-b", "pulp",
                     "-s", "highs", "-c", "uc_seed_reserve", env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Checks that did not pass" in proc.stdout and "deliberately wrong" in proc.stdout
    assert "FAILED" in proc.stdout


@pytest.mark.parametrize("mode, stage", [("import", "import"),
                                         ("hook", "hook gridbench_formulations")])
def test_a_broken_third_party_plugin_is_reported_and_the_run_goes_on(
        example_plugin_installed, tmp_path, mode, stage):
    out = tmp_path / "out.json"
    proc = gridbench("run", "-f", "unit_commitment", "-b", "pulp", "-s", "cbc",
                     "--json", str(out), env={"GRIDBENCH_EXAMPLE_BREAK": mode})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"plugin 'example' (gridbench-example-plugin) skipped, {stage}" in proc.stderr
    assert "broken on purpose" in proc.stderr
    doc = json.loads(out.read_text())
    assert {r["formulation"] for r in doc["runs"]} == {"unit_commitment"}
    assert doc["meta"]["plugin_problems"][0]["plugin"] == "example"
    listing = gridbench("list", env={"GRIDBENCH_EXAMPLE_BREAK": mode})
    assert listing.returncode == 0 and "example_knapsack" not in listing.stdout
    strict = gridbench("run", "-f", "unit_commitment", "-b", "pulp", "-s", "cbc", "--strict",
                       env={"GRIDBENCH_EXAMPLE_BREAK": mode})
    assert strict.returncode == 1


def test_the_example_plugin_runs_like_a_builtin(example_plugin_installed):
    proc = gridbench("run", "-f", "example_knapsack")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"example_knapsack\s+default\s+knapsack_small\s+pulp\s+cbc\s+optimal\s+90",
                     proc.stdout)


def test_a_blocked_plugin_is_gone():
    proc = gridbench("-p", "no:cvxpy", "list")
    assert proc.returncode == 0 and not re.search(r"^cvxpy\s", proc.stdout, re.M)


def test_readme_commands_and_ci_agree():
    lines = (REPO / "README.md").read_text().splitlines()
    commands = [line.strip() for line in lines[:12] if line.strip().startswith("python3 ")]
    assert len(commands) == 2, commands
    assert "gridbench run" in commands[0] and "--report" in commands[0]
    assert commands[1] in (REPO / ".ci" / "run").read_text()
