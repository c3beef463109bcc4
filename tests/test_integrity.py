"""A green run means every check ran and passed (issue 12, first part): nothing a reference
or case file says is dropped silently, and no non-finite number slips through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import gridbench
from test_engine import PLUGINS, misbehaving

from bench.records import RunResult, Status

REFERENCE = """
formulation = "{formulation}"
seed = "tests"
[[reference]]
case = "{case}"
variants = ["{variant}"]
fidelity = "exact"
tolerance = {tolerance}
[reference.quantities]
{quantity} = {{ value = {value}, unit = "1", where = "tests"{extra} }}
"""


def reference(tmp_path, formulation="misbehaving", case="numbers_1", variant="fine",
              tolerance="{ rel = 1e-9 }", value="4.0", quantity="total", extra=""):
    path = tmp_path / "reference.toml"
    path.write_text(REFERENCE.format(formulation=formulation, case=case, variant=variant,
                                     tolerance=tolerance, value=value, quantity=quantity,
                                     extra=extra))
    return {"MISBEHAVING_REFERENCE": str(path)}


def test_a_matching_reference_is_checked_and_counted(tmp_path):
    out = tmp_path / "out.json"
    proc = misbehaving("run", "--variant", "fine", "--json", str(out),
                       env=reference(tmp_path))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(out.read_text())["summary"]
    assert summary["published_planned"] == summary["published_checked"] == 1
    assert "published values checked: 1 of 1 planned" in proc.stdout


@pytest.mark.parametrize("value", ["4.0", "5.0"])
def test_a_value_the_data_were_fitted_to_is_calibrated_never_passed(tmp_path, value):
    """Agreement with a calibration target is not a reproduction, and a miss is not a
    failure: the check reports its error with verdict "calibrated" either way."""
    out = tmp_path / "out.json"
    proc = misbehaving("run", "--variant", "fine", "--json", str(out), "--report",
                       str(tmp_path / "report.md"),
                       env=reference(tmp_path, value=value, extra=", calibrated = true"))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    checks = [c for r in doc["runs"] for c in r["checks"] if c["kind"] == "reference"]
    assert [c["verdict"] for c in checks] == ["calibrated"]
    assert checks[0]["abs_err"] == pytest.approx(abs(float(value) - 4.0))
    assert doc["summary"]["calibrated"] == 1 and doc["summary"]["passed"] == 0
    assert "1 calibrated (fitted to, not reproduced)" in proc.stdout
    assert "## Published values the data were fitted to" in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize("change, message", [
    ({"case": "numbers_9"}, "case 'numbers_9' is not a misbehaving case"),
    ({"variant": "fien"}, "variant 'fien' is not a variant of misbehaving"),
    ({"formulation": "misbehavin"}, "formulation 'misbehavin' is not registered"),
    ({"quantity": "totl"}, "quantity 'totl' is not a quantity of misbehaving (declared: total)"),
    ({"tolerance": "{ rel = inf }"}, "tolerance.rel: not a finite number"),
    ({"value": "nan"}, "not a finite number"),
])
def test_a_reference_that_would_check_nothing_is_an_input_error(tmp_path, change, message):
    path = reference(tmp_path, **change)["MISBEHAVING_REFERENCE"]
    proc = misbehaving("run", "--variant", "fine", "--reference-file", path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "reference.toml" in proc.stderr and message in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_a_plugin_with_a_broken_reference_file_is_left_out_and_the_rest_runs(tmp_path):
    """The plugin's own file names a case it does not have: its formulation is not run
    (its published values could not be checked), the built-ins run, the run fails."""
    env = {"PYTHONPATH": PLUGINS, **reference(tmp_path, case="numbers_9")}
    proc = gridbench("-p", "misbehaving_plugin", "run", "-f", "unit_commitment", "-b", "pulp",
                     "-s", "cbc", "-c", "uc_seed_reserve", env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "plugin 'misbehaving_plugin'" in proc.stderr
    assert "case 'numbers_9' is not a misbehaving case" in proc.stderr
    assert "; not run: misbehaving" in proc.stderr
    assert "2 runs (2 optimal)" in proc.stdout
    assert "1 invalid reference file(s)" in proc.stdout


CASE = """
[case]
name = "numbers_extra"
formulation = "misbehaving"
description = "test"
fidelity = "exact"
provenance = "tests"
[data]
numbers = [1.0, {number}]
"""


@pytest.mark.parametrize("number", ["nan", "inf", "-inf"])
def test_a_non_finite_number_in_a_case_is_refused(number):
    proc = misbehaving("run", "--variant", "fine", "-c", "numbers_extra",
                       env={"MISBEHAVING_EXTRA_CASE": CASE.format(number=number)})
    assert proc.returncode == 2
    assert "data.numbers[1]: not a finite number" in proc.stderr


def test_an_invalid_case_fails_a_default_run_unless_skipped_on_purpose(tmp_path):
    env = {"MISBEHAVING_EXTRA_CASE": CASE.format(number='"two"')}
    out = tmp_path / "out.json"
    proc = misbehaving("run", "--variant", "fine", "--json", str(out), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "gridbench: error: invalid case not run: MISBEHAVING_EXTRA_CASE" in proc.stderr
    assert "1 invalid case(s) not run" in proc.stdout
    assert json.loads(out.read_text())["summary"]["ok"] is False
    skipped = misbehaving("run", "--variant", "fine", "--skip-invalid-cases", env=env)
    assert skipped.returncode == 0
    assert "gridbench: warning: invalid case not run" in skipped.stderr


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_time_limit_must_be_a_finite_number(value):
    proc = misbehaving("run", "--time-limit", value)
    assert proc.returncode == 2 and "not a finite number" in proc.stderr


def test_a_run_at_its_time_limit_fails_unless_the_case_expects_it():
    run = RunResult("f", "v", "c", "b", "s", Status.TIME_LIMIT)
    assert run.failed
    run.time_limit_expected = True
    assert not run.failed


def test_prosumer_infinite_charge_cost_is_refused(registry):
    from bench.cases import CaseError, load_case, read_toml
    from bench.records import CaseSource

    formulation = registry.formulations["prosumer_sharing"]
    source = registry.cases["prosumer_seed_2"]
    raw = read_toml(__import__("pathlib").Path(source.origin))
    data = dict(raw["data"])
    key = next(k for k in data if k.startswith("charge_c"))
    value = data[key]
    data[key] = float("inf") if not isinstance(value, list) else [float("inf")] * len(value)
    broken = CaseSource(source.name, source.formulation, lambda: {**raw, "data": data},
                        source.origin)
    with pytest.raises(CaseError, match="not a finite number"):
        load_case(broken, formulation)


def test_an_unsupported_pair_is_not_applicable_with_the_reason(tmp_path):
    """kkt_sos1 needs SOS1: Pyomo/HiGHS (refuses SOS) and PuLP/HiGHS (drops them silently)
    are planned as not_applicable from declared features, never run into an error."""
    out = tmp_path / "out.json"
    proc = gridbench("run", "-f", "bilevel_textbook", "--variant", "kkt_sos1", "-c",
                     "bard1998_ex511", "-s", "highs", "-s", "cbc", "--json", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    runs = {(r["backend"], r["solver"]): r for r in json.loads(out.read_text())["runs"]}
    for pair in [("pyomo", "highs"), ("pulp", "highs"), ("cvxpy", "highs")]:
        assert runs[pair]["status"] == "not_applicable"
        assert "kkt_sos1 needs sos1" in runs[pair]["message"]
    assert runs[("pulp", "cbc")]["status"] == "optimal"


def test_list_shows_each_solvers_features():
    proc = gridbench("list")
    assert proc.returncode == 0
    lines = {tuple(line.split()[:2]): line for line in proc.stdout.splitlines()
             if line.split()[:1] in (["pyomo"], ["pulp"], ["cvxpy"])}
    assert "sos1" in lines[("pulp", "cbc")] and "sos1" not in lines[("pulp", "highs")]
    assert "quadratic_objective" in lines[("cvxpy", "osqp")]
    assert "integer" not in lines[("cvxpy", "osqp")]


def test_the_pulp_adapter_gives_one_dual_sign_convention():
    """max x s.t. x == 2 (x <= 5): the dual of the equality is +1 (objective gained per unit
    of right-hand side) from CBC and from HiGHS alike. In a subprocess: a PuLP/HiGHS solve
    followed by CVXPY/OSQP in one process segfaults (osqp 1.1.3, highspy 1.16.0: see
    docs/running.md), and later in-process tests use OSQP."""
    import subprocess
    import sys

    code = """
import pulp
from bench.records import SolveLimits
from bench.registry import load_registry
registry = load_registry()
backend = registry.backends["pulp"]
for solver in ("cbc", "highs"):
    prob = pulp.LpProblem("dual_sign", pulp.LpMaximize)
    x = pulp.LpVariable("x", upBound=5)
    prob += x
    prob += x == 2, "fix"
    outcome = backend.solve(prob, registry.solvers[("pulp", solver)], SolveLimits())
    print(solver, outcome.objective, prob.constraints["fix"].pi)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    values = {line.split()[0]: [float(v) for v in line.split()[1:]]
              for line in done.stdout.splitlines() if line.startswith(("cbc", "highs"))}
    assert values["cbc"] == pytest.approx([2.0, 1.0])
    assert values["highs"] == pytest.approx([2.0, 1.0])


def test_agreement_takes_the_best_certified_run_as_its_truth():
    """With a loose --mip-gap three runs stop at a worse cost and one finds the optimum:
    the optimum is the truth, the suboptimal runs fail and each failure names both sides. A
    run claiming a cost below the optimum's proven bound is no truth either."""
    from bench.records import Agreement, Check, Formulation, ProblemClass, Variant, Verdict
    from bench.validation import agreement_checks

    formulation = Formulation(
        "toy", "", (Variant("v", ProblemClass.MILP, ""),), object, {}, "m:q", "m:v",
        agreement=(Agreement(("total_cost",), rel=1e-6),))

    def run(solver: str, cost: float, ok: bool = True) -> RunResult:
        result = RunResult("toy", "v", "c", "b", solver, Status.OPTIMAL, objective=cost,
                           quantities={"total_cost": cost}, sense="min")
        if not ok:  # its own solution check failed: not a trustworthy truth
            result.checks.append(Check("objective_recomputed", 0, 1, 1, None, Verdict.FAIL,
                                       "solution"))
        return result

    runs = [run("first", 471_949_500.0), run("cbc", 471_947_000.0),
            run("broken", 400_000_000.0, ok=False), run("scip", 464_477_500.0),
            run("claims", 460_000_000.0)]  # passes its own checks, but see the bound
    runs[3].bound = 464_477_500.0  # SCIP proves no plan costs less
    checks = {d.solver: d.check for d in agreement_checks(runs, {"toy": formulation})}
    assert "scip" not in checks  # the truth is not checked against anything
    assert "proven bounds None vs 464477500.0" in checks["claims"].note
    for solver in ("first", "cbc", "broken", "claims"):
        assert checks[solver].verdict is Verdict.FAIL
        assert checks[solver].expected == 464_477_500.0
        assert f"v/b/{solver} gives" in checks[solver].note and "b/scip gives" in \
            checks[solver].note


@pytest.mark.parametrize("content, message", [
    (b'x = "\xff"\n', "not UTF-8 text (byte 0xff at offset 5)"),
    (b"x = " + b"9" * 5000 + b"\n", "not valid TOML: Exceeds the limit (4300 digits)"),
    (b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n", "not valid TOML: nested too deeply"),
])
@pytest.mark.parametrize("option", ["--reference-file", "--case-file"])
def test_an_unreadable_user_file_is_one_line_not_a_traceback(tmp_path, content, message,
                                                             option):
    path = tmp_path / "mine.toml"
    path.write_bytes(content)
    proc = gridbench("run", option, str(path))
    assert proc.returncode == 2
    assert proc.stderr == f"gridbench: error: {path}: {message}" + proc.stderr.split(
        message, 1)[1]
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_make_cases_reads_the_shared_folder_beside_the_repository(tmp_path, capsys):
    from conftest import REPO

    from gridbench_dg_contract_pricing import make_cases

    # the script is run from a checkout; under tox the plugin is installed elsewhere
    assert make_cases.REPOSITORY == Path(make_cases.__file__).resolve().parents[2]
    with pytest.raises(SystemExit) as exit_:
        make_cases.main(["--shared", str(tmp_path)])
    assert exit_.value.code == 2
    assert f"not found: {tmp_path}/seeds/" in capsys.readouterr().err
    assert "/work/" not in (REPO / "plugins/gridbench_dg_contract_pricing/make_cases.py"
                            ).read_text()


@pytest.mark.parametrize("suffix, content", [
    (".toml", b'x = "\xff"\n'), (".toml", b"x = " + b"9" * 5000 + b"\n"),
    (".json", b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
])
def test_an_unreadable_pbpm_spec_is_one_line(tmp_path, suffix, content):
    path = tmp_path / f"spec{suffix}"
    path.write_bytes(content)
    proc = gridbench("pbpm", str(path))
    assert proc.returncode == 2 and proc.stderr.startswith(f"gridbench: error: {path}: not ")
    assert proc.stderr.count("\n") == 1


def test_every_shipped_reference_quantity_is_declared(registry, book):
    """The built-in formulations declare their quantities, and the shipped references name
    only declared ones (a misspelt one is an input error when the file loads)."""
    for name, formulation in registry.formulations.items():
        if name.startswith(("bilevel", "dg", "market", "pbpm", "prosumer", "unit", "example")):
            assert formulation.quantity_names, name
    for ref in book.references:
        assert registry.formulations[ref.formulation].declares_quantity(ref.quantity), ref


def test_a_quantity_the_formulation_does_not_declare_fails_its_run():
    proc = misbehaving("run", "--variant", "fine", env={"MISBEHAVING_EXTRA_QUANTITY": "extra"})
    assert proc.returncode == 1
    assert "declared_quantities" in proc.stdout + proc.stderr
