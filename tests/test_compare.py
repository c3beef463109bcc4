"""`gridbench compare BASE NEW`: real results and bench files, and edited copies of them."""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner
from conftest import gridbench

from bench.cli import cli
from bench.compare import NOISE_FLOOR_S, compare_files, status_direction, verdict_direction

RUN = ("run", "-f", "bilevel_textbook", "-c", "bard1998_ex511", "-b", "pulp",
       "--variant", "kkt_bigm", "--variant", "kkt_sos1")
BENCH = ("bench", "pbpm_scaling", "-c", "pbpm_gen_10", "--repeat", "1")


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """Two results files of the same small run (3 optimal runs) and one bench file."""
    folder = tmp_path_factory.mktemp("compare")
    paths = {name: folder / f"{name}.json" for name in ("base", "again", "bench")}
    commands = [(*RUN, "--json", str(paths["base"])), (*RUN, "--json", str(paths["again"])),
                (*BENCH, "--json", str(paths["bench"]))]
    with ThreadPoolExecutor(3) as pool:
        for proc in pool.map(lambda args: gridbench(*args), commands):
            assert proc.returncode == 0, proc.stdout + proc.stderr
    return paths


def _compare(*args):
    return CliRunner().invoke(cli, ["compare", *map(str, args)])


def _edited(real, tmp_path, edit, name="base"):
    doc = json.loads(real[name].read_text())
    edit(doc)
    path = tmp_path / f"edited_{name}.json"
    path.write_text(json.dumps(doc))
    return path


def _run(doc, variant, solver):
    return next(r for r in doc["runs"] if r["variant"] == variant and r["solver"] == solver)


def test_two_runs_of_the_same_code_compare_clean(real):
    proc = gridbench("compare", str(real["base"]), str(real["again"]),
                     "--fail-on-slowdown", "1.5")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK: no correctness regression (0 status changes, 0 check changes" in proc.stdout
    assert "no slowdown beyond the noise" in proc.stdout
    comparison = compare_files(real["base"], real["again"])
    assert comparison.matched == 3 and len(comparison.timings) == 3
    assert not comparison.regressions and not comparison.only


def test_a_check_that_now_fails_exits_1_and_names_run_and_check(real, tmp_path):
    def flip(doc):
        _run(doc, "kkt_bigm", "cbc")["checks"][0]["verdict"] = "fail"

    new = _edited(real, tmp_path, flip)
    result = _compare(real["base"], new)
    assert result.exit_code == 1, result.output
    check = json.loads(real["base"].read_text())["runs"][0]["checks"][0]["quantity"]
    line = (f"bilevel_textbook/kkt_bigm/bard1998_ex511 pulp/cbc: check {check} "
            "(solution) pass -> fail")
    assert "REGRESSION: 1 correctness regression" in result.output
    assert line in result.output
    # the other way round is an improvement, not a regression
    back = _compare(new, real["base"])
    assert back.exit_code == 0 and "1 improvement" in back.output


def test_a_worse_status_exits_1_and_a_better_one_does_not(real, tmp_path):
    def crash(doc):
        run = _run(doc, "kkt_sos1", "cbc")
        run.update(status="error", checks=[], objective=None)

    new = _edited(real, tmp_path, crash)
    result = _compare(real["base"], new)
    assert result.exit_code == 1, result.output
    assert ("bilevel_textbook/kkt_sos1/bard1998_ex511 pulp/cbc: status optimal -> error"
            in result.output)
    assert "worse (REGRESSION)" in result.output
    better = _compare(new, real["base"])
    assert better.exit_code == 0 and "better" in better.output


def test_the_status_order():
    order = ["optimal", "uncertified", "time_limit", "infeasible", "error"]
    for i, worse in enumerate(order):
        for better in order[:i]:
            assert status_direction(better, worse) == "worse"
            assert status_direction(worse, better) == "better"
    assert status_direction("uncertified", "feasible") == "neutral"
    assert status_direction("infeasible", "unbounded") == "neutral"
    for skip in ("not_applicable", "unavailable"):
        assert status_direction("optimal", skip) == status_direction(skip, "error") == "neutral"
    assert verdict_direction("pass", "deviation") == "worse"
    assert verdict_direction("pass", "calibrated") == "neutral"


def test_an_optimal_run_missing_from_new_is_a_regression(real, tmp_path):
    def drop(doc):
        doc["runs"] = [r for r in doc["runs"] if r["solver"] != "highs"]
        doc["derived_checks"] = []

    fewer = _edited(real, tmp_path, drop)
    result = _compare(real["base"], fewer)
    assert result.exit_code == 1
    assert ("bilevel_textbook/kkt_bigm/bard1998_ex511 pulp/highs: optimal in BASE, missing "
            "from NEW") in result.output
    more = _compare(fewer, real["base"])  # a run only in NEW is reported, not failed
    assert more.exit_code == 0 and "Runs in one file only" in more.output


def test_an_objective_change_is_reported_not_failed(real, tmp_path):
    def move(doc):
        _run(doc, "kkt_bigm", "highs")["objective"] = -11.5

    result = _compare(real["base"], _edited(real, tmp_path, move))
    assert result.exit_code == 0, result.output
    assert "Objective changes" in result.output and "-11.5" in result.output


@pytest.mark.parametrize("added, flag, code", [
    (3.0, (), 0),  # a slowdown beyond the floor, not asked to fail on
    (3.0, ("--fail-on-slowdown", "1.5"), 1),
    (0.5, ("--fail-on-slowdown", "1.5"), 0),  # x5 or more, but below the 1 s floor
    (0.5, ("--fail-on-slowdown", "1.5", "--noise-floor", "0.2"), 1),
    (3.0, ("--fail-on-slowdown", "1000"), 0),  # beyond the floor, below the factor
])
def test_a_slowdown_fails_only_when_asked_and_beyond_the_noise(real, tmp_path, added, flag,
                                                                 code):
    def slow(doc):
        _run(doc, "kkt_sos1", "cbc")["solve_time_s"] += added

    result = _compare(real["base"], _edited(real, tmp_path, slow), *flag)
    assert result.exit_code == code, result.output
    label = "bilevel_textbook/kkt_sos1/bard1998_ex511 pulp/cbc"
    if code:
        assert "SLOWDOWN: 1 run more than 1.5 x BASE" in result.output
        assert f"  {label}: " in result.output
    if added > NOISE_FLOOR_S and not code:
        assert label in result.output  # listed in the timing table all the same


def test_bench_rows(real, tmp_path):
    same = _compare(real["bench"], real["bench"], "--fail-on-slowdown", "1.5", "--all-timings")
    assert same.exit_code == 0, same.output
    assert "2 bench rows" in same.output and "pbpm_scaling: pbpm_gen_10 notebook" in same.output

    def slow_and_broken(doc):
        doc["rows"][0]["solve_s"] = (doc["rows"][0]["solve_s"] or 0) + 2.0
        doc["rows"][1]["status"] = "time_limit"

    new = _edited(real, tmp_path, slow_and_broken, "bench")
    result = _compare(real["bench"], new)
    assert result.exit_code == 1, result.output
    row = json.loads(real["bench"].read_text())["rows"][1]
    assert (f"pbpm_scaling: pbpm_gen_10 notebook {row['backend']}/builtin: status optimal -> "
            "time_limit") in result.output
    assert "slower" in result.output and "SLOWDOWN" not in result.output

    def slow_only(doc):
        doc["rows"][0]["solve_s"] = (doc["rows"][0]["solve_s"] or 0) + 2.0

    slow = _edited(real, tmp_path, slow_only, "bench")
    assert _compare(real["bench"], slow).exit_code == 0
    assert _compare(real["bench"], slow, "--fail-on-slowdown", "2").exit_code == 1


def test_files_of_different_kinds_are_refused(real):
    proc = gridbench("compare", str(real["base"]), str(real["bench"]))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "is a results file (gridbench run --json) but NEW" in proc.stderr
    assert "a timing file (gridbench bench --json)" in proc.stderr


@pytest.mark.parametrize("content, message", [
    ("{not json", "not JSON"),
    ("[1, 2]", "neither a results file"),
    ('{"meta": {}, "summary": {}}', "neither a results file"),
    ('{"meta": {}, "runs": [{"formulation": "f"}]}', "run 1 has no text 'variant'"),
    ('{"meta": {}, "rows": [7]}', "row 1 is not an object"),
    (None, "cannot read"),
])
def test_a_malformed_or_missing_file_is_refused(real, tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    for args in ((path, real["base"]), (real["base"], path)):
        result = _compare(*args)
        assert result.exit_code == 2, result.output
        assert message in result.stderr and result.stderr.count("\n") == 1


def test_a_broken_run_in_a_results_file_is_refused(real, tmp_path):
    def bad(doc):
        doc["runs"][0]["checks"] = [{"quantity": "x"}]
        doc["runs"][1]["objective"] = "many"

    result = _compare(_edited(real, tmp_path, bad), real["base"])
    assert result.exit_code == 2 and "'checks' is not a list of checks" in result.stderr
    doc = copy.deepcopy(json.loads(real["base"].read_text()))
    doc["runs"][1]["objective"] = "many"
    path = tmp_path / "objective.json"
    path.write_text(json.dumps(doc))
    result = _compare(path, real["base"])
    assert result.exit_code == 2 and "run 2: 'objective' is not a number" in result.stderr


def test_the_noise_floor_default_is_the_modules():
    option = next(p for p in cli.commands["compare"].params if p.name == "floor")
    assert option.default == NOISE_FLOOR_S
