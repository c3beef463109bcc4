"""PBPM (seed 004): both implementations against the notebook's own code, transcribed.

``notebook_prms`` is the seed's ``create_system_matrixes`` and ``Element.calculate_PRM``
with the widgets taken out (elements are plain records) and two changes only: ``slb is
'Source'`` reads ``==``, and with ``numeric=True`` the rows are sorted as numbers by a stable
sort, the one departure docs/pbpm.md documents. Everything else, including the string
comparisons of the level rule on the notebook's string array ``Mvf``, is the seed's code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import pytest
from pydantic import ValidationError

from bench.cases import load_case
from gridbench_pbpm import vectorised
from gridbench_pbpm.reference import compute_spec
from gridbench_pbpm.spec import PbpmSpec


@dataclass
class NotebookElement:
    name: str
    slb: str  # Source | Load | Bidirectional
    ctrl: str  # Linear Regulator | Not Regulator
    div: int
    buyprice: list[float]
    sellprice: list[float]
    iMR: dict = field(default_factory=lambda: {"Load": np.zeros(6).astype(int),
                                               "Source": np.zeros(6).astype(int)})
    PRM: np.ndarray | None = None

    def calculate_PRM(self, colunas):  # the seed's code, as written
        self.PRM = (9 * np.ones((self.div, colunas))).astype(int)
        MRdict = {"LoadNot Regulator": 0, "LoadLinear Regulator": -1, "SourceNot Regulator": 8,
                  "SourceLinear Regulator": 1, "BidirectionalLinear Regulator": 11,
                  "BidirectionalNot Regulator": 0}
        MRbefore = {"LoadNot Regulator": 8, "LoadLinear Regulator": -2,
                    "SourceLinear Regulator": 0, "SourceNot Regulator": 0,
                    "BidirectionalLinear Regulator": -2, "BidirectionalNot Regulator": 8}
        MRafter = {"LoadNot Regulator": 0, "LoadLinear Regulator": 0,
                   "SourceLinear Regulator": 2, "SourceNot Regulator": 8,
                   "BidirectionalLinear Regulator": 2, "BidirectionalNot Regulator": 8}
        key = self.slb + self.ctrl
        for q in range(self.div):
            if (self.slb != "Bidirectional") or (self.iMR["Load"][q] == self.iMR["Source"][q]):
                iMR = (self.iMR["Load"][q] if (self.slb == "Bidirectional")
                       else self.iMR[self.slb][q])
                self.PRM[q, :] = (np.concatenate((MRbefore[key] * np.ones((1, iMR - 1)),
                                                  MRdict[key] * np.ones((1, 1)),
                                                  MRafter[key] * np.ones((1, colunas - iMR))),
                                                 axis=1)).astype(int)
            else:  # Bidirectional with 5 parts
                iMR1 = self.iMR["Load"][q]
                iMR2 = self.iMR["Source"][q]
                MR1 = MRdict["Load" + self.ctrl] * np.ones((1, 1))
                MR2 = MRdict["Source" + self.ctrl] * np.ones((1, 1))
                part1 = MRbefore[key] * np.ones((1, iMR1 - 1))
                part3 = np.zeros((1, iMR2 - iMR1 - 1))
                part5 = MRafter[key] * np.ones((1, colunas - iMR2))
                self.PRM[q, :] = (np.concatenate((part1, MR1, part3, MR2, part5),
                                                 axis=1)).astype(int)


def notebook_prms(elements: list[NotebookElement], numeric: bool = True):
    Mv0 = []
    for el_num in range(len(elements)):
        e = elements[el_num]
        for div in range(e.div):
            if e.slb == "Source":
                Mv0.append([e.name, el_num + 1, e.slb, e.ctrl, e.div, div + 1, "Source",
                            e.sellprice[div]])
            elif e.slb == "Load":
                Mv0.append([e.name, el_num + 1, e.slb, e.ctrl, e.div, div + 1, "Load",
                            e.buyprice[div]])
            else:
                Mv0.append([e.name, el_num + 1, e.slb, e.ctrl, e.div, div + 1, "Source",
                            e.sellprice[div]])
                Mv0.append([e.name, el_num + 1, e.slb, e.ctrl, e.div, div + 1, "Load",
                            e.buyprice[div]])
    Mv1 = np.asarray(Mv0)
    if numeric:  # the documented departure: numbers sorted as numbers, stably
        Mv1 = Mv1[np.argsort(Mv1[:, 7].astype(float), kind="stable")]
    else:  # the seed's line: Mv1=Mv1[Mv1[:,7].argsort()]
        Mv1 = Mv1[Mv1[:, 7].argsort()]
    Nrows = Mv1.shape[0]
    Mvf = np.hstack((Mv1, np.zeros((Nrows, 1))))
    Mvf[0, 8] = 0 if float(Mvf[0, 7]) <= 0 else 1
    for q in range(1, Nrows):
        if (((Mvf[q, 7] != Mvf[q - 1, 7]) and not ((Mvf[q, 1] == Mvf[q - 1, 1])
                                                   and (Mvf[q, 5] != Mvf[q - 1, 5])))
                or ((Mvf[q, 1] != Mvf[q - 1, 1]) and (Mvf[q, 3] == "Linear Regulator")
                    and (Mvf[q - 1, 3] == "Linear Regulator"))):
            Mvf[q, 8] = int(Mvf[q - 1, 8]) + 1
        else:
            Mvf[q, 8] = int(Mvf[q - 1, 8])
    price_vector = np.arange(int(Mvf[0, 8]) - 1, int(Mvf[Nrows - 1, 8]) + 1)
    for q in range(Nrows):
        elements[int(Mvf[q, 1]) - 1].iMR[Mvf[q, 6]][int(Mvf[q, 5]) - 1] = (
            int(Mvf[q, 8]) - price_vector[0] + 1)
    for e in elements:
        e.calculate_PRM(price_vector.shape[0])
    return price_vector, np.vstack([e.PRM for e in elements])


def as_notebook(spec: PbpmSpec) -> list[NotebookElement]:
    """The spec's elements as the notebook's (a missing price reads as its widget's 0)."""
    return [NotebookElement(e.name, e.kind, e.regulator, len(e.conditions),
                            [c.buy_price or 0.0 for c in e.conditions],
                            [c.sell_price or 0.0 for c in e.conditions]) for e in spec.elements]


def both(spec: PbpmSpec):
    return [(s.values["price_vector"], s.values["prm"])
            for s in (compute_spec(spec), vectorised.compute(vectorised.arrays(spec)))]


@pytest.mark.parametrize("case", ["pbpm_notebook_default", "pbpm_readme_screenshot",
                                  "pbpm_c_snippet_notebook_inputs", "pbpm_edge_ties",
                                  "pbpm_edge_bidirectional_equal"])
def test_cases_the_notebook_can_state_match_its_code(registry, case):
    spec = load_case(registry.cases[case], registry.formulations["pbpm"]).data
    expected_vector, expected_prm = notebook_prms(as_notebook(spec))
    for vector, prm in both(spec):
        assert np.array_equal(vector, expected_vector) and np.array_equal(prm, expected_prm)


def _random_notebook_spec(rng: random.Random, grid: list[float]) -> dict:
    elements = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.choice(["Source", "Load", "Bidirectional"])
        conditions = []
        for _ in range(rng.randint(1, 3)):
            a, b = sorted(rng.sample(grid, 2) if rng.random() < 0.7 else [rng.choice(grid)] * 2)
            conditions.append({"Source": {"sell_price": a}, "Load": {"buy_price": a}}.get(
                kind, {"buy_price": a, "sell_price": b}))  # the notebook: both prices
        elements.append({"kind": kind, "regulator": rng.choice(["Linear Regulator",
                                                                "Not Regulator"]),
                         "conditions": conditions})
    return {"min_price": min(grid), "max_price": max(grid), "elements": elements}


def test_both_implementations_are_the_notebooks_code_on_random_element_lists():
    """A coarse price grid (many ties, negative prices too): the default tie order is the
    order the notebook's code gives, cell for cell."""
    rng = random.Random(404)
    tested = 0
    for _ in range(500):
        try:
            spec = PbpmSpec.model_validate(_random_notebook_spec(
                rng, [-1.0, -0.5, 0.0, 0.5, 1.0, 2.0]))
        except ValidationError:
            continue  # a condition whose prices collapse onto one index
        expected_vector, expected_prm = notebook_prms(as_notebook(spec))
        for vector, prm in both(spec):
            assert np.array_equal(vector, expected_vector), spec
            assert np.array_equal(prm, expected_prm), spec
        tested += 1
    assert tested > 400


def test_the_notebooks_own_string_sort_keeps_list_order_among_ties_up_to_16_rows():
    """Where string order equals numeric order (prices 0.0 to 9.0 in one format), the
    seed's unchanged ``argsort`` gives our default for up to 16 price rows: NumPy's default
    sort is an insertion sort, stable, below 17 elements. Above that it may reorder ties,
    which is why the port names the order instead of inheriting it."""
    rng = random.Random(16)
    tested = 0
    while tested < 200:
        spec_data = _random_notebook_spec(rng, [0.0, 1.0, 2.0, 3.0])
        try:
            spec = PbpmSpec.model_validate(spec_data)
        except ValidationError:
            continue
        rows = sum(2 if e.kind == "Bidirectional" else 1
                   for e in spec.elements for _ in e.conditions)
        if rows > 16:
            continue
        vector, prm = notebook_prms(as_notebook(spec), numeric=False)
        (ours_vector, ours_prm), _ = both(spec)
        assert np.array_equal(vector, ours_vector) and np.array_equal(prm, ours_prm), spec
        tested += 1
