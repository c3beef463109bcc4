"""Executors: run the tasks of a plan, each in its own worker process, and report each
result as it finishes.

* :class:`LocalPool` (the default) keeps ``jobs`` forked workers busy on this machine,
  longest expected run first, with a watchdog that kills a worker past its wall-clock limit.
* :class:`DaskExecutor` submits every run as a task to a Dask distributed cluster
  (``gridbench[dask]``); inside the Dask worker each run is again its own process with the
  same watchdog (:func:`bench.remote.run_portable`).

Both call ``on_result(task, result)`` in the parent as runs finish, in any order; the caller
keeps the plan's order for tables and files. An interrupt (see :class:`Interrupted`) stops
every worker and discards their unfinished runs: a run cut short is never reported.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from bench.errors import InputError
from bench.records import RunResult, Status
from bench.references import ReferenceBook
from bench.registry import Registry
from bench.worker import (
    RunTask,
    death_message,
    lost_run,
    prepare_child,
    run_in_child,
    watchdog_message,
)

OnResult = Callable[[RunTask, RunResult], None]
OnStart = Callable[[RunTask], None]
ENV_SCHEDULER = "GRIDBENCH_DASK_SCHEDULER"


class Interrupted(Exception):  # noqa: N818  (a signal, not an error)
    """SIGINT or SIGTERM arrived while runs were executing."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def longest_first(tasks: Sequence[RunTask]) -> list[RunTask]:
    """Start the longest expected runs first (ties keep the plan's order), so that two cores
    do not end with one long run left alone."""
    return sorted(tasks, key=lambda t: (-t.estimate_s, t.index))


# ------------------------------------------------------------------------------- local


@dataclass
class _Running:
    task: RunTask
    process: Any  # multiprocessing.Process
    reader: Connection
    deadline: float | None
    payload: dict | None = None
    reader_done: bool = False  # the result was read, or the pipe hit end of file


def _child(task: RunTask, registry: Registry, book: ReferenceBook, writer: Connection) -> None:
    prepare_child(task.worker, task.limits)
    writer.send(run_in_child(task.planned, registry, book, task.limits, task.worker,
                             task.log_path, task.warmup))
    writer.close()


class LocalPool:
    """``jobs`` worker processes at a time on this machine.

    Workers are forked: each inherits the loaded plugins, references and validated cases,
    so a run starts in milliseconds, and nothing has to be pickled but its result. The
    parent is single-threaded while it forks (no progress-bar monitor thread), which is what
    makes forking safe.
    """

    def __init__(self, jobs: int) -> None:
        if sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods():
            raise InputError("the local pool needs fork (Linux, macOS); use --executor dask")
        self.jobs = jobs
        self._context = multiprocessing.get_context("fork")

    def run(self, tasks: Sequence[RunTask], registry: Registry, book: ReferenceBook,
            on_result: OnResult, on_start: OnStart = lambda task: None) -> None:
        from bench.results import run_from_dict

        pending = longest_first(tasks)
        running: list[_Running] = []
        try:
            while pending or running:
                while pending and len(running) < self.jobs:
                    task = pending.pop(0)
                    running.append(self._start(task, registry, book))
                    on_start(task)
                now = time.monotonic()  # wake for a result, an exit or the next deadline
                timeout = min([5.0, *(r.deadline - now for r in running if r.deadline is not None)])
                listening = [r.reader for r in running if not r.reader_done]
                wait(listening + [r.process.sentinel for r in running], timeout=max(timeout, 0.0))
                for run in list(running):
                    self._read(run)
                    if not run.process.is_alive():
                        run.process.join()
                        self._read(run)  # a result sent just before exiting
                        running.remove(run)
                        on_result(run.task, self._outcome(run, book, run_from_dict))
                    elif run.deadline is not None and time.monotonic() >= run.deadline:
                        _kill(run.process)
                        running.remove(run)
                        on_result(run.task, lost_run(
                            run.task, Status.TIME_LIMIT,
                            watchdog_message(run.task.worker, run.task.limits), book))
        finally:
            for run in running:  # interrupted: stop every worker, keep none of their runs
                _kill(run.process)

    @staticmethod
    def _read(run: _Running) -> None:
        if run.reader_done or not run.reader.poll():
            return
        try:
            run.payload = run.reader.recv()
        except (EOFError, OSError):  # the worker died before or while sending
            pass
        run.reader_done = True
        run.reader.close()

    def _start(self, task: RunTask, registry: Registry, book: ReferenceBook) -> _Running:
        reader, writer = self._context.Pipe(duplex=False)
        for stream in (sys.stdout, sys.stderr):  # a child must not repeat buffered output
            stream.flush()
        process = self._context.Process(target=_child, args=(task, registry, book, writer),
                                        name=f"gridbench-run-{task.index}", daemon=False)
        # The child's garbage collector must not walk what it inherits (the plugins, every
        # loaded case): marking those objects writes to their pages, and copying them on
        # write cost a 1e5-variable run 0.04-0.1 s of its timed phases with a 1e6-variable
        # case loaded (market_layers, raw and CVXPY handoff, docs/benchmarks/raw_limit.md).
        # Frozen objects are left alone by the collector; the parent unfreezes at once.
        gc.freeze()
        try:
            process.start()
        finally:
            gc.unfreeze()
        writer.close()
        deadline = None if task.worker.wall_s is None else time.monotonic() + task.worker.wall_s
        return _Running(task, process, reader, deadline)

    @staticmethod
    def _outcome(run: _Running, book: ReferenceBook, run_from_dict) -> RunResult:
        if run.payload is not None:
            return run_from_dict(run.payload)
        return lost_run(run.task, Status.ERROR,
                        death_message(run.process.exitcode, run.task.worker), book)


def _kill(process: Any) -> None:
    """SIGKILL the worker's whole process group (a solver binary it started goes too)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            process.kill()
        except Exception:
            pass
    process.join()


# -------------------------------------------------------------------------------- Dask


class DaskExecutor:
    """Every run as a task on a Dask distributed cluster; results stream back.

    The workers must have gridbench and the same plugins installed (the same environment);
    the plugins to load travel with each task. Solver logs come back with the result and
    are written by this process, so ``--solver-logs`` works without a shared file system.
    """

    def __init__(self, address: str, plugin_args: dict[str, Any]) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise InputError("--executor dask needs Dask distributed: "
                             "pip install 'gridbench[dask]'") from None
        self.address = address
        self.plugin_args = plugin_args

    def run(self, tasks: Sequence[RunTask], registry: Registry, book: ReferenceBook,
            on_result: OnResult, on_start: OnStart = lambda task: None) -> None:
        from distributed import Client, as_completed

        from bench.remote import run_portable
        from bench.results import run_from_dict

        try:
            client = Client(self.address, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {self.address}: "
                             f"{exc}") from None
        by_key: dict[str, RunTask] = {}
        futures: list[Any] = []
        try:
            for task in longest_first(tasks):
                future = client.submit(run_portable, task.portable(self.plugin_args),
                                       task.log_path is not None, pure=False,
                                       key=f"gridbench-run-{task.index}-{os.getpid()}",
                                       priority=int(task.estimate_s))
                by_key[future.key] = task
                futures.append(future)
                on_start(task)
            for future in as_completed(futures):
                task = by_key[future.key]
                try:
                    answer = future.result()
                except Exception as exc:  # the task itself failed (worker lost, ...)
                    on_result(task, lost_run(task, Status.ERROR,
                                             f"Dask task failed: {type(exc).__name__}: {exc}",
                                             book))
                    continue
                if answer.get("log") is not None and task.log_path is not None:
                    Path(task.log_path).write_text(answer["log"], encoding="utf-8")
                if "run" in answer:
                    result = run_from_dict(answer["run"])
                else:
                    status, message = answer["lost"]
                    result = lost_run(task, Status(status), message, book)
                on_result(task, result)
        finally:
            for future in futures:  # interrupted: nothing more may run for this plan
                if not future.done():
                    future.cancel()
            client.close()


def scheduler_address(given: str | None) -> str | None:
    return given or os.environ.get(ENV_SCHEDULER) or None
