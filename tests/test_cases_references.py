"""Case files and reference files: validation with one-line messages, tolerance rules."""

from __future__ import annotations

import pytest

from bench.cases import CaseError, case_files, load_case, read_toml
from bench.errors import InputError
from bench.paths import data_dir
from bench.records import CaseSource, Fidelity
from bench.references import Tolerance, load_references

UC_CASE = data_dir("cases") / "unit_commitment" / "uc_seed_reserve.toml"


def _source(tmp_path, text: str, name: str = "uc_seed_reserve") -> CaseSource:
    folder = tmp_path / "unit_commitment"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text)
    (source,) = [s for s in case_files(tmp_path) if s.name == name]
    return source


def test_shipped_cases_validate(registry):
    uc = registry.formulations["unit_commitment"]
    for name in ("uc_seed_reserve", "uc_seed_noreserve"):
        case = load_case(registry.cases[name], uc)
        assert case.fidelity is Fidelity.EXACT
        assert case.data.demand_mw == [15000, 30000, 25000, 40000, 27000]
    assert load_case(registry.cases["uc_seed_noreserve"], uc).data.reserve_margin is None


@pytest.mark.parametrize("change, message", [
    (("demand_mw = [15000, 30000, 25000, 40000, 27000]", "demand_mw = [15000, 30000]"),
     "period_hours and demand_mw need one entry per period"),
    (("units_available = [12, 10, 5]", "units_available = [12, -10, 5]"),
     "data.units_available.1: Input should be greater than or equal to 0"),
    (("reserve_margin = 0.15", "reserve_margn = 0.15"), "data.reserve_margn: Extra inputs"),
    (('fidelity = "exact"', 'fidelity = "roughly"'), "case.fidelity: Input should be"),
    (("[data]", "[data\n"), "not valid TOML"),
])
def test_bad_case_files_give_one_line_errors(tmp_path, registry, change, message):
    source = _source(tmp_path, UC_CASE.read_text().replace(*change))
    with pytest.raises(CaseError) as info:
        load_case(source, registry.formulations["unit_commitment"])
    text = str(info.value)
    assert message in text and "\n" not in text and str(source.origin) in text


def test_case_header_must_match_its_file_name(tmp_path, registry):
    source = _source(tmp_path, UC_CASE.read_text(), name="renamed")
    with pytest.raises(CaseError, match="header says unit_commitment/uc_seed_reserve"):
        load_case(source, registry.formulations["unit_commitment"])


def test_every_reference_has_provenance_and_fidelity(book):
    assert book.references, "no reference values loaded"
    for ref in book.references:
        assert ref.seed and ref.where, ref
        assert ref.fidelity in set(Fidelity)
        assert ref.fidelity is Fidelity.EXACT or ref.fidelity_note, ref


def test_uc_references_are_the_published_numbers(book):
    values = {(r.case, r.quantity): r.value for r in book.references
              if r.formulation == "unit_commitment" and r.variant == "as_published"}
    # the printed tariffs of seed 001 (In [24]) are exactly the ones in the file
    assert [values["uc_seed_reserve", f"tariff_{t}"] for t in range(1, 6)] == [
        3118.80, 2406.60, 4365.84, 2987.10, 4328.00]
    (saving,) = [d for d in book.derived if d.name == "saving"]
    assert saving.value == 106023000


def test_non_exact_reference_needs_a_note(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text("""formulation = "f"\nseed = "s.txt"\n[[reference]]\ncase = "c"
variants = ["v"]\nfidelity = "inferred"\ntolerance = { rel = 1e-6 }
[reference.quantities]\nq = { value = 1.0, unit = "-", where = "cell 1" }\n""")
    with pytest.raises(InputError, match="needs a fidelity_note"):
        load_references([path])


def test_tolerance_is_abs_or_rel():
    tol = Tolerance(abs=0.5, rel=1e-6)
    assert tol.accepts(0.4, 1.0) and tol.accepts(9.0, 1e-7) and not tol.accepts(0.6, 1e-5)
    with pytest.raises(ValueError):
        Tolerance()


def test_read_toml_reports_a_missing_file(tmp_path):
    with pytest.raises(CaseError, match="cannot read"):
        read_toml(tmp_path / "missing.toml")


def test_a_second_source_may_give_the_same_quantity(tmp_path):
    path = tmp_path / "r.toml"
    group = """[[reference]]\ncase = "c"\nvariants = ["v"]\nfidelity = "exact"
tolerance = {{ rel = 1e-6 }}\n{source}\n[reference.quantities]
q = {{ value = {value}, unit = "-", where = "Table 2" }}\n"""
    path.write_text('formulation = "f"\nseed = "s.txt"\n'
                    + group.format(source="", value=1.0)
                    + group.format(source='source = "Lopez-Lezama 2011"\non_mismatch = '
                                   '"deviation"', value=2.0))
    book = load_references([path])
    assert sorted(r.label for r in book.references) == ["q", "q [Lopez-Lezama 2011]"]
