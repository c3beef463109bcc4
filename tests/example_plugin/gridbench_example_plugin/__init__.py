"""Example third-party plugin: a 0/1 knapsack solved with PuLP.

For gridbench's own tests, the environment variable ``GRIDBENCH_EXAMPLE_BREAK`` breaks this
plugin on purpose: ``import`` raises while importing it, ``hook`` raises inside a hook.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from bench.api import (
    Check,
    Formulation,
    ProblemClass,
    Solution,
    Variant,
    case_files,
    hookimpl,
    objective_check,
    solution_check,
)

if os.environ.get("GRIDBENCH_EXAMPLE_BREAK") == "import":
    raise ImportError("broken on purpose (GRIDBENCH_EXAMPLE_BREAK=import)")

HERE = Path(__file__).parent


class KnapsackData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: list[float] = Field(min_length=1)
    weights: list[float] = Field(min_length=1)
    capacity: float = Field(ge=0)


def quantities(data: KnapsackData, variant: str, solution: Solution) -> dict[str, float]:
    chosen = solution.values["take"]
    return {"value": float(np.dot(data.values, chosen)),
            "weight": float(np.dot(data.weights, chosen))}


def verify(data: KnapsackData, variant: str, solution: Solution) -> list[Check]:
    take = solution.values["take"]
    return [
        solution_check("binary[take]", float(np.abs(take - np.round(take)).max()), 1e-6),
        solution_check("capacity", max(0.0, float(np.dot(data.weights, take)) - data.capacity),
                       1e-6),
        objective_check(solution.objective, float(np.dot(data.values, take))),
    ]


FORMULATION = Formulation(
    name="example_knapsack",
    description="0/1 knapsack (third-party example)",
    variants=(Variant("default", ProblemClass.MILP, "maximise value within the capacity"),),
    case_schema=KnapsackData,
    implementations={"pulp": "gridbench_example_plugin.pulp_model:build"},
    quantities=quantities,
    quantity_names=("value", "weight"),
    verify=verify,
)


@hookimpl
def gridbench_formulations():
    if os.environ.get("GRIDBENCH_EXAMPLE_BREAK") == "hook":
        raise RuntimeError("broken on purpose (GRIDBENCH_EXAMPLE_BREAK=hook)")
    return [FORMULATION]


@hookimpl
def gridbench_cases():
    return case_files(HERE / "cases")


@hookimpl
def gridbench_references():
    return [HERE / "reference.toml"]
