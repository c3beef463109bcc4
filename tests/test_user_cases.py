"""`gridbench run --case-file`: a user's own case file, without writing a plugin. The files
are the documented examples in docs/examples/ (docs/bilevel.md and the README show them)."""

from __future__ import annotations

import json

import pytest
from conftest import REPO, gridbench

EXAMPLES = REPO / "docs" / "examples"


def test_a_user_written_bilevel_case_with_its_reference(tmp_path):
    out = tmp_path / "out.json"
    proc = gridbench("run", "--case-file", str(EXAMPLES / "my_bilevel.toml"),
                     "--reference-file", str(EXAMPLES / "my_bilevel_reference.toml"),
                     "--json", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert {r["case"] for r in doc["runs"]} == {"my_bilevel"}  # only the user's case
    solved = [r for r in doc["runs"] if r["status"] == "optimal"]
    assert {r["variant"] for r in solved} == {"enumeration", "kkt_bigm", "kkt_sos1",
                                              "strong_duality_bilinear"}
    for run in solved:
        refs = {c["quantity"]: c for c in run["checks"] if c["kind"] == "reference"}
        assert refs["leader_objective"]["verdict"] == "pass"
        assert refs["leader_objective"]["actual"] == pytest.approx(-6.0, abs=1e-5)
    assert doc["summary"]["published_checked"] == doc["summary"]["published_planned"] > 0


def test_a_user_written_unit_commitment_case(tmp_path, registry):
    from bench.runner import Selection, plan_runs

    out = tmp_path / "out.json"
    proc = gridbench("run", "--case-file", str(EXAMPLES / "my_uc.toml"), "--json", str(out))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert {r["case"] for r in doc["runs"]} == {"my_uc"}
    # as many runs as a shipped case gets: 2 variants x every installed default pair
    shipped = plan_runs(registry, Selection(formulations=("unit_commitment",),
                                            cases=("uc_seed_reserve",)))
    assert len(doc["runs"]) == len(shipped.runs) >= 12
    assert all(d["verdict"] == "pass" for d in doc["derived_checks"])


@pytest.mark.parametrize("text, message", [
    ('[case]\nname = "x"\n', "needs [case] with name and formulation"),
    ('[case]\nname = "x"\nformulation = "nope"\n', "formulation 'nope' is not registered"),
    ('[case]\nname = "uc_seed_reserve"\nformulation = "unit_commitment"\n',
     "a case named 'uc_seed_reserve' is already registered"),
    ("not toml at all [", "not valid TOML"),
])
def test_a_bad_case_file_is_one_line_and_exit_2(tmp_path, text, message):
    path = tmp_path / "case.toml"
    path.write_text(text)
    proc = gridbench("run", "--case-file", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and proc.stderr.count("\n") == 1
