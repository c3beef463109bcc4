"""The linear-bilevel engine's own plugin: the ``bilevel_oracle`` backend and its solver.

Registered by the harness itself (``bench.registry``), not by a formulation, so every
formulation built on the engine (bilevel_textbook, dg_contract_pricing, a third party's)
finds the exact oracle whichever of them is installed or blocked.
"""

from __future__ import annotations

from bench.bilevel.variants import oracle_backend
from bench.hookspecs import hookimpl

NAME = "bilevel_engine"


@hookimpl
def gridbench_backends():
    return [oracle_backend()]


@hookimpl
def gridbench_solvers():
    return [oracle_backend().solver()]
