"""pytest plugin: gridbench's registered benchmarks as pytest-benchmark tests.

Registered through the ``pytest11`` entry point (``gridbench``), so every pytest session
in an environment with gridbench installed loads it; it does nothing unless asked. Only
``--gridbench-bench NAME`` (repeatable; the names ``gridbench bench`` lists) makes it plan
runs and collect tests, one per (benchmark, case, variant, backend, solver)::

    pytest --gridbench-bench market_scaling --benchmark-json out.json
    pytest --gridbench-bench pbpm_scaling --gridbench-case pbpm_gen_10 \\
        --gridbench-backend pbpm_numpy --benchmark-autosave

pytest-benchmark (``pip install 'gridbench[bench]'``) times each run with
``benchmark.pedantic`` and stores comparable JSON (``--benchmark-json``,
``--benchmark-autosave``, ``--benchmark-compare``, ``--benchmark-compare-fail``); the test
itself is in :mod:`bench.pytest_benchmarks`. docs/running.md, "pytest-benchmark", has the
workflow.

Collection: the benchmarks are no files, and pytest-benchmark's ``benchmark`` fixture needs a
plain test function, so the runs are the parameters of one ordinary test function in a
module shipped inside the package (``bench/pytest_benchmarks.py``, whose name no test
pattern matches). With ``--gridbench-bench`` this plugin's :hook:`pytest_collection`
collects that module (plus any test paths given explicitly on the command line) through
``Session.perform_collect(args)``, instead of the ``testpaths``; its
:hook:`pytest_generate_tests` parametrises the test over the runs planned in
``pytest_configure`` (``bench.runner.plan_runs``, as ``gridbench bench`` plans them). Custom
``pytest.Item`` subclasses would get no fixtures, and a ``pytest_collection_modifyitems``
filter would still collect (and import) the whole test suite first. Without the option no
hook here does anything, and nothing heavier than pytest is imported at load time.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# the test module collected for --gridbench-bench (found by path: it is never imported here)
BENCH_MODULE = Path(__file__).with_name("pytest_benchmarks.py")

# Test-only: seconds slept inside the timed target after each run, so that
# tests/test_pytest_plugin.py can check that --benchmark-compare-fail catches a slowdown.
# It exists for exactly that test; never set it for a real measurement.
INJECT_DELAY_ENV = "GRIDBENCH_BENCH_INJECT_DELAY"


@dataclass(frozen=True)
class BenchRun:
    """One test: a planned run of a benchmark and how often to time it."""

    benchmark: Any  # bench.records.Benchmark
    planned: Any  # bench.runner.PlannedRun
    rounds: int
    time_limit_s: float

    @property
    def id(self) -> str:
        p = self.planned
        return f"{self.benchmark.name}-{p.case.name}-{p.variant.name}-{p.backend}-{p.solver.name}"

    @property
    def group(self) -> str:
        """pytest-benchmark's group: every pair on one case of one benchmark."""
        return f"{self.benchmark.name} {self.planned.case.name}"

    @property
    def series_key(self) -> tuple[str, str, str, str]:
        p = self.planned
        return (self.benchmark.name, p.variant.name, p.backend, p.solver.name)


@dataclass
class BenchContext:
    """What every test of the session shares: the registry, references and the plan."""

    registry: Any
    book: Any
    runs: list[BenchRun]
    # a series benchmark's pair that did not finish a case -> that case: the larger cases
    # are skipped for it (as `gridbench bench` skips them)
    stopped: dict[tuple[str, str, str, str], str] = field(default_factory=dict)


_CONTEXT = pytest.StashKey[BenchContext]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gridbench", "gridbench benchmarks as pytest-benchmark tests")
    group.addoption("--gridbench-bench", action="append", default=[], metavar="NAME",
                    help="Collect one pytest-benchmark test per planned run of the gridbench "
                         "benchmark NAME (repeatable; `gridbench bench` lists them). "
                         "Without it this plugin collects nothing.")
    group.addoption("--gridbench-backend", action="append", default=[], metavar="NAME",
                    help="Only these backends (repeatable).")
    group.addoption("--gridbench-solver", action="append", default=[], metavar="NAME",
                    help="Only these solvers (repeatable).")
    group.addoption("--gridbench-case", action="append", default=[], metavar="NAME",
                    help="Only these of the benchmark's cases (repeatable).")
    group.addoption("--gridbench-rounds", type=int, default=None, metavar="N",
                    help="Timed rounds per run (default: the benchmark's repeat).")
    group.addoption("--gridbench-time-limit", type=float, default=None, metavar="SECONDS",
                    help="Solver time limit per run (default: the benchmark's).")
    group.addoption("--gridbench-reference-file", action="append", default=[],
                    metavar="PATH", help="Extra published values to check each run against "
                                         "(as `gridbench run --reference-file`).")


def pytest_configure(config: pytest.Config) -> None:
    names = config.getoption("gridbench_bench", default=[])
    if not names:
        return
    if importlib.util.find_spec("pytest_benchmark") is None:
        raise pytest.UsageError("--gridbench-bench needs pytest-benchmark: "
                                "pip install 'gridbench[bench]'")
    config.stash[_CONTEXT] = _plan(config, names)


def _plan(config: pytest.Config, names: list[str]) -> BenchContext:
    from dataclasses import replace

    from bench.errors import InputError
    from bench.references import load_reference_book
    from bench.registry import load_registry
    from bench.runner import Selection, plan_runs
    from bench.user_files import add_user_files

    registry = load_registry()
    unknown = [n for n in names if n not in registry.benchmarks]
    if unknown:
        raise pytest.UsageError(
            f"--gridbench-bench: unknown benchmark {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(sorted(registry.benchmarks)) or 'none'})")
    rounds = config.getoption("gridbench_rounds")
    if rounds is not None and rounds < 1:
        raise pytest.UsageError("--gridbench-rounds must be at least 1")
    time_limit = config.getoption("gridbench_time_limit")
    filters = {"backends": config.getoption("gridbench_backend"),
               "solvers": config.getoption("gridbench_solver"),
               "cases": config.getoption("gridbench_case")}
    benchmarks = [registry.benchmarks[n] for n in dict.fromkeys(names)]
    outside = [c for c in filters["cases"] if not any(c in b.cases for b in benchmarks)]
    if outside:
        raise pytest.UsageError(f"--gridbench-case {', '.join(map(repr, outside))}: not a case "
                                f"of {', '.join(names)}")
    runs: list[BenchRun] = []
    try:
        add_user_files(registry, (), config.getoption("gridbench_reference_file"))
        book, _ = load_reference_book(registry)
        for benchmark in benchmarks:
            for attr, chosen in filters.items():
                own = getattr(benchmark, attr)
                chosen = [c for c in chosen if not own or c in own]
                if not chosen and filters[attr]:
                    break  # none of the asked names belongs to this benchmark: no runs
                if chosen:
                    benchmark = replace(benchmark, **{attr: tuple(chosen)})
            else:
                plan = plan_runs(registry, Selection(
                    formulations=(benchmark.formulation,), variants=benchmark.variants,
                    cases=benchmark.cases, backends=benchmark.backends,
                    solvers=benchmark.solvers))
                order = {case: i for i, case in enumerate(benchmark.cases)}
                for planned in sorted(plan.runs,
                                      key=lambda r: order.get(r.case.name, len(order))):
                    runs.append(BenchRun(benchmark, planned, rounds or benchmark.repeat,
                                         time_limit or benchmark.time_limit_s))
    except InputError as exc:
        raise pytest.UsageError(f"--gridbench-bench: {exc}") from None
    if not runs:
        raise pytest.UsageError("--gridbench-bench: no runs match the --gridbench-backend, "
                                "--gridbench-solver and --gridbench-case filters")
    return BenchContext(registry, book, runs)


def pytest_collection(session: pytest.Session) -> bool | None:
    config = session.config
    if _CONTEXT not in config.stash:
        return None  # pytest's own collection
    args = [str(BENCH_MODULE)]
    if config.args_source is pytest.Config.ArgsSource.ARGS:
        args += [a for a in config.args if Path(a) != BENCH_MODULE]
    session.perform_collect(args)
    return True


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "gridbench_run" not in metafunc.fixturenames:
        return
    context = metafunc.config.stash.get(_CONTEXT, None)
    runs = context.runs if context is not None else []
    metafunc.parametrize("gridbench_run", [
        pytest.param(run, id=run.id, marks=pytest.mark.benchmark(group=run.group))
        for run in runs])


@pytest.fixture(scope="session")
def gridbench_context(request: pytest.FixtureRequest) -> BenchContext:
    context = request.config.stash.get(_CONTEXT, None)
    if context is None:
        pytest.skip("gridbench benchmarks run only with --gridbench-bench NAME")
    return context
