"""Hook specifications of the ``gridbench`` entry-point group.

A plugin is any module (or object) with functions decorated by :data:`hookimpl`,
registered through an entry point in the ``gridbench`` group::

    [project.entry-points.gridbench]
    my_plugin = "my_package.plugin"

Each hook returns a list; a plugin implements only the hooks it needs. Every hook is a
collector without arguments, so one failing plugin can be skipped without losing the rest.
"""

from __future__ import annotations

from pathlib import Path

import click
import pluggy

from bench.records import Backend, Benchmark, CaseSource, Formulation, SolverSpec

PROJECT_NAME = "gridbench"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def gridbench_backends() -> list[Backend]:
    """Modelling backend adapters (Pyomo, PuLP, CVXPY, ...) this plugin provides."""


@hookspec
def gridbench_solvers() -> list[SolverSpec]:
    """Solvers, each for one backend (the backend may come from another plugin)."""


@hookspec
def gridbench_formulations() -> list[Formulation]:
    """Formulations with one implementation per backend."""


@hookspec
def gridbench_cases() -> list[CaseSource]:
    """Cases: validated data for a formulation (usually files in ``cases/``)."""


@hookspec
def gridbench_references() -> list[Path]:
    """Reference-result files (TOML, format in ``reference_results/README.md``)."""


@hookspec
def gridbench_benchmarks() -> list[Benchmark]:
    """Timing studies for ``gridbench bench`` (kept out of the test suite)."""


@hookspec
def gridbench_commands() -> list[click.Command]:
    """Extra ``gridbench`` subcommands (click commands), e.g. a method's own front end."""
