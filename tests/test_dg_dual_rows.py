"""Chapter 6's hand-written dual against the engine's automatic dual, row by row
(gridbench_dg_contract_pricing.dual_rows): with the readings every dual row (84a)-(84n), every
(83) term and every dual variable's primal row agree; each printed row shows up as exactly its
own disagreement; nothing of the hand-written model is left uncompared."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest

from bench.cases import load_case
from gridbench_dg_contract_pricing import thesis_dual_pq
from gridbench_dg_contract_pricing.data import problem_from_data
from gridbench_dg_contract_pricing.dual_rows import (
    DUAL_OF,
    compare_pq_dual,
    format_table,
    hand_row_counts,
)

CASES = ("dg34_pq_small", "dg85_pq_small")


def _case(registry, name):
    return load_case(registry.cases[name], registry.formulations["dg_contract_pricing"]).data


def _disagreeing(records) -> set[tuple[str, str]]:
    return {(r.kind, r.label) for r in records if not r.agrees}


@pytest.mark.parametrize("case", CASES)
def test_the_readings_agree_row_by_row_and_cover_the_whole_dual(registry, case):
    data = _case(registry, case)
    records = compare_pq_dual(data)
    assert _disagreeing(records) == set(), format_table(records, disagreeing_only=True)
    model = thesis_dual_pq.build_thesis_dual_pq(data, problem_from_data(data)).native
    # every hand-written dual row compared, each index of it
    rows = {f"d{r.label}": r.compared for r in records if r.kind == "dual row"}
    assert rows == hand_row_counts(model)
    assert len(rows) == 14  # (84a)-(84n)
    # every dual variable's (83) term and its primal row
    sizes = {dual: len(getattr(model, dual)) for dual in DUAL_OF}
    objective = {r.label.removeprefix("83: "): r.compared for r in records
                 if r.kind == "objective"}
    assert objective == sizes
    matched = {r.family.split()[0]: r.compared for r in records if r.kind == "dual variable"}
    assert matched == sizes
    assert sum(sizes.values()) == sum(
        len(v) for v in model.component_objects(pyo.Var)
        if v.name in DUAL_OF)
    assert not [r for r in records if r.kind == "unclassified"]
    # the engine's only extra duals: 0 <= P^gd <= P-bar, stated as bounds by data.py, seen
    # in (84b) and nowhere else
    extra = {r.family: r.compared for r in records if r.kind == "engine only"}
    n_gd = len(model.Pgd)
    assert extra == {"lower bound of p_gd": n_gd, "upper bound of p_gd": n_gd}
    assert {r.label: r.engine_only for r in records
            if r.kind == "dual row" and r.engine_only} == {"84b": 2 * n_gd}


@pytest.mark.parametrize("printed, expected", [
    ("82n", {("objective", "83: nu_und")}),
    # one printed term, seen twice: mu-bar loses its Delta^S, mu-underline gains it
    ("83mu", {("objective", "83: mu_bar"), ("objective", "83: mu_und")}),
])
def test_each_printed_row_is_exactly_its_own_disagreement(registry, printed, expected):
    records = compare_pq_dual(_case(registry, "dg34_pq_small"), frozenset({printed}))
    assert _disagreeing(records) == expected, format_table(records, disagreeing_only=True)
    for r in records:
        if not r.agrees:
            assert r.disagreeing == r.compared  # every index of the family


def test_a_planted_coefficient_error_is_found(registry, monkeypatch):
    original = thesis_dual_pq.build_thesis_dual_pq

    def planted(*args, **kwargs):
        built = original(*args, **kwargs)
        m = built.native
        row = m.d84f[0, 0]
        row.set_value(row.body + 1e-3 * m.alpha[0, 0] == row.upper)
        return built

    monkeypatch.setattr(thesis_dual_pq, "build_thesis_dual_pq", planted)
    records = compare_pq_dual(_case(registry, "dg34_pq_small"))
    [bad] = [r for r in records if not r.agrees]
    assert (bad.label, bad.disagreeing) == ("84f", 1)  # one index of (84f), one term
    assert bad.max_abs_diff == pytest.approx(1e-3)
    assert "alpha[(0, 0)]" in bad.example
