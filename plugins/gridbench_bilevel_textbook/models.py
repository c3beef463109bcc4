"""Backend builds, quantities and checks of bilevel_textbook, all through the engine's kit:
each build states the case with the builder API, reformulates it and emits the MILP."""

from __future__ import annotations

from bench.api import ORACLE_BACKEND, BilevelKit
from gridbench_bilevel_textbook.data import options_from_data, problem_from_data
from gridbench_raw.bilevel import to_raw

KIT = BilevelKit(problem_from_data, options_from_data)

build_pyomo = KIT.builder("pyomo")
build_pulp = KIT.builder("pulp")
build_cvxpy = KIT.builder("cvxpy")
build_raw = KIT.builder("raw", emitter=to_raw)
build_oracle = KIT.builder(ORACLE_BACKEND)
problem = KIT.problem
quantities = KIT.quantities
verify = KIT.verify
report_section = KIT.report_section
