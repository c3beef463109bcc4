"""Seeded element lists for the scaling benchmark (non-default cases ``pbpm_gen_<n>``).

A mix of 40 % sources, 40 % loads and 20 % bidirectional elements; 5 % of them linear
regulators (two regulators consecutive in the tie order need price indices of their own, so
this fraction, with the price grid, sets the PRM width). Prices lie on a 0.05 grid in
[-1, 5]; a source or load has one or two operating conditions; a bidirectional element has
one condition with buy <= sell, or two like the C snippet's battery (a buy-only low-charge
condition, then buy <= sell with the buy price not below the first one, which keeps every
condition's buy and sell apart).
"""

from __future__ import annotations

from typing import Any

import numpy as np

SIZES = (10, 100, 1000, 10_000)
SEED = 20240604
MIN_PRICE, MAX_PRICE, STEP = -1.0, 5.0, 0.05


def _price(rng: np.random.Generator, low: float = MIN_PRICE, high: float = MAX_PRICE) -> float:
    steps = int(round((high - low) / STEP))
    return round(low + STEP * int(rng.integers(0, steps + 1)), 2)


def generated_elements(n_elements: int, seed: int = SEED) -> list[dict[str, Any]]:
    rng = np.random.default_rng([seed, n_elements])
    kinds = rng.choice(["Source", "Load", "Bidirectional"], size=n_elements, p=[0.4, 0.4, 0.2])
    regulating = rng.random(n_elements) < 0.05
    elements = []
    for i, (kind, lr) in enumerate(zip(kinds, regulating, strict=True), start=1):
        two = bool(rng.random() < 0.3)
        if kind == "Source":
            conditions = [{"sell_price": _price(rng)} for _ in range(1 + two)]
        elif kind == "Load":
            conditions = [{"buy_price": _price(rng)} for _ in range(1 + two)]
        else:
            low, high = sorted((_price(rng), _price(rng)))
            if two:
                first = _price(rng, MIN_PRICE, low)
                conditions = [{"buy_price": first, "label": "low charge"},
                              {"buy_price": low, "sell_price": high}]
            else:
                conditions = [{"buy_price": low, "sell_price": high}]
        elements.append({"name": f"{kind.lower()}_{i}", "kind": str(kind),
                         "regulator": "Linear Regulator" if lr else "Not Regulator",
                         "conditions": conditions})
    return elements


def generated_case(n_elements: int, seed: int = SEED) -> dict[str, Any]:
    """The raw case mapping ([case] and [data]) of ``pbpm_gen_<n_elements>``."""
    return {
        "case": {
            "name": f"pbpm_gen_{n_elements}",
            "formulation": "pbpm",
            "description": f"generated element list, {n_elements} elements (scaling benchmark)",
            "fidelity": "reconstructed",
            "provenance": f"gridbench_pbpm.generate, seed {seed}",
            "assumptions": ["synthetic element mix and prices; no published values"],
        },
        "data": {"min_price": MIN_PRICE, "max_price": MAX_PRICE,
                 "elements": generated_elements(n_elements, seed)},
    }
