"""PBPM (seed 004): the price-response-matrix algorithm, both implementations, against the
documented outputs, hand-derived edge cases, independent checks and bad input."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO, gridbench
from pydantic import ValidationError

from bench.cases import load_case
from bench.paths import data_dir
from bench.records import Solution, Status, Verdict
from bench.references import load_references
from bench.runner import Selection, execute, plan_runs
from bench.validation import agreement_checks
from gridbench_pbpm import checks, vectorised
from gridbench_pbpm.cli import pbpm_command
from gridbench_pbpm.core import flatten, sorted_levels, steps_up
from gridbench_pbpm.generate import generated_case
from gridbench_pbpm.reference import compute_spec
from gridbench_pbpm.spec import PbpmSpec

BACKENDS = ("pbpm_python", "pbpm_numpy")
CASES = REPO / "cases" / "pbpm"


def both(spec: PbpmSpec) -> list[tuple[np.ndarray, np.ndarray]]:
    """(price vector, PRM) from the plain-Python and the NumPy implementation."""
    out = []
    for solution in (compute_spec(spec), vectorised.compute(vectorised.arrays(spec))):
        out.append((solution.values["price_vector"], solution.values["prm"]))
    return out


def spec_of(elements: list[dict], low: float = -5.0, high: float = 15.0,
            tie_order: str = "notebook") -> PbpmSpec:
    return PbpmSpec.model_validate({"min_price": low, "max_price": high, "elements": elements,
                                    "tie_order": tie_order})


def el(name, kind, regulator, *conditions):
    reg = {"LR": "Linear Regulator", "NR": "Not Regulator"}[regulator]
    return {"name": name, "kind": kind, "regulator": reg, "conditions": list(conditions)}


@pytest.fixture(scope="module")
def pbpm_book():
    # only this formulation's references: other plugins' files do not concern these tests
    return load_references([data_dir("reference_results") / "pbpm.toml"])


@pytest.fixture(scope="module")
def pbpm_results(registry, pbpm_book):
    plan = plan_runs(registry, Selection(formulations=("pbpm",)))
    return [execute(run, registry, pbpm_book, time_limit=60) for run in plan.runs]


# ----------------------------------------------------------------------------- documented


@pytest.mark.parametrize("case, n_checks", [("pbpm_notebook_default", 1 + 4 + 12),
                                            ("pbpm_c_snippet", 1 + 5 + 20),
                                            ("pbpm_readme_screenshot", 1 + 10 + 100)])
def test_documented_outputs_with_both_implementations(pbpm_results, case, n_checks):
    runs = [r for r in pbpm_results if r.case == case]
    assert {r.backend for r in runs} == set(BACKENDS)
    for run in runs:
        assert run.status is Status.OPTIMAL, run.message
        reference_checks = [c for c in run.checks if c.kind == "reference"]
        assert len(reference_checks) == n_checks  # every published cell is compared
        assert all(c.verdict is Verdict.PASS and c.abs_err == 0 for c in reference_checks), [
            c for c in reference_checks if c.verdict is not Verdict.PASS]


def test_every_run_passes_the_structural_checks_and_the_implementations_agree(registry,
                                                                              pbpm_results):
    cases = {p.stem for p in CASES.glob("*.toml")}
    assert {r.case for r in pbpm_results} == cases  # generated cases are not in a plain run
    for run in pbpm_results:
        solution_checks = [c for c in run.checks if c.kind == "solution"]
        names = {c.quantity for c in solution_checks}
        if run.case == "pbpm_edge_ties_regulators_first":  # the option adds one check
            assert len(solution_checks) == 10 and {"regulators_first_columns",
                                                   "one_regulator_per_price_index"} <= names
        else:
            assert len(solution_checks) == 9 and "notebook_columns" in names
            assert "one_regulator_per_price_index" not in names  # a finding, not a check
        assert not run.failed and all(c.verdict is Verdict.PASS for c in run.checks), run.key
    agreement = agreement_checks(pbpm_results, registry.formulations)
    assert len(agreement) == len(cases) * 5
    assert all(a.check.verdict is Verdict.PASS for a in agreement)


# Hand-derived from the rule in docs/pbpm.md (levels, then the row templates).
EDGE_CASES = {
    # the notebook's order A, B, C, D: no step after A (B is not a regulator), none after B
    # or C: all on index 1, where A and C both regulate
    "pbpm_edge_ties": ([0, 1], [[0, 1], [8, 0], [0, 1], [0, 8]]),
    # option regulators_first: A 1, C 2 (two regulators step), B and D join C's index
    "pbpm_edge_ties_regulators_first": ([0, 1, 2], [[0, 1, 2], [8, 8, 0], [0, 0, 1],
                                                    [0, 0, 8]]),
    # PV 0 -> 0; battery buys 1 -> 1; condition 2 sells 2 -> 2; load buys 3 -> 3; battery
    # condition 1 sells 3 right after the load: same price, not both regulators -> 3
    "pbpm_c_snippet_notebook_inputs": ([-1, 0, 1, 2, 3], [[0, 1, 2, 2, 2], [8, 8, 8, 8, 0],
                                                          [-2, -2, -1, 0, 1],
                                                          [-2, -2, -1, 1, 2]]),
    # numeric order PV -1.5 < battery buy -1 < dump -0.5 < battery sell -0.2; first <= 0 -> 0
    "pbpm_edge_negative_prices": ([-1, 0, 1, 2, 3], [[0, 8, 8, 8, 8], [-2, -2, -1, 0, 1],
                                                     [-2, -2, -2, -1, 0]]),
    # both conditions of one element share index 1 (no step between an element's conditions)
    "pbpm_edge_single_element": ([0, 1], [[0, 1], [0, 1]]),
    # heater 0.5 -> 1; battery buy = sell = 1 -> 2 (mode 11); EV charger 2 = 2 -> 3
    "pbpm_edge_bidirectional_equal": ([0, 1, 2, 3], [[-2, -2, 11, 2], [8, 8, 8, 0],
                                                     [-2, -1, 0, 0]]),
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_cases_give_the_hand_derived_prms(registry, case):
    spec = load_case(registry.cases[case], registry.formulations["pbpm"]).data
    price_vector, prm = EDGE_CASES[case]
    for got_vector, got_prm in both(spec):
        assert got_vector.tolist() == price_vector
        assert got_prm.tolist() == prm


def test_c_snippet_prms_depend_only_on_the_order_of_the_prices():
    """The snippet prints no prices: any prices in the implied order give its PRMs."""
    rng = random.Random(4)
    for _ in range(30):
        pv = rng.uniform(-1, 0)
        low_charge, normal = sorted(rng.uniform(0.01, 2) for _ in range(2))
        sell = rng.uniform(normal + 0.01, 3)
        load = rng.uniform(sell + 0.01, 4)
        spec = spec_of([el("PV", "Source", "LR", {"sell_price": pv}),
                        el("Battery", "Bidirectional", "LR", {"buy_price": low_charge},
                           {"buy_price": normal, "sell_price": sell}),
                        el("Load", "Load", "NR", {"buy_price": load})])
        for vector, prm in both(spec):
            assert vector.tolist() == [-1, 0, 1, 2, 3]
            assert prm.tolist() == [[0, 1, 2, 2, 2], [-2, -2, -1, 0, 0], [-2, -2, -1, 1, 2],
                                    [8, 8, 8, 8, 0]]


def test_prices_are_compared_as_numbers_not_strings():
    # as strings '10.0' < '2.0': the notebook would put the load below the source
    assert sorted(["2.0", "10.0"]) == ["10.0", "2.0"]
    spec = spec_of([el("Source", "Source", "LR", {"sell_price": 2.0}),
                    el("Load", "Load", "LR", {"buy_price": 10.0})])
    for vector, prm in both(spec):
        assert vector.tolist() == [0, 1, 2]
        assert prm.tolist() == [[0, 1, 2], [-2, -2, -1]]


def test_notebook_tie_order_is_list_order_and_regulators_first_is_an_option(registry):
    """Among equal prices the notebook keeps its list order (element, condition, sell before
    buy); regulators first is only an option, named in the spec."""
    spec = load_case(registry.cases["pbpm_edge_ties"], registry.formulations["pbpm"]).data
    assert spec.tie_order == "notebook"  # the default: the case does not name one
    rows, _ = flatten(spec.elements)
    ordered, levels = sorted_levels(rows)
    assert [r.element for r in ordered] == [0, 1, 2, 3] and levels == [1, 1, 1, 1]
    pairs = zip(ordered, ordered[1:], strict=False)
    assert [steps_up(a, b) for a, b in pairs] == [False, False, False]
    ordered, levels = sorted_levels(rows, "regulators_first")
    assert [r.element for r in ordered] == [0, 2, 1, 3] and levels == [1, 2, 2, 2]
    option = load_case(registry.cases["pbpm_edge_ties_regulators_first"],
                       registry.formulations["pbpm"]).data
    assert option.tie_order == "regulators_first"
    # the sell row before the buy row of one condition, and conditions in their order
    both_sides = spec_of([el("B", "Bidirectional", "LR", {"buy_price": 1.0, "sell_price": 1.0},
                             {"buy_price": 1.0, "sell_price": 2.0})])
    ordered, _ = sorted_levels(flatten(both_sides.elements)[0])
    assert [(r.price, r.condition, r.side) for r in ordered] == [(1.0, 0, 0), (1.0, 0, 1),
                                                                 (1.0, 1, 1), (2.0, 1, 0)]


def test_regulators_sharing_a_price_index_is_a_reported_finding(pbpm_results):
    """The notebook's order lets two regulators share an index: a quantity, not a failure."""
    by_case = {r.case: r for r in pbpm_results if r.backend == "pbpm_python"}
    ties = by_case["pbpm_edge_ties"]
    assert not ties.failed
    assert ties.quantities["price_indices_shared_by_regulators"] == 1  # A and C at index 1
    option = by_case["pbpm_edge_ties_regulators_first"].quantities
    assert option["price_indices_shared_by_regulators"] == 0
    assert option["notebook_n_prices"] == 2 and option["n_prices"] == 3
    snippet = by_case["pbpm_c_snippet"].quantities  # the load's price: nobody regulates
    assert snippet["price_indices_shared_by_regulators"] == 0
    assert snippet["price_indices_without_regulator"] == 1


# The C snippet's system as the notebook must state it: a Bidirectional condition has both
# prices, so battery condition 1 (may only charge) sells at the top of the range, 3, equal
# to the load's max buy price. Listed PV, Load, Battery (cases/pbpm/
# pbpm_c_snippet_notebook_inputs.toml).
SNIPPET_AS_NOTEBOOK = [
    el("PV", "Source", "LR", {"sell_price": 0.0}),
    el("Load", "Load", "NR", {"buy_price": 3.0}),
    el("Battery", "Bidirectional", "LR", {"buy_price": 1.0, "sell_price": 3.0},
       {"buy_price": 1.0, "sell_price": 2.0}),
]


def test_c_snippet_stated_as_the_notebook_gives_five_columns_by_default():
    for vector, prm in both(spec_of(SNIPPET_AS_NOTEBOOK, -1.0, 3.0)):
        assert vector.tolist() == [-1, 0, 1, 2, 3]  # the snippet's price_range {-1, 3}
        assert prm.tolist() == [[0, 1, 2, 2, 2], [8, 8, 8, 8, 0], [-2, -2, -1, 0, 1],
                                [-2, -2, -1, 1, 2]]
    # the old default, now the option: battery condition 1 sells right after condition 2,
    # which does not step, and the load joins it: two levels merged, 4 columns
    for vector, _ in both(spec_of(SNIPPET_AS_NOTEBOOK, -1.0, 3.0, "regulators_first")):
        assert vector.tolist() == [-1, 0, 1, 2]
    # listed as in the snippet (PV, battery, load) both orders give 4: the notebook merges
    in_snippet_order = [SNIPPET_AS_NOTEBOOK[i] for i in (0, 2, 1)]
    for tie_order in ("notebook", "regulators_first"):
        for vector, _ in both(spec_of(in_snippet_order, -1.0, 3.0, tie_order)):
            assert vector.tolist() == [-1, 0, 1, 2]


def test_notebook_columns_check_catches_the_merge_of_the_old_order():
    """The old default's output for that example passes every other independent check:
    only the recount from the spec's prices (notebook_columns) flags it."""
    spec = spec_of(SNIPPET_AS_NOTEBOOK, -1.0, 3.0)
    assert checks.recount_columns(spec) == 5
    assert checks.recount_columns(spec, "regulators_first") == 4
    old = spec_of(SNIPPET_AS_NOTEBOOK, -1.0, 3.0, "regulators_first")
    for vector, prm in both(old):
        result = checks.verify(spec, "notebook", Solution({"price_vector": vector, "prm": prm},
                                                          None))
        failed = {c.quantity for c in result if c.verdict is not Verdict.PASS}
        assert failed == {"notebook_columns"}
    for vector, prm in both(spec):
        result = checks.verify(spec, "notebook", Solution({"price_vector": vector, "prm": prm},
                                                          None))
        assert all(c.verdict is Verdict.PASS for c in result)
        quantities = checks.quantities(spec, "notebook", Solution(
            {"price_vector": vector, "prm": prm}, None))
        assert quantities["n_prices"] == quantities["notebook_n_prices"] == 5


def _random_spec(rng: random.Random) -> dict:
    grid = [-1.0, -0.5, 0.0, 0.5, 1.0, 2.0]  # a coarse grid: many ties
    elements = []
    for i in range(rng.randint(1, 7)):
        kind = rng.choice(["Source", "Load", "Bidirectional"])
        conditions = []
        for _ in range(rng.randint(1, 3)):
            a, b = sorted(rng.sample(grid, 2) if rng.random() < 0.7 else [rng.choice(grid)] * 2)
            conditions.append({"Source": {"sell_price": a}, "Load": {"buy_price": a}}.get(
                kind, rng.choice([{"buy_price": a, "sell_price": b}, {"buy_price": a},
                                  {"sell_price": b}])))
        elements.append(el(f"e{i}", kind, rng.choice(["LR", "NR"]), *conditions))
    return {"min_price": -1.0, "max_price": 2.0, "elements": elements}


@pytest.mark.parametrize("tie_order", ["notebook", "regulators_first"])
def test_implementations_agree_and_pass_verify_on_random_specs(tie_order):
    rng = random.Random(2024)
    tested = shared = 0
    for _ in range(400):
        try:
            spec = PbpmSpec.model_validate({**_random_spec(rng), "tie_order": tie_order})
        except ValidationError:
            continue  # e.g. a condition whose prices collapse onto one index: rejected
        (v1, p1), (v2, p2) = both(spec)
        assert np.array_equal(v1, v2) and np.array_equal(p1, p2)
        solution = Solution({"price_vector": v1, "prm": p1}, None)
        result = checks.verify(spec, "notebook", solution)
        failed = [c for c in result if c.verdict is not Verdict.PASS]
        assert not failed, (spec, p1, failed)
        assert f"{tie_order}_columns" in {c.quantity for c in result}
        shared += checks.quantities(spec, "notebook", solution)[
            "price_indices_shared_by_regulators"] > 0
        tested += 1
    assert tested > 300
    # the notebook's order lets two regulators share an index; regulators first never does
    assert (shared > 0) == (tie_order == "notebook")


def test_generated_cases_agree_through_the_harness(registry, pbpm_book):
    plan = plan_runs(registry, Selection(formulations=("pbpm",), cases=("pbpm_gen_1000",)))
    runs = [execute(run, registry, pbpm_book, time_limit=60) for run in plan.runs]
    assert {r.backend for r in runs} == set(BACKENDS)
    assert all(not r.failed for r in runs)
    assert "prm_1_1_1" not in runs[0].quantities  # large: a CRC-32 stands for the cells
    agreement = agreement_checks(runs, registry.formulations)
    assert len(agreement) == 5 and all(a.check.verdict is Verdict.PASS for a in agreement)


def test_scaling_cases_and_benchmark_are_registered(registry):
    for n in (10, 100, 1000, 10_000):
        assert registry.cases[f"pbpm_gen_{n}"].default is False
    bench = registry.benchmarks["pbpm_scaling"]
    assert bench.cases[-1] == "pbpm_gen_10000" and set(bench.backends) == set(BACKENDS)
    spec = PbpmSpec.model_validate(generated_case(10_000)["data"])
    assert len(spec.elements) == 10_000


# ----------------------------------------------------------------------------- verify


def test_verify_catches_broken_prms():
    spec = spec_of([el("PV", "Source", "LR", {"sell_price": 0.0}),
                    el("Battery", "Bidirectional", "LR", {"buy_price": 0.5},
                       {"buy_price": 0.5, "sell_price": 1.5}),
                    el("Load", "Load", "NR", {"buy_price": 3.0})])
    vector, prm = both(spec)[0]

    def failed(vector, prm):
        return {c.quantity for c in checks.verify(spec, "notebook", Solution(
            {"price_vector": vector, "prm": prm}, None)) if c.verdict is Verdict.FAIL}

    assert failed(vector, prm) == set()
    bad = prm.copy()
    bad[3, 0] = 2  # a load cannot supply at maximum power
    assert "mode_codes_allowed" in failed(vector, bad)
    bad = prm.copy()
    bad[0] = [0, 2, 1, 2, 2]  # PV: maximum power below its regulating price
    assert "row_pattern" in failed(vector, bad)
    bad = prm.copy()
    bad[0] = [0, 0, 0, 1, 2]  # PV (sell 0) above the battery's buy (0.5), at its sell index
    assert {"price_index_order", "price_indices_used",
            "lowest_price_first_index"} <= failed(vector, bad)
    assert "notebook_columns" in failed(vector[:-1], prm[:, :-1])
    option = spec_of(spec.model_dump()["elements"], tie_order="regulators_first")
    assert "one_regulator_per_price_index" in {  # checked under that option only
        c.quantity for c in checks.verify(option, "notebook", Solution(
            {"price_vector": vector, "prm": bad}, None)) if c.verdict is Verdict.FAIL}
    bad = prm.copy()
    bad[0] = 0  # PV never responds
    assert {"row_pattern", "first_column_below_every_price"} <= failed(vector, bad)
    assert "price_vector" in failed(vector + 1, prm)
    assert failed(vector, prm[:, :4]) == {"prm_shape"}


# ----------------------------------------------------------------------------- input


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


HEAD = "min_price = 0.0\nmax_price = 3.0\n"
BAD_SPECS = {
    "empty": (HEAD + "elements = []\n", "the element list is empty"),
    "buy_above_sell": (HEAD + '[[elements]]\nname = "B"\nkind = "Bidirectional"\n'
                       'regulator = "Linear Regulator"\n'
                       "conditions = [{ buy_price = 2.0, sell_price = 1.0 }]\n",
                       "element 'B' condition 1: buy price 2 is above its sell price 1"),
    "out_of_range": (HEAD + '[[elements]]\nname = "PV"\nkind = "Source"\n'
                     'regulator = "Linear Regulator"\nconditions = [{ sell_price = 7.0 }]\n',
                     "sell price 7 is outside the price range [0, 3]"),
    "source_buying": (HEAD + '[[elements]]\nname = "PV"\nkind = "Source"\n'
                      'regulator = "Not Regulator"\nconditions = [{ buy_price = 1.0 }]\n',
                      "a Source has a sell price and no buy price"),
    "unknown_kind": (HEAD + '[[elements]]\nname = "PV"\nkind = "source"\n'
                     'regulator = "Not Regulator"\nconditions = [{ sell_price = 1.0 }]\n',
                     "elements.0.kind: Input should be 'Source', 'Load' or 'Bidirectional'"),
    "not_a_number": (HEAD + '[[elements]]\nname = "PV"\nkind = "Source"\n'
                     'regulator = "Not Regulator"\nconditions = [{ sell_price = nan }]\n',
                     "Input should be a finite number"),
    "collapsed": (HEAD + '[[elements]]\nname = "Bat"\nkind = "Bidirectional"\n'
                  'regulator = "Linear Regulator"\n'
                  "conditions = [{ buy_price = 1.0, sell_price = 2.0 }, { buy_price = 1.5 }]\n",
                  "buy price 1 and sell price 2 fall on one price index"),
    "not_toml": ("min_price = [\n", "not valid TOML"),
    "unknown_tie_order": (HEAD + 'tie_order = "cheapest_first"\n[[elements]]\nname = "PV"\n'
                          'kind = "Source"\nregulator = "Not Regulator"\n'
                          "conditions = [{ sell_price = 1.0 }]\n",
                          "tie_order: Input should be 'notebook' or 'regulators_first'"),
    "position_in_message": (HEAD + '[[elements]]\nname = "L"\nkind = "Load"\n'
                            'regulator = "Not Regulator"\nconditions = [{ buy_price = 1.0 }]\n'
                            '[[elements]]\nname = "L"\nkind = "Load"\n'
                            'regulator = "Not Regulator"\nconditions = [{ buy_price = 9.0 }]\n',
                            "element 2 'L' condition 1: buy price 9 is outside the price range"),
}


@pytest.mark.parametrize("name", sorted(BAD_SPECS))
def test_bad_specs_give_one_line_and_exit_2(tmp_path, name):
    text, message = BAD_SPECS[name]
    result = CliRunner().invoke(pbpm_command, [str(_write(tmp_path, f"{name}.toml", text))])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("gridbench: error: ")
    assert message in result.stderr


def test_gridbench_pbpm_prints_the_prms_and_draws_the_chart(tmp_path):
    png = tmp_path / "prices.png"
    result = CliRunner().invoke(pbpm_command, [str(CASES / "pbpm_c_snippet.toml"),
                                               "--plot", str(png), "--implementation", "numpy"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Price vector: -1 0 1 2 3"
    battery = [line.split() for line in lines if line.startswith("Battery")]
    assert [row[-5:] for row in battery] == [["-2", "-2", "-1", "0", "0"],
                                             ["-2", "-2", "-1", "1", "2"]]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_the_installed_command_and_its_exit_codes(tmp_path):
    ok = gridbench("pbpm", str(CASES / "pbpm_notebook_default.toml"))
    assert ok.returncode == 0, ok.stderr
    assert "Price vector: -1 0 1 2" in ok.stdout
    bad = gridbench("pbpm", str(_write(tmp_path, "bad.toml", BAD_SPECS["empty"][0])))
    assert bad.returncode == 2
    errors = [line for line in bad.stderr.splitlines() if "error" in line]
    assert errors == [f"gridbench: error: {tmp_path / 'bad.toml'}: elements: the element list "
                      "is empty"]


# ----------------------------------------------------------------------------- notebook inputs


def test_elements_without_a_name_are_named_by_position(registry):
    spec = PbpmSpec.model_validate({"min_price": 0.0, "max_price": 2.0, "elements": [
        {"kind": "Source", "regulator": "Linear Regulator", "conditions": [{"sell_price": 1}]},
        {"name": "", "kind": "Load", "regulator": "Not Regulator",  # the notebook's default
         "conditions": [{"buy_price": 1}]},
        {"name": "PV", "kind": "Source", "regulator": "Not Regulator",
         "conditions": [{"sell_price": 2}]}]})
    assert [e.name for e in spec.elements] == ["Element 1", "Element 2", "PV"]
    # the notebook's defaults, stated as it states them: no names
    default = load_case(registry.cases["pbpm_notebook_default"], registry.formulations["pbpm"])
    assert [e.name for e in default.data.elements] == ["Element 1", "Element 2", "Element 3"]


def test_controller_and_not_controller_are_regulator_aliases():
    spec = spec_of([el("A", "Source", "LR", {"sell_price": 0.0}),
                    el("B", "Load", "NR", {"buy_price": 1.0})])
    older = PbpmSpec.model_validate({**spec.model_dump(), "elements": [
        {**e, "regulator": alias} for e, alias in zip(
            spec.model_dump()["elements"], ("Controller", "Not Controller"), strict=True)]})
    assert [e.regulator for e in older.elements] == ["Linear Regulator", "Not Regulator"]
    assert [p.tolist() for _, p in both(older)] == [p.tolist() for _, p in both(spec)]
    with pytest.raises(ValidationError, match="regulator"):
        spec_of([el("A", "Source", "LR", {"sell_price": 0.0}) | {"regulator": "controller"}])


def test_duplicate_names_are_allowed_and_identity_is_position(registry, pbpm_results):
    spec = load_case(registry.cases["pbpm_readme_screenshot"],
                     registry.formulations["pbpm"]).data
    assert [e.name for e in spec.elements].count("Load HP") == 2
    assert spec.element_labels[3] == "Load HP #4" and spec.element_labels[5] == "Load HP #6"
    assert len(set(spec.element_labels)) == 6
    (vector, prm), _ = both(spec)
    q = checks.quantities(spec, "notebook", Solution({"price_vector": vector, "prm": prm}, None))
    cells = [k for k in q if checks.CELL.fullmatch(k)]
    assert len(cells) == prm.size  # one quantity per cell: nothing keyed by name collides
    assert q["prm_4_1_7"] == 0 and q["prm_6_1_7"] == 8  # the two Load HP rows differ
    runs = [r for r in pbpm_results if r.case == "pbpm_readme_screenshot"]
    assert len(runs) == 2 and not any(r.failed for r in runs)
    # same name, same everything: still two elements, two rows, two price indices
    twins = spec_of([el("S", "Source", "LR", {"sell_price": 1.0}),
                     el("S", "Source", "LR", {"sell_price": 1.0})], 0.0, 2.0)
    for vector, prm in both(twins):
        assert vector.tolist() == [0, 1, 2] and prm.tolist() == [[0, 1, 2], [0, 0, 1]]


def test_labels_stay_distinct_when_a_name_looks_like_a_label():
    spec = spec_of([el("L", "Load", "NR", {"buy_price": 1.0}),
                    el("L", "Load", "NR", {"buy_price": 2.0}),
                    el("L #1", "Load", "NR", {"buy_price": 3.0})])
    assert spec.element_labels == ["1) L", "2) L", "3) L #1"]
