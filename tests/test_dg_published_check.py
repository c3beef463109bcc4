"""dg_contract_pricing: `gridbench dg-published-check` on the printed Tables 2-63 (no solver).

The printed cells are copied from the seed into the plugin's thesis_tables.json; every identity
they obey is checked with interval arithmetic on the printed precision. The broken ones are
probable errata of the thesis (docs/dg_published_check.md gives the arithmetic of each)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter

import pytest
from conftest import gridbench

from gridbench_dg_contract_pricing.published import (
    BROKEN,
    HOLDS,
    HOLDS_TRUNCATED,
    TABLES_FILE,
    Cell,
    Iv,
    ThesisTables,
    check_thesis_tables,
    load_published,
    verdict_of,
)

# (table, identity) of every identity broken beyond the printed rounding: the probable errata
BROKEN_IDENTITIES = {
    ("28", "Cenário A: saving = without DG - with DG"),
    ("36", "Estágio 2: present value = nominal x 0.9091 (stage 2)"),
    ("36", "Estágio 3: present value = nominal x 0.8264 (stage 3)"),
    ("36", "present value: total = Estágio 1 + Estágio 2 + Estágio 3"),
    ("36", "GD1, Estágio 3: profit = (price - 55) x 1.5 MW x 8760 h x CF"),
    ("48", "GD3: CF (Table 48) from Table 51: CF = active energy [kWh] / (1500 kW x 8760 h) x 100"),
    ("49", "GD3, Modelo Atual: profit = (price - 55) x 1.5 MW x 8760 h x CF"),
    ("61", "GD1, Estágio 3 / Cap.8: copy of Table 39 (GD1 / Estágio 3 / Atual)"),
}
# percentages that hold only if the printed value was truncated, not rounded
TRUNCATED_IDENTITIES = {
    ("7 text", "seed line 2113 ('a economia foi de 167.801,84 €, ou seja, 3,70%'): "
               "text % = Economia / Sem GD (Table 7)"),
    ("35", "Diferença, Total(Valor Presente): Diferença = Modelo Atual / Modelo Cap.5 - 1 (%)"),
    ("50", "Diferença: Diferença = Modelo Atual / Modelo Cap.7 - 1 (%)"),
    ("58", "Diferença, Estágio 3: Diferença = Valor Presente Atual / Valor Presente Cap.8 - 1 (%)"),
    ("62", "Diferença, Estágio 2: Diferença = Modelo Atual / Modelo Cap.8 - 1 (%)"),
}


@pytest.fixture(scope="module")
def identities():
    return check_thesis_tables()


def test_every_table_2_to_63_is_covered(identities):
    assert len(identities) >= 250
    used = {c.table for i in identities for c in i.cells}
    assert {str(n) for n in range(2, 64)} <= used  # every table's cells enter some identity
    checked = {i.table.split()[0] for i in identities}
    assert len(checked) >= 50
    assert len({(i.table, i.identity) for i in identities}) == len(identities)  # unique names


def test_broken_and_truncated_identities_are_exactly_the_known_errata(identities):
    by_verdict = {v: {(i.table, i.identity) for i in identities if i.verdict == v}
                  for v in (BROKEN, HOLDS_TRUNCATED)}
    assert by_verdict[BROKEN] == BROKEN_IDENTITIES
    assert by_verdict[HOLDS_TRUNCATED] == TRUNCATED_IDENTITIES
    assert Counter(i.verdict for i in identities)[HOLDS] == (
        len(identities) - len(BROKEN_IDENTITIES) - len(TRUNCATED_IDENTITIES))


def test_nesting_orderings_carry_their_reason(identities):
    nesting = [i for i in identities if "nesting" in i.identity]
    assert {i.table for i in nesting} == {"25", "29", "31", "36", "49"}
    assert len(nesting) == 7
    assert all(i.verdict == HOLDS and i.note and i.expected.hi == float("inf") for i in nesting)


def test_interval_verdicts():
    pct = Cell("x", "r", "c", "3,70%", 1)
    assert verdict_of(Iv(3.7073, 3.7073), pct) == HOLDS_TRUNCATED
    assert verdict_of(Iv(3.7049, 3.7049), pct) == HOLDS
    assert verdict_of(Iv(3.7200, 3.7200), pct) == BROKEN
    neg = Cell("x", "r", "c", "-1,79%", 1)
    assert verdict_of(Iv(-1.7958, -1.7958), neg) == HOLDS_TRUNCATED
    money = Cell("x", "r", "c", "192.990,48", 1)
    assert money.value == 192990.48 and money.half == 0.005
    assert verdict_of(Iv(192990.41, 192990.43), money) == BROKEN  # no truncation for money


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return text.replace(" / ", " ").replace(" ", "").lower()


def test_data_file_matches_the_reference_file():
    """thesis_tables.json and reference_results/dg_contract_pricing.toml hold the same numbers
    (Tables 2-7: chapter 4; 8-15: chapter 5; 16-24: chapter 6), and the same seed lines
    where the reference names one."""
    tables, checked, table_quantities = ThesisTables(), 0, 0
    for quantities in load_published().values():
        for printed in quantities.values():
            m = re.match(r"Table (\d+)(?: \(seed line (\d+)\))?, row ([^,(]+?)(?: \(bus \d+\))?"
                         r"(?:, column ([^(]+))?(?: \(.*)?$", printed.where)
            if not m:
                assert printed.where.startswith("text before Table 7")
                continue
            table_quantities += 1
            table, line = m.group(1), m.group(2)
            row, column = _plain(m.group(3)), _plain(m.group(4) or "")
            (cell,) = [c for (t, r, col), c in tables.cells.items()
                       if t == table and _plain(r) == row and _plain(col).startswith(column)]
            assert cell.value == pytest.approx(printed.value, abs=1e-9), printed.where
            assert cell.half == pytest.approx(printed.half), printed.where
            if line:
                assert cell.line == int(line), printed.where
            checked += 1
    # chapter 4 (67, and 13 cells again as the follower's answer at the printed prices),
    # chapter 5 (57), chapter 6 (61), chapters 7 and 9 (122), chapters 8 and 10 (186)
    assert checked == table_quantities == 67 + 13 + 57 + 61 + 122 + 186


def test_data_file_keeps_seed_lines_and_constants():
    raw = json.loads(TABLES_FILE.read_text(encoding="utf-8"))
    assert set(raw["tables"]) == {str(n) for n in range(2, 64)}
    for number, table in raw["tables"].items():
        assert table["caption"].startswith(f"Tabela {number} - ")
        lines = [r["line"] for r in table["rows"]]
        assert lines == sorted(lines) and lines[0] > table["line"]
    assert raw["constants"]["pv_factors"]["value"] == [1.0, 0.9091, 0.8264]
    assert all(c["lines"] for c in raw["constants"].values())


def test_command_writes_the_json_list(tmp_path):
    out = tmp_path / "out.json"
    done = gridbench("dg-published-check", "--json", str(out))
    assert done.returncode == 0, done.stderr
    assert "27 identities checked, 1 broken beyond rounding" in done.stdout  # Tables 2-7 (toml)
    assert re.search(r"\d+ identities over \d+ tables: \d+ hold, 5 hold only truncated, "
                     r"8 broken", done.stdout)
    items = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(items, list) and len(items) >= 250
    for item in items:
        assert {"table", "identity", "cells", "expected", "printed", "verdict"} <= set(item)
        assert isinstance(item["table"], str) and item["table"].split()[0].isdigit()
        assert item["verdict"] in (HOLDS, HOLDS_TRUNCATED, BROKEN)
        lo, hi = item["expected"]
        assert isinstance(lo, float) and (hi is None or lo <= hi)
        assert isinstance(item["printed"], float)
        assert item["cells"] and all({"table", "printed", "line"} <= set(c)
                                     for c in item["cells"])
    assert {(i["table"], i["identity"]) for i in items if i["verdict"] == BROKEN} == (
        BROKEN_IDENTITIES)
    assert any(i["table"] == "7 text" for i in items)
