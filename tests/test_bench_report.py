"""`gridbench bench-report`: SGM, profiles and exponents on synthetic timing files with
hand-computed numbers, and one command run writing report.md and the PNGs."""

from __future__ import annotations

import json
import math
import sys

import pytest
from click.testing import CliRunner

from bench import bench_report as br
from bench.cli import cli


def _row(case, backend, solver, status, build, solve, variables=100, variant="v",
         benchmark="synth", **extra):
    return {"benchmark": benchmark, "case": case, "variant": variant, "backend": backend,
            "solver": solver, "status": status, "repeats": 1, "build_s": build,
            "solve_s": solve, "variables": variables, "objective": 1.0, "ratio": None,
            "constraints": 10, "integers": 0, "bound": None, "nodes": None, "message": "",
            **extra}


def _write(tmp_path, name, rows, meta=None):
    path = tmp_path / name
    path.write_text(json.dumps({"meta": {"machine": "x86_64", "cpu_count": 2, **(meta or {})},
                                "rows": rows}))
    return path


def _synthetic(tmp_path):
    """Two runs of three pairs on two instances, T = 90 s (file meta). Medians: A 6 / 90,
    B 54 / 90, C 6 / error after 1 s. A's c1 is 4 s in one file and 8 s in the other."""
    first = [_row("c1", "x", "A", "optimal", 1.0, 3.0, handoff_s=2.0),
             _row("c1", "x", "B", "optimal", 4.0, 50.0),
             _row("c1", "y", "C", "optimal", 1.0, 5.0),
             _row("c2", "x", "A", "optimal", 10.0, 80.0, variables=1000),
             _row("c2", "x", "B", "optimal", 0.0, 90.0, variables=1000),
             _row("c2", "y", "C", "error", 0.5, 0.5, variables=1000)]
    second = [dict(r) for r in first]
    second[0] = _row("c1", "x", "A", "optimal", 1.0, 7.0, handoff_s=4.0)
    return (_write(tmp_path, "run1.json", first, {"time_limit_s": 90.0}),
            _write(tmp_path, "run2.json", second, {"time_limit_s": 90.0}))


def _report(tmp_path, **kwargs):
    files = br.read_bench_files(list(_synthetic(tmp_path)))
    return br.build_report(files, **kwargs)


def test_sgm_formula_by_hand():
    assert br.shifted_geometric_mean([6.0, 90.0]) == pytest.approx(30.0)  # sqrt(16*100) - 10
    assert br.shifted_geometric_mean([0.0, 30.0, 150.0]) == pytest.approx(30.0)  # cbrt(64000)
    assert br.shifted_geometric_mean([5.0], shift=0.0) == pytest.approx(5.0)
    assert br.shifted_geometric_mean([]) is None


def test_sgm_table_three_columns_with_penalties(tmp_path):
    report = _report(tmp_path)
    [table] = report.tables
    assert table.counts == (1, 2, 2)  # C failed c2: only c1 was solved by every pair
    rows = {r.pair[1]: r for r in table.rows}
    # (a) c1 only: A 6 (median of 4 and 8), B 54, C 6
    assert rows["A"].values[0] == pytest.approx(6.0)
    assert rows["B"].values[0] == pytest.approx(54.0)
    assert rows["B"].ratios[0] == pytest.approx(9.0)
    # (b) C's error at T = 90 (file meta): A sqrt(16*100)-10, B sqrt(64*100)-10, C as A
    assert [rows[p].values[1] for p in "ABC"] == pytest.approx([30.0, 70.0, 30.0])
    assert [rows[p].ratios[1] for p in "ABC"] == pytest.approx([1.0, 7 / 3, 1.0])
    # (c) C's error at 10 T = 900
    assert rows["C"].values[2] == pytest.approx(math.sqrt(16 * 910) - 10)
    assert rows["C"].ratios[2] == pytest.approx((math.sqrt(16 * 910) - 10) / 30)
    assert [rows[p].solved for p in "ABC"] == [2, 2, 1]
    entry = next(e for e in report.entries if e.solver == "A" and e.case == "c1")
    assert (entry.runs, entry.total_s, entry.handoff_s) == (2, 6.0, 3.0)  # handoff not added
    assert entry.time_limit_s == 90.0 and "meta" in entry.time_limit_source


def test_performance_profiles_known_fractions(tmp_path):
    [group] = _report(tmp_path).groups
    correct = br.group_profiles(group, correct=True)
    assert correct[("x", "A")] == pytest.approx([1.0, 1.0])
    assert correct[("x", "B")] == pytest.approx([9.0, 1.0])
    assert correct[("y", "C")][0] == 1.0 and correct[("y", "C")][1] == math.inf
    assert br.profile_fraction(correct[("x", "B")], 1.0) == 0.5
    assert br.profile_fraction(correct[("x", "B")], 8.99) == 0.5
    assert br.profile_fraction(correct[("x", "B")], 9.0) == 1.0
    assert br.profile_fraction(correct[("y", "C")], 1e9) == 0.5  # never solves c2
    fast = br.group_profiles(group, correct=False)  # C's 1 s error is the fastest on c2
    assert fast[("y", "C")] == pytest.approx([1.0, 1.0])
    assert fast[("x", "A")] == pytest.approx([1.0, 90.0])
    assert br.profile_fraction(fast[("x", "A")], 2.0) == 0.5


def test_performance_ratios_instance_nobody_solved():
    ratios = br.performance_ratios({("c", "v"): {("a", "1"): None, ("a", "2"): None},
                                    ("d", "v"): {("a", "1"): 2.0, ("a", "2"): 4.0}},
                                   [("a", "1"), ("a", "2")])
    assert ratios == {("a", "1"): [math.inf, 1.0], ("a", "2"): [math.inf, 2.0]}


def test_scaling_exponent_of_t_equals_a_n_squared(tmp_path):
    sizes = [100, 1000, 10_000]
    assert br.scaling_exponent(sizes, [3e-6 * n**2 for n in sizes]) == pytest.approx(2.0)
    assert br.scaling_exponent([100, 100], [1.0, 2.0]) is None  # one size: no slope
    rows = [_row(f"n{n}", "x", "A", "optimal", 0.0, 3e-6 * n**2, variables=n,
                 peak_memory_mb=0.5 * n) for n in sizes]
    rows.append(_row("n100000", "x", "A", "time_limit", 0.0, 60.0, variables=100_000))
    report = br.build_report(br.read_bench_files([_write(tmp_path, "s.json", rows)]))
    [fit] = report.fits
    assert fit.points == 3 and (fit.smallest, fit.largest) == (100, 10_000)
    assert fit.time_exponent == pytest.approx(2.0)  # the time_limit row is left out
    assert fit.memory_exponent == pytest.approx(1.0)
    assert "| 2.00 | 1.00 |" in br.fits_markdown(report.fits, memory=True)


def test_groups_split_by_variant_and_missing_rows_are_failures(tmp_path):
    rows = [_row("c1", "cvxpy", "qp", "optimal", 0.0, 2.0, variant="quad"),
            _row("c1", "pyomo", "qp", "optimal", 0.0, 4.0, variant="quad"),
            _row("c2", "cvxpy", "qp", "optimal", 0.0, 2.0, variant="quad"),
            # pyomo/qp stopped after c1 (a series): no row for c2
            _row("c1", "pulp", "lp", "optimal", 0.0, 1.0, variant="lin"),
            _row("c2", "pulp", "lp", "optimal", 0.0, 1.0, variant="lin"),
            _row("c2", "pulp", "nope", "unavailable", None, None, variant="lin")]
    report = br.build_report(br.read_bench_files([_write(tmp_path, "g.json", rows)]),
                             fallback_time_limit={"synth": 30.0})
    assert [g.label for g in report.groups] == ["synth / quad", "synth / lin"]
    quad = report.tables[0]
    assert quad.counts == (1, 2, 2)
    pyomo = next(r for r in quad.rows if r.pair == ("pyomo", "qp"))
    assert pyomo.values[1] == pytest.approx(math.sqrt(14 * 40) - 10)  # c2 at T = 30
    assert len(report.skipped) == 1 and "Left out (never timed)" in br.markdown(report)


def test_time_limit_from_row_before_meta_before_fallback(tmp_path):
    rows = [_row("c1", "x", "A", "error", 0.0, 1.0, time_limit_s=5.0),
            _row("c2", "x", "A", "error", 0.0, 1.0)]
    with_meta = _write(tmp_path, "a.json", rows, {"benchmarks": {"synth": {"time_limit_s": 7}}})
    without = _write(tmp_path, "b.json", [_row("c3", "x", "A", "error", 0.0, 1.0)])
    entries, _ = br.aggregate(br.read_bench_files([with_meta, without]), {"synth": 11.0})
    assert [e.time_limit_s for e in entries] == [5.0, 7.0, 11.0]
    entries, _ = br.aggregate(br.read_bench_files([without]), default_time_limit=13.0)
    assert entries[0].time_limit_s == 13.0


def test_mixed_statuses_of_one_key_are_not_optimal(tmp_path):
    one = _write(tmp_path, "1.json", [_row("c1", "x", "A", "optimal", 0.0, 1.0)])
    two = _write(tmp_path, "2.json", [_row("c1", "x", "A", "time_limit", 0.0, 3.0)])
    [entry], _ = br.aggregate(br.read_bench_files([one, two]))
    assert entry.status == "time_limit" and entry.runs == 2 and entry.total_s == 2.0


def test_command_writes_report_and_pngs(tmp_path):
    first, second = _synthetic(tmp_path)
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["bench-report", str(first), str(second), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "(b) failures at T, n = 2" in result.output and "2.33 (70 s)" in result.output
    names = {p.name for p in out.iterdir()}
    assert names == {"report.md", "synth_profiles.png", "synth_time_per_case.png",
                     "synth_scaling.png"}
    for name in names - {"report.md"}:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (out / "report.md").read_text()
    assert f"`{first}`" in text and "machine x86_64" in text
    assert "6 keys with 2 runs" in text and "exp(mean(log(t + s))) - s" in text
    assert "![performance profiles of synth](synth_profiles.png)" in text
    assert "| x/B | 2/2 | 9.00 (54 s) | 2.33 (70 s) | 2.33 (70 s) |" in text


@pytest.mark.parametrize("content, message", [
    (None, "no timing files given"),
    ("not json", "not a gridbench bench timing file (not JSON"),
    ('{"runs": []}', "no \"rows\" list) (a results file of `gridbench run`?)"),
    ('{"meta": {}, "rows": [{"benchmark": "b"}]}', "row 0 has no case, variant"),
    ('{"meta": {}, "rows": []}', "no timing rows in"),
    (json.dumps({"rows": [_row("c", "x", "A", "optimal", -1.0, 1.0)]}), "build_s = -1.0"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, content, message):
    args = ["bench-report", "-o", str(tmp_path / "out")]
    if content is not None:
        (tmp_path / "in.json").write_text(content)
        args.append(str(tmp_path / "in.json"))
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_missing_matplotlib_is_one_line_exit_2(tmp_path, monkeypatch):
    first, _ = _synthetic(tmp_path)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = CliRunner().invoke(cli, ["bench-report", str(first), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "matplotlib, which is not installed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_ratio_to_raw_and_the_peak_memory_are_columns_of_the_run_table(tmp_path):
    rows = [_row("c1", "raw", "highs", "optimal", 0.1, 0.5, handoff_s=0.1, raw_ratio=1.0,
                 peak_memory_mb=100.0),
            _row("c1", "cvxpy", "highs", "optimal", 0.1, 0.7, handoff_s=0.5, raw_ratio=3.0,
                 peak_memory_mb=150.0)]
    files = br.read_bench_files([_write(tmp_path, "run.json", rows)])
    entries, _ = br.aggregate(files)
    table = br.entries_markdown(entries, ["c1"])
    assert "build+handoff / raw" in table and "peak MB" in table
    cvxpy = next(line for line in table.splitlines() if "cvxpy/highs" in line)
    assert "| 3.0 |" in cvxpy and "| 150 |" in cvxpy
