"""Chapter 4's calibrated cases (issue 13, item 4): each names the printed values it was
fitted to, exactly those references are marked calibrated (verdict "calibrated", never
"pass"), and the fit calibration.json records is what an independent solve gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.api import load_case, optimistic_response, solve_follower
from gridbench_dg_contract_pricing.calibrate import Response, misfit
from gridbench_dg_contract_pricing.data import network_of, problem_from_data
from gridbench_dg_contract_pricing.make_cases import (
    CALIBRATED,
    CALIBRATION_FILE,
    calibration_targets,
)

FORMULATION = "dg_contract_pricing"
PRINTED_PRICES = " (the follower answering the printed prices)"


def _case(registry, name):
    return load_case(registry.cases[name], registry.formulations[FORMULATION])


@pytest.mark.parametrize("name", CALIBRATED)
def test_a_case_names_exactly_the_values_its_references_mark_calibrated(registry, book, name):
    case = _case(registry, name)
    assert case.calibrated_on, "a calibrated case names what it was fitted to"
    marked = [r for r in book.references if r.formulation == FORMULATION
              and r.case == name and r.calibrated]
    assert not any(r.source for r in marked), "another paper's columns are never fitted to"
    named = {cell.split(" = ")[0]: cell for cell in case.calibrated_on}
    for ref in marked:
        quantity = ref.quantity.removeprefix("published_decision_")
        assert quantity in named, f"{name}: {ref.quantity} marked calibrated, not named"
        assert ref.where.removesuffix(PRINTED_PRICES) in named[quantity]
        assert f" = {ref.value!r} (" in named[quantity]
    assert set(named) <= {r.quantity for r in marked}


def test_no_other_case_is_calibrated(registry, book):
    """Only the fitted cases, and the chapter-7 location cases that keep a fitted case's
    load scale: their no-DG payment (Tables 28/30 copy Tables 5/7) is the fitted value."""
    from gridbench_dg_contract_pricing.make_cases import LOCATION_CASES

    inherited = {name for name, source in LOCATION_CASES.items() if source in CALIBRATED}
    others = {r.case for r in book.references if r.formulation == FORMULATION
              and r.calibrated} - set(CALIBRATED) - inherited
    assert not others
    for name, source in registry.cases.items():
        if source.formulation != FORMULATION:
            continue
        calibrated_on = _case(registry, name).calibrated_on
        if name in inherited:
            (cell,) = calibrated_on
            assert cell.startswith("payment_without_dg = "), name
            (fitted,) = [c for c in _case(registry, LOCATION_CASES[name]).calibrated_on
                         if c.startswith("payment_without_dg = ")]
            assert cell == fitted
        else:
            assert bool(calibrated_on) == (name in CALIBRATED), name


@pytest.mark.parametrize("name", CALIBRATED)
def test_the_recorded_fit_is_what_the_follower_answers_at_the_printed_prices(registry, name):
    """The whole-year follower LP (not calibrate.py's per-block models), with the harness's
    optimistic tie-break, at the printed prices: the residuals calibration.json records."""
    data = _case(registry, name).data
    targets = calibration_targets(name)
    x = np.asarray(targets.prices, float)
    assert list(x) == data.published_prices
    problem = problem_from_data(data)
    response = optimistic_response(problem, x)
    assert response.status == "optimal"
    net = network_of(data)
    energy = problem.block("p_gd", response.y) @ net.hours
    cf = 100 * energy / (np.asarray(data.dg_capacity_mw) * net.hours.sum())
    without = solve_follower(problem_from_data(data, with_dg=False), x)
    got = misfit(Response(cf, problem.follower_objective(x, response.y), without.value),
                 targets)
    recorded = json.loads(Path(CALIBRATION_FILE).read_text())[name]["residual"]
    assert got == pytest.approx(recorded, abs=1e-3)


def test_the_per_table_report_scores_only_out_of_sample_oracle_values(tmp_path):
    from gridbench_dg_contract_pricing.calibration_report import markdown, scores

    def check(quantity, expected, actual, verdict, where):
        return {"quantity": quantity, "expected": expected, "actual": actual,
                "verdict": verdict, "kind": "reference", "note": f"seed: {where}"}

    runs = [{"formulation": FORMULATION, "variant": "enumeration", "checks": [
        check("price_gd1", 80.0, 88.0, "deviation", "Table 3, row GD1"),
        check("price_gd2", 80.0, 80.0, "pass", "Table 3, row GD2"),
        check("price_gd1 [Lopez-Lezama et al. 2011]", 75.0, 88.0, "deviation", "Table 3"),
        check("payment_with_dg", 100.0, 101.0, "calibrated", "Table 5, row Com GD")]},
        {"formulation": FORMULATION, "variant": "strong_duality", "checks": [
            check("price_gd1", 80.0, 10.0, "deviation", "Table 3, row GD1")]}]
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"runs": runs}))
    got = scores(path)
    assert (got[3].values, got[3].within, got[3].max_rel_error) == (2, 1, 10.0)
    assert (got[5].values, got[5].calibrated) == (0, 1)
    assert "| 3 | 2 | 1 / 1 | 5.0 / 5.0 | 10.0 / 10.0 | 0 |" in markdown(got, got)
