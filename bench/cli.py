"""The ``gridbench`` command: list plugins, run validations, render reports.

Exit codes: 0 every check passed (unavailable solvers are skipped, not failures), 1 a check
or a run failed, 2 a usage or input error (one line on stderr).
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import signal
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click
from tabulate import tabulate

from bench import __version__, memo
from bench.errors import InputError
from bench.executor import ENV_SCHEDULER, DaskExecutor, Interrupted, LocalPool, scheduler_address
from bench.outputs import FileLock, check_output_paths, is_special, real_path, write_text
from bench.records import PluginProblem, SolveLimits, resolve
from bench.references import load_reference_book
from bench.registry import Registry, load_registry
from bench.report import checks_table, derived_table, markdown_report, runs_table, summary_line
from bench.results import ResultsFile, environment, read_results
from bench.resume import durations, fingerprint, reusable, reuse
from bench.runner import DEFAULT_TIME_LIMIT_S, Selection, execute, plan_runs
from bench.user_files import add_user_files
from bench.validation import agreement_checks, derived_checks
from bench.worker import (
    GRACE_FIXED_S,
    GRACE_FRACTION,
    RunTask,
    WorkerLimits,
    machine_memory_bytes,
    usable_cores,
    wall_limit_s,
)

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


class FiniteFloat(click.FloatRange):
    """A float range that also refuses nan and inf (click's range lets nan through: every
    comparison with it is false)."""

    name = "finite float"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def _fail_input(message: str) -> None:
    click.echo(f"gridbench: error: {message}", err=True)
    sys.exit(EXIT_INPUT)


def _registry(ctx: click.Context) -> Registry:
    """Load plugins once per invocation, honouring the group's -p and autoload options."""
    root = ctx.find_root()
    if "registry" not in root.meta:
        plugins, no_autoload = root.meta.get("plugin_args", ((), False))
        requested = [p for p in plugins if not p.startswith("no:")]
        blocked = [p[3:] for p in plugins if p.startswith("no:")]
        autoload = False if no_autoload else None
        root.meta["registry"] = load_registry(autoload=autoload, requested=requested,
                                              blocked=blocked)
    return root.meta["registry"]


def _warn_problems(problems: list[PluginProblem] | list[str], error: bool = False) -> None:
    for problem in problems:
        if isinstance(problem, PluginProblem):
            text = (f"plugin {problem.plugin!r} ({problem.distribution or 'no distribution'}) "
                    f"skipped, {problem.stage}: {problem.error}")
        else:
            text = f"invalid case not run: {problem}"
        level, colour = ("error", "red") if error else ("warning", "yellow")
        click.secho(f"gridbench: {level}: {text}", err=True, fg=colour)


class PluginGroup(click.Group):
    """The command group, plus subcommands that plugins contribute (``gridbench_commands``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Plugin options are needed before click handles eager options such as --help
        # (which lists plugin commands), so read them from the raw arguments first.
        plugins, no_autoload, rest = [], False, list(args)
        while rest and rest[0].startswith("-"):
            arg = rest.pop(0)
            if arg == "-p" and rest:
                plugins.append(rest.pop(0))
            elif arg.startswith("-p"):
                plugins.append(arg[2:])
            elif arg == "--disable-plugin-autoload":
                no_autoload = True
        ctx.meta["plugin_args"] = (tuple(plugins), no_autoload)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_registry(ctx).commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or _registry(ctx).commands.get(name)


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gridbench")
@click.option("-p", "plugins", multiple=True, metavar="NAME",
              help="Load entry point (or module) NAME even with autoload disabled; "
                   "'no:NAME' blocks it.")
@click.option("--disable-plugin-autoload", "no_autoload", is_flag=True,
              help="Load only plugins named with -p (or GRIDBENCH_DISABLE_PLUGIN_AUTOLOAD=1).")
def cli(plugins: tuple[str, ...], no_autoload: bool) -> None:
    """gridbench: re-solve published energy-optimisation models and check their numbers."""


# ---------------------------------------------------------------------------- list


@cli.command("list")
@click.pass_context
def list_command(ctx: click.Context) -> None:
    """Plugins, backends, solvers (with availability), formulations and cases."""
    registry = _registry(ctx)
    owner = registry.owner
    plugins = [[p.name, p.distribution, p.version, p.module] for p in registry.plugins]
    click.echo("Plugins\n" + tabulate(plugins, ["plugin", "distribution", "version", "module"],
                                      disable_numparse=True))

    backends = [[name, b.version() or "", "yes" if b.available() else "no",
                 owner.get(("backend", name), "")] for name, b in sorted(registry.backends.items())]
    click.echo("\nBackends\n" + tabulate(backends, ["backend", "version", "available", "plugin"],
                                         disable_numparse=True))

    solvers = []
    for (backend, name), spec in sorted(registry.solvers.items()):
        available = _probe(spec.available)
        solvers.append([backend, name, spec.native,
                        " ".join(sorted(str(c) for c in spec.problem_classes)),
                        " ".join(sorted(str(f) for f in spec.capabilities)),
                        "yes" if available else "no",
                        (_probe(spec.version) or "") if available else "",
                        "commercial" if spec.commercial else "",
                        "" if spec.default else "on request"])
    click.echo("\nSolvers\n" + tabulate(
        solvers, ["backend", "solver", "native", "classes", "features", "available", "version",
                  "licence", "default run"], disable_numparse=True))

    formulations = [[name, ", ".join(f"{v.name} ({v.problem_class})" for v in f.variants),
                     ", ".join(sorted(f.implementations)), owner.get(("formulation", name), "")]
                    for name, f in sorted(registry.formulations.items())]
    click.echo("\nFormulations\n" + tabulate(
        formulations, ["formulation", "variants", "backends", "plugin"], disable_numparse=True))

    cases = [[name, c.formulation, owner.get(("case", name), ""), c.origin]
             for name, c in sorted(registry.cases.items())]
    click.echo("\nCases\n" + tabulate(cases, ["case", "formulation", "plugin", "origin"],
                                      disable_numparse=True))
    _warn_problems(registry.problems)


def _probe(func) -> Any:
    try:
        return func()
    except Exception:
        return None


# ---------------------------------------------------------------------------- run


@cli.command("run")
@click.option("-f", "--formulation", "formulations", multiple=True, help="Formulation name.")
@click.option("-b", "--backend", "backends", multiple=True, help="Backend (pyomo, pulp, cvxpy...).")
@click.option("-s", "--solver", "solvers", multiple=True,
              help="Solver (highs, scip, cbc...); naming one also selects non-default solvers.")
@click.option("-c", "--case", "cases", multiple=True, help="Case name.")
@click.option("--variant", "variants", multiple=True, help="Formulation variant.")
@click.option("--case-file", "case_files", multiple=True, metavar="PATH",
              type=click.Path(dir_okay=False),
              help="Run a case file of your own (its [case] formulation names a registered "
                   "formulation); repeatable. Only these cases run unless -c names more.")
@click.option("--reference-file", "reference_files", multiple=True, metavar="PATH",
              type=click.Path(dir_okay=False),
              help="Published values for your cases (reference_results/README.md format).")
@click.option("--time-limit", type=FiniteFloat(min=0, min_open=True), metavar="SECONDS",
              default=DEFAULT_TIME_LIMIT_S, show_default=True,
              help="Seconds per solve; the watchdog kills a run after this plus a grace "
                   f"({GRACE_FRACTION:g} x the limit + {GRACE_FIXED_S:g} s).")
@click.option("--grace", "grace_s", type=FiniteFloat(min=0), metavar="SECONDS",
              help="Replace the watchdog's grace beyond the time limit.")
@click.option("--mip-gap", type=FiniteFloat(min=0), metavar="GAP",
              default=SolveLimits().mip_rel_gap,
              show_default=True, help="Relative MIP gap every solver must close.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Runs at a time, each in its own worker process  [default: the number of "
                   "cores]; solver threads are limited so that jobs x threads <= cores.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
              show_default=True, help="Where runs execute: worker processes on this machine, "
                                      "or tasks on a Dask cluster (gridbench[dask]).")
@click.option("--scheduler", metavar="ADDRESS",
              help=f"Dask scheduler address for --executor dask (or ${ENV_SCHEDULER}).")
@click.option("--memory-limit", type=FiniteFloat(min=0, min_open=True), metavar="GB",
              help="Memory per run; a run that needs more ends as an error  [default: the "
                   "machine's memory / jobs].")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the results file (updated after every finished run).")
@click.option("--resume", is_flag=True,
              help="Keep the runs the --json file already holds (same key and fingerprint) "
                   "and run only the rest.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Markdown report.")
@click.option("--solver-logs", "log_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Keep each run's solver output in DIR (one file per run).")
@click.option("--checks", "show_checks", type=click.Choice(["failed", "all", "none"]),
              default="failed", show_default=True,
              help="Which checks to print after the run table.")
@click.option("--skip-invalid-cases", "skip_invalid", is_flag=True,
              help="Run the other cases when a case file does not validate (it is still "
                   "listed); without it an invalid case fails the run (exit 1).")
@click.option("--strict", is_flag=True, help="Exit 1 when a plugin or case had to be skipped.")
@click.pass_context
def run_command(ctx: click.Context, formulations, backends, solvers, cases, variants,
                case_files: tuple[str, ...], reference_files: tuple[str, ...],
                time_limit: float, grace_s: float | None, mip_gap: float,
                jobs: int | None, executor: str, scheduler: str | None,
                memory_limit: float | None, json_path: Path | None,
                resume: bool, report_path: Path | None, log_dir: Path | None,
                show_checks: str, skip_invalid: bool, strict: bool) -> None:
    """Run formulation x variant x case x backend x solver and check the results.

    Filters can be repeated (-f a -f b); without filters every formulation runs on its
    cases with every available default solver that supports its problem class. Every run
    executes in its own worker process: a run that hangs is killed by a watchdog
    (time_limit), one that crashes or runs out of memory ends as that run's error, and the
    others go on.
    """
    registry = _registry(ctx)
    given = ctx.get_parameter_source("time_limit") is not click.core.ParameterSource.DEFAULT
    lock = None
    try:
        if resume and json_path is None:
            raise InputError("--resume needs --json FILE (the results file to continue)")
        check_output_paths({"--json": json_path, "--report": report_path},
                           {"--solver-logs": log_dir})
        cases = (*cases, *add_user_files(registry, case_files, reference_files))
        book, reference_problems = load_reference_book(registry)
        plan = plan_runs(registry, Selection(formulations, variants, cases, backends, solvers))
        pool = _executor(executor, scheduler, jobs, ctx, case_files, reference_files)
        if json_path is not None and not is_special(real_path(json_path)):
            lock = FileLock(json_path).acquire()
        previous = _previous(json_path, resume)
        limits = SolveLimits(time_limit_s=time_limit, mip_rel_gap=mip_gap,
                             threads=pool.threads, solver_output=log_dir is not None)
        memory = (int(memory_limit * 2**30) if memory_limit else
                  pool.default_memory_bytes)
        tasks = _tasks(plan, registry, limits, memory, log_dir, previous, own_limits=not given,
                       grace_s=grace_s)
    except InputError as exc:
        _warn_problems(registry.problems)  # e.g. why a formulation is missing
        _fail_input(str(exc))
    _warn_problems(registry.problems)
    _warn_problems(plan.case_problems, error=not skip_invalid)
    if plan.skipped:
        click.echo(f"gridbench: not installed, skipped: {', '.join(plan.skipped)}", err=True)

    results = ResultsFile(json_path, {**environment(registry), "time_limit_s": time_limit,
                                      "mip_rel_gap": mip_gap, "jobs": pool.jobs,
                                      "executor": executor, "solver_threads": pool.threads,
                                      "memory_limit_gb": memory / 2**30 if memory else None,
                                      "command": " ".join(sys.argv),
                                      "invalid_cases": plan.case_problems},
                            planned=len(tasks))
    results.invalid_cases = 0 if skip_invalid else len(plan.case_problems)
    results.invalid_references = len(reference_problems)
    published = {t.index: len(book.for_run(t.key[0], t.key[2], t.key[1])) for t in tasks}
    to_run = []
    reusable_runs = reusable(previous) if resume else {}
    for task in tasks:
        old = reusable_runs.get((task.key, task.fingerprint))
        if old is not None:
            results.add(reuse(old, book), task.index)
        elif task.planned.skip_reason:  # nothing to build or solve: no worker needed
            results.add(execute(task.planned, registry, book, task.limits), task.index)
        else:
            to_run.append(task)
    if resume:
        click.echo(f"gridbench: reusing {len(tasks) - len(to_run)} of {len(tasks)} runs from "
                   f"{json_path}", err=True)
    cache = tempfile.TemporaryDirectory(prefix="gridbench-cache-")
    os.environ.setdefault(memo.ENV_CACHE_DIR, cache.name)  # values shared between workers
    try:
        signum = _execute(pool.executor, to_run, registry, book, results)
        results.interrupted = signum is not None
        results.published_planned = sum(  # a run that cannot state its case checks nothing
            n for index, n in published.items() if index not in results.skipped_indices())
        results.extra["sections"] = _sections(registry, results)
        doc = results.finish(derived_checks(results.results, book)
                             + agreement_checks(results.results, registry.formulations))
    finally:
        if lock is not None:
            lock.release()
        if os.environ.get(memo.ENV_CACHE_DIR) == cache.name:
            del os.environ[memo.ENV_CACHE_DIR]
        cache.cleanup()
    _print_run(doc, show_checks)
    if report_path is not None:
        try:
            write_text(report_path, markdown_report(doc))
            click.echo(f"report written to {report_path}")
        except OSError as exc:
            click.echo(f"gridbench: error: cannot write {report_path}: {exc.strerror}",
                       err=True)
    if json_path is not None:
        click.echo(f"results written to {json_path}")
    if signum is not None:
        name = signal.Signals(signum).name
        again = (f"; to finish the remaining runs: {_resume_command()}" if json_path is not None
                 else "; give --json FILE to be able to resume")
        click.echo(f"gridbench: interrupted by {name}: {len(results.results)} of {len(tasks)} "
                   f"runs finished{again}", err=True)
        sys.exit(128 + signum)
    problems = bool(registry.problems or plan.case_problems)
    sys.exit(EXIT_OK if doc["summary"]["ok"] and not (strict and problems) else EXIT_FAILED)


@dataclass
class _Pool:
    executor: Any
    jobs: int
    threads: int
    default_memory_bytes: int | None


def _executor(kind: str, scheduler: str | None, jobs: int | None, ctx: click.Context,
              case_files: tuple[str, ...] = (), reference_files: tuple[str, ...] = ()
              ) -> _Pool:
    cores = usable_cores()
    if kind == "dask":
        address = scheduler_address(scheduler)
        if not address:
            raise InputError(f"--executor dask needs --scheduler ADDRESS (or ${ENV_SCHEDULER})")
        plugins, no_autoload = ctx.find_root().meta.get("plugin_args", ((), False))
        plugin_args = {"requested": [p for p in plugins if not p.startswith("no:")],
                       "blocked": [p[3:] for p in plugins if p.startswith("no:")],
                       "autoload": False if no_autoload else None,
                       # the workers read the user's files too (same paths: shared storage)
                       "case_files": [str(Path(p).resolve()) for p in case_files],
                       "reference_files": [str(Path(p).resolve()) for p in reference_files]}
        # a Dask worker runs as many tasks as it has threads: one solver thread each
        return _Pool(DaskExecutor(address, plugin_args), jobs or cores, 1, None)
    if scheduler:
        raise InputError("--scheduler is for --executor dask")
    jobs = jobs or cores
    return _Pool(LocalPool(jobs), jobs, max(1, cores // jobs), machine_memory_bytes() // jobs)


def _previous(json_path: Path | None, resume: bool) -> dict[str, Any] | None:
    """The existing results file: required to be one with --resume, else only a source of
    durations (anything unreadable is ignored, it will be replaced)."""
    if json_path is None or not json_path.exists() or is_special(real_path(json_path)):
        return None
    try:
        return read_results(json_path)
    except InputError:
        if resume:
            raise
        return None


def _tasks(plan, registry: Registry, limits: SolveLimits, memory: int | None,
           log_dir: Path | None, previous: dict[str, Any] | None, own_limits: bool,
           grace_s: float | None = None) -> list[RunTask]:
    """The plan as executor tasks: each run's limits (a case may name a longer time limit
    for its own runs unless --time-limit was given), log file and expected duration."""
    seconds = durations(previous)
    tasks = []
    for index, planned in enumerate(plan.runs):
        run_limits = limits
        if own_limits and planned.case.time_limit_s is not None:
            run_limits = replace(limits, time_limit_s=planned.case.time_limit_s)
        key = (planned.formulation.name, planned.variant.name, planned.case.name,
               planned.backend, planned.solver.name)
        log_path = None if log_dir is None else log_dir / _log_name(key)
        estimate = seconds.get(key, planned.case.time_limit_s or 0.0)
        worker = WorkerLimits(wall_limit_s(run_limits.time_limit_s, grace_s), memory)
        tasks.append(RunTask(index, planned, run_limits, worker, log_path, estimate,
                             fingerprint(planned, run_limits, registry)))
    return tasks


def _log_name(key: tuple[str, ...]) -> str:
    return ".".join(re.sub(r"[^A-Za-z0-9_-]+", "_", part) for part in key) + ".log"


def _resume_command() -> str:
    args = sys.argv[1:]
    if "--resume" not in args:
        at = args.index("run") + 1 if "run" in args else 0
        args = [*args[:at], "--resume", *args[at:]]
    return shlex.join(["gridbench", *args])


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signum)


def _execute(executor, tasks: list[RunTask], registry, book, results: ResultsFile
             ) -> int | None:
    """Run the tasks with a progress bar on a terminal (one line per run otherwise); the
    signal number when SIGINT or SIGTERM interrupted them."""
    import tqdm as tqdm_module

    tqdm_module.tqdm.monitor_interval = 0  # no monitor thread: workers are forked
    progress = tqdm_module.tqdm(total=len(tasks), unit="run", file=sys.stderr, disable=None,
                                dynamic_ncols=True)
    running: set[int] = set()
    done = 0

    def started(task: RunTask) -> None:
        running.add(task.index)
        if not progress.disable:
            progress.set_postfix_str(f"{len(running)} running", refresh=True)

    def finished(task: RunTask, result) -> None:
        nonlocal done
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)  # a file write is never cut
        try:
            if task.log_path is not None and task.log_path.exists():  # the one place
                result.solver_log = str(task.log_path)  # (a killed run's log is kept too)
            running.discard(task.index)
            done += 1
            result.fingerprint = task.fingerprint
            results.add(result, task.index)
            label = (f"{result.formulation}/{result.variant}/{result.case} "
                     f"{result.backend}/{result.solver}: {result.status}")
            if progress.disable:  # not a terminal (CI, a log file): one line per run
                seconds = (result.build_time_s or 0) + (result.solve_time_s or 0)
                click.echo(f"[{done}/{len(tasks)}] {label} ({seconds:.1f} s)", err=True)
            else:
                progress.set_postfix_str(f"{len(running)} running; last {label}", refresh=False)
                progress.update()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)

    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in _SIGNALS}
    try:
        if tasks:
            executor.run(tasks, registry, book, finished, started)
    except Interrupted as exc:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the results be written
        return exc.signum
    except InputError as exc:
        progress.close()
        _fail_input(str(exc))
    finally:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is _raise_interrupted:
                signal.signal(sig, handler)
        progress.close()
    return None


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _sections(registry: Registry, results: ResultsFile) -> dict[str, str]:
    """Formulation-specific tables (e.g. a reformulation comparison) from the run dicts."""
    runs = results.document()["runs"]
    sections = {}
    for name, formulation in sorted(registry.formulations.items()):
        mine = [r for r in runs if r["formulation"] == name]
        if formulation.report_section is None or not mine:
            continue
        try:
            text = resolve(formulation.report_section)(mine)
        except Exception as exc:  # a plugin's report bug must not lose the results
            text = f"(report section failed: {type(exc).__name__}: {exc})"
        if text:
            sections[name] = text
    return sections


def _print_run(doc: dict[str, Any], show_checks: str) -> None:
    click.echo(runs_table(doc["runs"]))
    if show_checks != "none":
        verdicts = None if show_checks == "all" else {"fail", "deviation"}
        table = checks_table(doc["runs"], verdicts)
        if table:
            title = "Checks" if show_checks == "all" else "Checks that did not pass"
            click.echo(f"\n{title}\n{table}")
    derived = [d for d in doc["derived_checks"] if d["kind"] == "derived"]
    if derived:
        click.echo("\nChecks across runs\n" + derived_table(derived))
    agreement = [d for d in doc["derived_checks"] if d["kind"] == "agreement"]
    disagree = [d for d in agreement if d["verdict"] != "pass"]
    if agreement:
        click.echo(f"\nAgreement between runs: {len(agreement) - len(disagree)} of "
                   f"{len(agreement)} checks pass")
        if disagree:
            click.echo(derived_table(disagree))
    for name, section in doc.get("sections", {}).items():
        click.echo(f"\n{name}\n{section}")
    for run in doc["runs"]:
        if run["status"] == "uncertified":
            click.echo(f"uncertified: {run['formulation']}/{run['variant']}/{run['case']} "
                       f"{run['backend']}/{run['solver']}: "
                       + "; ".join(run.get("uncertified_reasons") or []), err=True)
        if run["status"] == "error" or "killed by the watchdog" in run["message"]:
            click.echo(f"{run['status']} in {run['formulation']}/{run['variant']}/{run['case']} "
                       f"{run['backend']}/{run['solver']}: {run['message']}", err=True)
    click.echo("\n" + summary_line(doc["summary"]))


# ---------------------------------------------------------------------------- bench


@cli.command("bench")
@click.argument("names", nargs=-1)
@click.option("--repeat", type=click.IntRange(min=1), help="Repeats per run (median kept).")
@click.option("--time-limit", type=FiniteFloat(min=0, min_open=True),
              help="Seconds per solve (default: the benchmark's own).")
@click.option("-b", "--backend", "backends", multiple=True, help="Only these backends.")
@click.option("-s", "--solver", "solvers", multiple=True,
              help="Only these of the benchmark's solvers.")
@click.option("-c", "--case", "cases", multiple=True, help="Only these of the benchmark's cases.")
@click.option("--variant", "variants", multiple=True,
              help="Only these of the benchmark's variants.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the timing rows as JSON.")
@click.pass_context
def bench_command(ctx: click.Context, names: tuple[str, ...], repeat: int | None,
                  time_limit: float | None, backends: tuple[str, ...],
                  solvers: tuple[str, ...], cases: tuple[str, ...], variants: tuple[str, ...],
                  json_path: Path | None) -> None:
    """Time build and solve separately for the named benchmarks; without NAMES, list them.

    Benchmarks are long: they are never part of the test suite.
    """
    from dataclasses import asdict, replace

    from bench.benchmark import largest_solved, run_benchmark

    registry = _registry(ctx)
    try:
        check_output_paths({"--json": json_path})
    except InputError as exc:
        _fail_input(str(exc))
    _warn_problems(registry.problems)
    if not names:
        rows = [[b.name, b.formulation, len(b.cases), b.description]
                for b in registry.benchmarks.values()]
        click.echo(tabulate(rows, ["benchmark", "formulation", "cases", "description"],
                            disable_numparse=True) if rows else "no benchmarks registered")
        return
    unknown = [n for n in names if n not in registry.benchmarks]
    if unknown:
        _fail_input(f"unknown benchmark {', '.join(map(repr, unknown))} "
                    f"(known: {', '.join(sorted(registry.benchmarks)) or 'none'})")
    try:
        book, _ = load_reference_book(registry)
    except InputError as exc:
        _fail_input(str(exc))
    all_rows: list = []
    finished_here: list = []  # rows of the benchmark running now
    meta = environment(registry) if json_path is not None else {}  # solver probes: once

    def save(rows: list) -> None:
        if json_path is not None:
            write_text(json_path, json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]},
                                             indent=2))

    def on_row(row) -> None:
        click.echo(f"  {row.case} {row.variant} {row.backend}/{row.solver}: {row.status} "
                   f"build {row.build_s or 0:.3f} s, solve {row.solve_s or 0:.3f} s", err=True)
        # every finished row is on disk at once: a benchmark stopped midway keeps them
        # (ratios are added when the benchmark ends)
        finished_here.append(row)
        save([*all_rows, *finished_here])

    for name in names:
        benchmark = registry.benchmarks[name]
        finished_here.clear()
        if backends:
            benchmark = replace(benchmark, backends=backends)
        for option, field, chosen in (("--solver", "solvers", solvers),
                                      ("--case", "cases", cases),
                                      ("--variant", "variants", variants)):
            if not chosen:
                continue
            own = getattr(benchmark, field)
            outside = [c for c in chosen if own and c not in own]
            if outside:
                _fail_input(f"{option} {', '.join(map(repr, outside))}: not in benchmark "
                            f"{name!r} (its {field}: {', '.join(own)})")
            benchmark = replace(benchmark, **{field: tuple(chosen)})
        click.echo(f"{name}: {benchmark.description}", err=True)
        try:
            rows = run_benchmark(benchmark, registry, book, repeat, time_limit,
                                 on_row=on_row)
        except InputError as exc:
            _fail_input(str(exc))
        all_rows += rows
        table = [[r.case, r.variant, r.backend, r.solver, r.status, r.variables or "",
                  r.constraints or "", r.integers if r.integers is not None else "",
                  f"{r.build_s:.3f}" if r.build_s is not None else "",
                  f"{r.solve_s:.3f}" if r.solve_s is not None else "",
                  f"{r.handoff_s:.3f}" if r.handoff_s is not None else "",
                  f"{r.ratio:.2f}" if r.ratio else "",
                  f"{r.raw_ratio:.1f}" if r.raw_ratio is not None else "",
                  f"{r.peak_memory_mb:.0f}" if r.peak_memory_mb is not None else "",
                  f"{r.objective:.10g}" if r.objective is not None else "",
                  f"{r.gap:.2e}" if r.gap is not None else "",
                  r.nodes if r.nodes is not None else "", r.repeats] for r in rows]
        click.echo(f"\n{name} (median of repeats; solve s = the whole solve call, of which "
                   "handoff s is the modelling layer's part, the rest the solver's own time; "
                   "ratio = total time / fastest pair on the same case and variant; "
                   "vs raw = (build + handoff) / the raw backend's, same case, variant and "
                   "solver; peak MB = the run's peak resident memory above its worker's at "
                   "the start; gap = |objective - proven bound| / |objective|; "
                   "nodes = the solver's branch-and-bound nodes, or an oracle's subproblems "
                   "solved)")
        click.echo(tabulate(table, ["case", "variant", "backend", "solver", "status", "vars",
                                    "rows", "int", "build s", "solve s", "handoff s",
                                    "ratio", "vs raw", "peak MB", "objective", "gap", "nodes",
                                    "repeats"],
                            disable_numparse=True))
        unfinished = [r for r in rows if r.status != "optimal" and r.message]
        for r in unfinished:
            click.echo(f"  {r.case} {r.variant} {r.backend}/{r.solver}: {r.status}: "
                       f"{r.message}", err=True)
        if benchmark.series:
            best = largest_solved(rows, benchmark.cases)
            click.echo("\nlargest case solved to optimality within the time limit")
            click.echo(tabulate([[*key, case] for key, case in sorted(best.items())],
                                ["variant", "backend", "solver", "largest case"],
                                disable_numparse=True))
    if json_path is not None:
        save(all_rows)
        click.echo(f"timings written to {json_path}")


# ---------------------------------------------------------------------------- compare


@cli.command("compare")
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--fail-on-slowdown", "factor", type=FiniteFloat(min=1), metavar="FACTOR",
              help="Also exit 1 when a run's build + solve time is more than FACTOR x BASE "
                   "and more than the noise floor slower (without it timings never fail).")
@click.option("--noise-floor", "floor", type=FiniteFloat(min=0), metavar="SECONDS",
              default=1.0, show_default=True,
              help="A slowdown must add more than this to a run's total: one measurement per "
                   "run (bench rows: a median, no spread) gives no noise estimate, so "
                   "sub-second jitter never counts.")
@click.option("--all-timings", is_flag=True,
              help="List every run timed in both files, not only changes beyond the floor "
                   "of at least min(FACTOR, 1.5) x either way.")
def compare_command(base: Path, new: Path, factor: float | None, floor: float,
                    all_timings: bool) -> None:
    """What changed from BASE to NEW: two results files (`gridbench run --json`) or two
    timing files (`gridbench bench --json`), runs matched by
    formulation/variant/case/backend/solver (bench rows:
    benchmark/case/variant/backend/solver).

    Lists runs in one file only, status changes (optimal > uncertified = feasible >
    time_limit > infeasible = unbounded > error; not_applicable and unavailable neutral),
    check verdict changes (pass = calibrated > deviation > fail), objective changes and
    timing ratios NEW/BASE. Exit 1 on a correctness regression, always: a status or a
    check verdict that got worse, a new failing check, an optimal run missing from NEW.
    Timing changes exit 1 only with --fail-on-slowdown FACTOR, and only for a run whose
    total (build + solve) is more than FACTOR x BASE and more than --noise-floor seconds
    slower. Details: bench/compare.py.
    """
    from bench.compare import compare_files, render

    try:
        comparison = compare_files(base, new)
    except InputError as exc:
        _fail_input(str(exc))
    click.echo(render(comparison, factor, floor, all_timings))
    sys.exit(comparison.exit_code(factor, floor))


# ---------------------------------------------------------------------------- bench-report


@cli.command("bench-report")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Folder for report.md and the PNG figures (required).")
@click.option("--shift", type=FiniteFloat(min=0), default=10.0, show_default=True,
              metavar="SECONDS", help="Shift s of the shifted geometric mean.")
@click.option("--time-limit", type=FiniteFloat(min=0, min_open=True), metavar="SECONDS",
              help="Time limit T for rows whose file records none  [default: the "
                   "benchmark's registered limit, else 60].")
@click.pass_context
def bench_report_command(ctx: click.Context, files: tuple[Path, ...], out_dir: Path | None,
                         shift: float, time_limit: float | None) -> None:
    """Compare backend/solver pairs over `gridbench bench --json` timing files: shifted
    geometric means, performance profiles, time per case and scaling exponents, written to
    DIR/report.md and PNGs (bench/bench_report.py defines every number). Rows of the same
    key in several files are separate runs (median per key)."""
    from bench import bench_report

    try:
        if out_dir is None:
            raise InputError("-o DIR is required (the folder for report.md and the figures)")
        bench_report.require_matplotlib()
        bench_files = bench_report.read_bench_files(files)
        check_output_paths({}, {"-o": out_dir})
        registered = _registry(ctx).benchmarks
        report = bench_report.build_report(
            bench_files, shift=shift,
            fallback_time_limit={name: time_limit or b.time_limit_s
                                 for name, b in registered.items()},
            case_order={name: b.cases for name, b in registered.items()},
            default_time_limit=time_limit or bench_report.DEFAULT_TIME_LIMIT_S,
            fallback_source="--time-limit" if time_limit else "the registered benchmark's limit")
        written = bench_report.write_report(report, out_dir)
    except InputError as exc:
        _fail_input(str(exc))
    except OSError as exc:
        _fail_input(f"cannot write to {out_dir}: {exc.strerror or exc}")
    click.echo(bench_report.summary_text(report))
    click.echo(f"\nreport written to {written[-1]} with {len(written) - 1} figures")


# ---------------------------------------------------------------------------- export-mibs


@cli.command("export-mibs")
@click.argument("case")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True,
              help="Folder for NAME.mps and NAME.aux (created if missing).")
@click.option("--name", "stem", metavar="NAME",
              help="File stem and @NAME of the instance  [default: CASE; give another one to "
                   "run the files beside the registered case: case names are unique].")
@click.pass_context
def export_mibs_command(ctx: click.Context, case: str, out_dir: Path,
                        stem: str | None) -> None:
    """Write a registered linear bilevel case as a MibS / BOBILib instance: OUT/NAME.mps (the
    single-level relaxation, leader objective) and OUT/NAME.aux (the follower's variables,
    objective and rows); NAME is CASE unless --name says otherwise. Read it back with
    `gridbench run --case-file OUT/NAME.aux`."""
    from bench.registry import bilevel_problem

    registry = _registry(ctx)
    stem = stem or case
    try:
        problem = bilevel_problem(registry, case)
        from bench.bilevel.mibs import export_notes, write_mibs

        notes = export_notes(problem, case)
        origin = f"case {case} ({registry.cases[case].formulation})"
        mps_path, aux_path = write_mibs(problem, out_dir, stem, origin=origin)
    except InputError as exc:
        _fail_input(str(exc))
    except OSError as exc:
        _fail_input(f"cannot write to {out_dir}: {exc.strerror or exc}")
    click.echo(f"{mps_path}\n{aux_path}\n{problem.describe().replace(problem.name, stem, 1)}")
    for note in notes:
        click.echo(f"note: {note}")


# ---------------------------------------------------------------------------- report


@cli.command("report")
@click.argument("results_json", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the Markdown report here instead of printing it.")
def report_command(results_json: Path, output: Path | None) -> None:
    """Render the Markdown report of a results file written by `gridbench run --json`."""
    try:
        check_output_paths({"-o": output})
        doc = read_results(results_json)
        text = markdown_report(doc)
    except InputError as exc:
        _fail_input(str(exc))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        _fail_input(f"{results_json}: not a gridbench results file ({type(exc).__name__}: "
                    f"{str(exc)[:200]})")
    if output is None:
        click.echo(text)
    else:
        write_text(output, text)
        click.echo(f"report written to {output}")


def main() -> None:
    cli(prog_name="gridbench")


if __name__ == "__main__":
    main()
