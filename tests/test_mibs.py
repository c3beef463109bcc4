"""The MibS / BOBILib instance format (bench/bilevel/mibs.py): read an .aux/.mps pair as a
bilevel_textbook case, write the engine's matrix form, run one with --case-file, export a
registered case with `gridbench export-mibs`."""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, gridbench

from bench.bilevel.mibs import MibsError, read_mibs, write_mibs
from bench.bilevel.oracle import solve_exact
from bench.bilevel.problem import GRID, INTEGER, BilevelBuilder, BilevelProblem
from bench.cases import read_toml
from bench.errors import InputError
from gridbench_bilevel_textbook.data import BilevelTextbookData, problem_from_data

DATA = REPO / "tests" / "data" / "mibs"
TEXTBOOK = sorted((REPO / "cases" / "bilevel_textbook").glob("*.toml"))
REFUSED = {"candler_townsley_1982_grid": "grid of 11 values"}  # 0, 0.1, ..., 1: no integers


def _problem(raw: dict) -> BilevelProblem:
    return problem_from_data(BilevelTextbookData.model_validate(raw["data"]))


def _rows(p: BilevelProblem) -> dict[str, tuple[str, tuple[float, ...], float]]:
    """Every row by name: (sense, dense coefficients over [x, y], rhs), in the form
    ``coefficients . (x, y) (sense) rhs``."""
    follower = np.hstack([-p.B.toarray(), p.A.toarray()])
    leader = np.hstack([p.Gx.toarray(), p.Gy.toarray()])
    out = {}
    for names, senses, matrix, rhs in ((p.row_names, p.row_sense, follower, p.b0),
                                       (p.leader_row_names, p.leader_row_sense, leader, p.h)):
        for k, name in enumerate(names):
            out[name] = (senses[k], tuple(matrix[k]), float(rhs[k]))
    return out


def _assert_same_problem(original: BilevelProblem, read: BilevelProblem) -> None:
    """The same bilevel problem up to row order, with both objectives as minimisations (the
    format's form: a maximising level is written negated)."""
    lead = 1.0 if original.leader_sense == "min" else -1.0
    follow = 1.0 if original.follower_sense == "min" else -1.0
    assert read.leader_sense == read.follower_sense == "min"
    assert read.leader_names == original.leader_names
    assert read.follower_names == original.follower_names
    kinds = tuple(INTEGER if kind == GRID else kind for kind in original.leader_kind)
    assert read.leader_kind == kinds
    for attr in ("leader_lower", "leader_upper", "follower_lower", "follower_upper"):
        np.testing.assert_array_equal(getattr(read, attr), getattr(original, attr), attr)
    np.testing.assert_allclose(read.fx, lead * original.fx)
    np.testing.assert_allclose(read.fy, lead * original.fy)
    assert read.leader_const == pytest.approx(lead * original.leader_const)
    np.testing.assert_allclose(read.c0, follow * original.c0)
    assert read.Q.nnz == read.C.nnz == 0
    assert _rows(read) == _rows(original)
    assert set(read.row_names) == set(original.row_names)  # the follower's rows stay its own


@pytest.mark.parametrize("path", TEXTBOOK, ids=lambda p: p.stem)
def test_every_textbook_case_round_trips_or_is_refused(path, tmp_path):
    original = _problem(read_toml(path))
    if path.stem in REFUSED:
        with pytest.raises(MibsError, match=REFUSED[path.stem]):
            write_mibs(original, tmp_path, path.stem)
        assert not list(tmp_path.iterdir())
        return
    mps, aux = write_mibs(original, tmp_path, path.stem)
    assert (mps.name, aux.name) == (f"{path.stem}.mps", f"{path.stem}.aux")
    raw = read_mibs(aux)
    assert raw["case"]["name"] == path.stem and raw["case"]["formulation"] == "bilevel_textbook"
    read = _problem(raw)
    _assert_same_problem(original, read)
    before, after = solve_exact(original), solve_exact(read)
    assert before.status == after.status == "optimal"
    lead = 1.0 if original.leader_sense == "min" else -1.0
    assert after.leader_value == pytest.approx(lead * before.leader_value, abs=1e-9)


def test_a_maximising_leader_with_a_constant_round_trips(tmp_path):
    """Written as the minimisation of the negated objective, its constant as the objective
    row's right-hand side; the follower's constant terms are dropped (they do not move its
    answer); a coupling leader row keeps its follower variable."""
    b = BilevelBuilder("maxlead")
    x = b.leader("x", lower=0, upper=4, integer=True)
    y = b.follower("y", lower=-np.inf, upper=10)
    b.leader_maximize(2 * x + y + 7.5)
    b.follower_maximize(-1 * y + 3 * x + 1.0)
    b.follower_constraint(y - x >= -1, name="floor")
    b.leader_constraint(x + y <= 9, name="couple")
    original = b.build()
    mps, aux = write_mibs(original, tmp_path, "maxlead")
    read = _problem(read_mibs(aux))
    _assert_same_problem(original, read)
    assert read.leader_const == -7.5 and not read.follower_const_x.any()
    header = [line for line in mps.read_text().splitlines() if line.startswith("*")]
    assert any("the leader maximises" in line for line in header)
    assert any("are dropped" in line for line in header)
    assert solve_exact(read).leader_value == pytest.approx(-solve_exact(original).leader_value)


def test_the_written_aux_file_is_the_keyword_format_in_mibs_order(tmp_path):
    """MibS's own writer's order and min-form coefficients (idol's reader needs the order):
    Candler & Townsley's follower maximises, so its coefficients are negated."""
    raw = read_toml(REPO / "cases" / "bilevel_textbook" / "candler_townsley_1982.toml")
    mps, aux = write_mibs(_problem(raw), tmp_path, "ct")
    assert aux.read_text().split("\n") == [
        "@NUMVARS", "6", "@NUMCONSTRS", "3", "@VARSBEGIN", "y1 1.0", "y2 1.0", "y3 2.0",
        "y4 0.0", "y5 0.0", "y6 0.0", "@VARSEND", "@CONSTRSBEGIN", "c1", "c2", "c3",
        "@CONSTRSEND", "@NAME", "ct", "@MPS", "ct.mps", ""]
    text = mps.read_text()
    assert "OBJSENSE" not in text  # MibS reads every MPS objective as a minimisation
    assert "* the follower maximises" in text


def test_both_aux_formats_read_the_documented_example():
    keyword = read_mibs(DATA / "general_example_named.aux")
    positional = read_mibs(DATA / "general_example.aux")
    assert keyword["data"] == positional["data"]
    assert keyword["case"]["name"] == "General_Example"  # @NAME, whitespace as _
    assert positional["case"]["name"] == "general_example"  # the file stem
    data = keyword["data"]
    assert data["leader"] == [{"name": "C0", "lower": 0.0, "upper": 10.0, "integer": True}]
    assert data["follower"] == [{"name": "C1", "lower": 0.0, "upper": 5.0}]
    assert data["leader_objective"] == {"sense": "min", "terms": {"C0": -1.0, "C1": -7.0}}
    assert data["follower_objective"] == {"sense": "min", "terms": {"C1": 1.0}}
    assert [r["name"] for r in data["follower_constraints"]] == ["R2", "R3"]
    assert data["leader_constraints"][0] == {"name": "R0", "terms": {"C0": -3.0, "C1": 2.0},
                                             "sense": "<=", "rhs": 12.0}
    result = solve_exact(_problem(keyword))
    assert result.status == "optimal" and result.leader_value == pytest.approx(-41.0)
    np.testing.assert_allclose([*result.x, *result.y], [6.0, 5.0], atol=1e-9)


MPS_FEATURES = """\
NAME          features
OBJSENSE
    MAX
ROWS
 N  obj
 L  cap
 E  bal
 G  mix
COLUMNS
    b         obj       2
    b         mix       1
    x         obj       1
    x         cap       1
    y         obj       3
    y         cap       1
    y         bal       1
    z         bal       -1
    z         mix       1
RHS
    rhs       obj       -4
    rhs       cap       10
    rhs       bal       1
    rhs       mix       2
RANGES
    rng       mix       5
BOUNDS
 BV bnd       b
 FR bnd       z
 UP bnd       y         8
ENDATA
"""


def test_sense_offset_ranges_and_bounds_are_mapped(tmp_path):
    """OBJSENSE MAX is respected, the objective row's RHS is the negated constant, a
    ranged row is split, a binary is an integer leader in 0..1, a free follower is free,
    OS -1 makes a maximising follower; LC/LR by name in the positional format."""
    (tmp_path / "features.mps").write_text(MPS_FEATURES)
    (tmp_path / "features.aux").write_text("N 2\nM 2\nLC y\nLC z\nLR bal\nLR mix\nLO 1.5\n"
                                           "LO -1\nOS -1\n")
    raw = read_mibs(tmp_path / "features.aux")
    data = raw["data"]
    assert data["leader"] == [{"name": "b", "lower": 0.0, "upper": 1.0, "integer": True},
                              {"name": "x", "lower": 0.0, "upper": float("inf")}]
    assert data["follower"] == [{"name": "y", "lower": 0.0, "upper": 8.0},
                                {"name": "z", "lower": -float("inf"), "upper": float("inf")}]
    assert data["leader_objective"] == {"sense": "max", "constant": 4.0,
                                        "terms": {"b": 2.0, "x": 1.0, "y": 3.0}}
    assert data["follower_objective"] == {"sense": "max", "terms": {"y": 1.5, "z": -1.0}}
    assert data["follower_constraints"] == [
        {"name": "bal", "terms": {"y": 1.0, "z": -1.0}, "sense": "==", "rhs": 1.0},
        {"name": "mix_lo", "terms": {"b": 1.0, "z": 1.0}, "sense": ">=", "rhs": 2.0},
        {"name": "mix_up", "terms": {"b": 1.0, "z": 1.0}, "sense": "<=", "rhs": 7.0}]
    assert data["leader_constraints"] == [
        {"name": "cap", "terms": {"x": 1.0, "y": 1.0}, "sense": "<=", "rhs": 10.0}]
    notes = " ".join(raw["case"]["assumptions"])
    assert "sense max" in notes and "OS -1" in notes and "mix" in notes
    BilevelTextbookData.model_validate(data)  # a valid case


def test_an_mps_gz_beside_the_aux_file_is_found(tmp_path):
    with open(DATA / "general_example.mps", "rb") as plain, \
            gzip.open(tmp_path / "general_example.mps.gz", "wb") as packed:
        shutil.copyfileobj(plain, packed)
    shutil.copy(DATA / "general_example.aux", tmp_path)
    raw = read_mibs(tmp_path / "general_example.aux")
    assert raw["data"] == read_mibs(DATA / "general_example.aux")["data"]
    assert "general_example.mps.gz" in raw["case"]["provenance"]


# the integer marker left open: C1 is integer too, as in MibS's own example
INTEGER_FOLLOWER = (DATA / "general_example.mps").read_text().replace(
    "    MARKER    'MARKER'                 'INTEND'\n", "")


@pytest.mark.parametrize("aux, mps, message", [
    ("N 1\nM 2\nLC 1\nLR 2\nLR 3\nLO 1\n", INTEGER_FOLLOWER,
     "follower variable 'C1' is integer: gridbench's bilevel engine needs a continuous (LP) "
     "follower"),
    ("N 1\nM 2\nLC 1\nLR 2\nLR 3\nLO 1\n", None, "no MPS file: looked for"),
    ("@NUMVARS\n2\n@VARSBEGIN\nC1 1\n@VARSEND\n", "", "says 2 follower variables"),
    ("@VARSBEGIN\nC1\n@VARSEND\n", "", "'C1' has no objective coefficient"),
    ("@VARSBEGIN\nC9 1\n@VARSEND\n", "", "column 'C9' is not in the MPS file"),
    ("N 1\nLC 7\nLO 1\n", "", "column index 7 is beyond"),
    ("N 1\nLC 1\nLO 1\nOS 2\n", "", "OS 2: the follower's sense is 1 (min) or -1 (max)"),
    ("N 1\nLC 1\nLO 1\nIC 3\n", "", "interdiction instance"),
    ("@VARSBEGIN\nC1 1\n@VARSEND\nLR 2\n", "", "mixes the keyword"),
    ("@VARSBEGIN\nC1 1\n@VARSEND\n@CONSTRSBEGIN\nR2\n@CONSTRSEND\n@WHAT\n", "",
     "unknown entry '@WHAT'"),
    ("@VARSBEGIN\nC1 1\n@VARSEND\n@LP\nx.lp\n", "", "@LP instance files are not supported"),
])
def test_a_bad_instance_is_one_line(tmp_path, aux, mps, message):
    path = tmp_path / "inst.aux"
    path.write_text(aux)
    if mps is not None:
        (tmp_path / "inst.mps").write_text(mps or (DATA / "general_example.mps").read_text())
    with pytest.raises(MibsError) as info:
        read_mibs(path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, InputError)  # the CLI's exit 2


def test_without_highspy_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "highspy", None)
    with pytest.raises(MibsError, match="pip install highspy"):
        read_mibs(DATA / "general_example.aux")


def _with_products(where: str) -> BilevelProblem:
    b = BilevelBuilder("priced")
    price = b.leader("price", lower=0, upper=10)
    q = b.follower("q", upper=5)
    if where == "leader":
        b.leader_maximize(price * q)
        b.follower_minimize(q)
    else:
        b.leader_maximize(q)
        b.follower_minimize(price * q)
    b.follower_constraint(q <= 4, name="cap")
    return b.build()


@pytest.mark.parametrize("where, message", [
    ("leader", "the leader's objective has 1 leader x follower product terms (e.g. price x q)"),
    ("follower", "the follower's objective has 1 leader x follower product terms"),
])
def test_product_terms_are_refused(tmp_path, where, message):
    with pytest.raises(MibsError, match=r"^priced: " + message.replace("(", r"\(")
                       .replace(")", r"\)")):
        write_mibs(_with_products(where), tmp_path, "priced")
    assert not list(tmp_path.iterdir())


def test_a_bilevel_formulation_declares_its_problem(registry):
    from bench.registry import bilevel_problem

    assert registry.formulations["bilevel_textbook"].bilevel_problem is not None
    assert registry.formulations["dg_contract_pricing"].bilevel_problem is not None
    assert registry.formulations["unit_commitment"].bilevel_problem is None
    problem = bilevel_problem(registry, "bard1998_ex511")
    assert problem.leader_names == ("x",) and problem.follower_names == ("y",)
    with pytest.raises(InputError, match="formulation 'unit_commitment' is not a linear "
                                         "bilevel formulation"):
        bilevel_problem(registry, "uc_seed_reserve")
    with pytest.raises(InputError, match="unknown case 'no_such_case'"):
        bilevel_problem(registry, "no_such_case")


# ------------------------------------------------------------------------- the command


def test_run_case_file_reads_an_aux_file(tmp_path):
    out = tmp_path / "out.json"
    proc = gridbench("run", "--case-file", str(DATA / "general_example_named.aux"),
                     "-b", "bilevel_oracle", "-b", "pulp", "-s", "builtin", "-s", "highs",
                     "--json", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    runs = json.loads(out.read_text())["runs"]
    assert {r["case"] for r in runs} == {"General_Example"}
    solved = [r for r in runs if r["status"] == "optimal"]
    assert {r["variant"] for r in solved} == {"enumeration", "kkt_bigm", "strong_duality"}
    for run in solved:
        assert run["quantities"]["leader_objective"] == pytest.approx(-41.0, abs=1e-6)
        assert run["quantities"]["certified"] == 1.0


def test_run_case_file_with_a_missing_mps_is_one_line_and_exit_2(tmp_path):
    shutil.copy(DATA / "general_example.aux", tmp_path / "lonely.aux")
    proc = gridbench("run", "--case-file", str(tmp_path / "lonely.aux"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "lonely.aux: no MPS file: looked for" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_export_mibs_writes_a_case_that_reads_back_and_runs(tmp_path, registry):
    from bench.registry import bilevel_problem

    proc = gridbench("export-mibs", "bard1998_ex511_grid", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    aux = tmp_path / "out" / "bard1998_ex511_grid.aux"
    assert proc.stdout.splitlines()[:2] == [str(tmp_path / "out" / "bard1998_ex511_grid.mps"),
                                            str(aux)]
    assert "note: grid leaders written as integers" in proc.stdout
    _assert_same_problem(bilevel_problem(registry, "bard1998_ex511_grid"),
                         _problem(read_mibs(aux)))
    # under another name, the exported files run beside the registered case
    proc = gridbench("export-mibs", "bard1998_ex511", "--out", str(tmp_path), "--name", "b511")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = tmp_path / "out.json"
    proc = gridbench("run", "--case-file", str(tmp_path / "b511.aux"), "--variant",
                     "enumeration", "--json", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    [run] = json.loads(out.read_text())["runs"]
    assert run["case"] == "b511" and run["quantities"]["leader_objective"] == pytest.approx(-12)


@pytest.mark.parametrize("case, message", [
    ("candler_townsley_1982_grid", "candler_townsley_1982_grid: leader x1 is restricted to a "
                                   "grid of 11 values"),
    ("dg34_scenario_A", "dg34_scenario_A: the leader's objective has 20 leader x follower "
                        "product terms"),
])
def test_export_mibs_refusals_are_one_line_and_exit_2(tmp_path, case, message):
    proc = gridbench("export-mibs", case, "--out", str(tmp_path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and proc.stderr.count("\n") == 1
    assert not list(Path(tmp_path).iterdir())
