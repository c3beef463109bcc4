"""Runs on a Dask worker: each still in its own process, under the same watchdog.

A Dask worker is a multi-threaded process, so it must not fork. Each Dask worker process
instead starts one *zygote* (``python -m bench.remote PLUGINS``): a single-threaded
process that loads the plugins, references and modelling libraries once and then forks one
child per run on request. A run therefore starts in milliseconds, as in the local pool, and
the child is set up exactly like a local worker (:func:`bench.worker.prepare_child`: own
session, memory limit, solver threads, output captured to a log file).

Protocol, one JSON object per line: the Dask side writes ``{"key", "limits", "worker",
"log", "result"}`` to the zygote's stdin; the zygote answers ``{"pid": N}`` at once and
``{"exit": N, "code": C}`` when that child ends (C < 0: killed by signal -C). The zygote's
own stdout is kept for the protocol only: fds 1 and 2 point elsewhere.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from bench.records import SolveLimits, Status
from bench.worker import WorkerLimits, death_message, watchdog_message

# ------------------------------------------------------------------------- Dask side


class _Zygote:
    """The zygote of one Dask worker process (shared by the worker's task threads)."""

    def __init__(self, plugin_args: dict[str, Any]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.remote", json.dumps(plugin_args)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1)
        self._send = threading.Lock()
        self._pids: list[int] = []
        self._exits: dict[int, int] = {}
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True, name="gridbench-zygote").start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            message = json.loads(line)
            with self._changed:
                if "pid" in message:
                    self._pids.append(message["pid"])
                else:
                    self._exits[message["exit"]] = message["code"]
                self._changed.notify_all()
        with self._changed:  # the zygote ended: nobody will report exits any more
            self._exits[-1] = -1
            self._changed.notify_all()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def start(self, request: dict[str, Any]) -> int:
        with self._send, self._changed:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            if not self._changed.wait_for(lambda: self._pids or -1 in self._exits, 60):
                raise RuntimeError("the gridbench zygote did not start the run")
            if not self._pids:
                raise RuntimeError("the gridbench zygote ended")
            return self._pids.pop(0)

    def wait(self, pid: int, timeout: float | None) -> int | None:
        """The child's exit code, or None when ``timeout`` passed first."""
        with self._changed:
            ended = self._changed.wait_for(lambda: pid in self._exits or -1 in self._exits,
                                           timeout)
            if not ended:
                return None
            return self._exits.pop(pid, None)


_ZYGOTES: dict[str, _Zygote] = {}
_ZYGOTES_LOCK = threading.Lock()


def _zygote(plugin_args: dict[str, Any]) -> _Zygote:
    key = json.dumps(plugin_args, sort_keys=True)
    with _ZYGOTES_LOCK:
        zygote = _ZYGOTES.get(key)
        if zygote is None or not zygote.alive():
            zygote = _ZYGOTES[key] = _Zygote(plugin_args)
        return zygote


def run_portable(task: dict[str, Any], return_log: bool) -> dict[str, Any]:
    """One run (as :meth:`bench.worker.RunTask.portable` describes it) in a process of its
    own, killed past its wall-clock limit. Returns ``{"run": dict}`` or ``{"lost": [status,
    message]}``, with the solver log's text under ``"log"`` when ``return_log``."""
    worker = WorkerLimits(**task["worker"])
    limits = SolveLimits(**task["limits"])
    zygote = _zygote(task["plugins"])
    with tempfile.TemporaryDirectory(prefix="gridbench-") as folder:
        log_path, result_path = Path(folder, "solver.log"), Path(folder, "result.json")
        pid = zygote.start({"key": task["key"], "limits": task["limits"],
                            "worker": task["worker"], "log": str(log_path),
                            "result": str(result_path)})
        code = zygote.wait(pid, worker.wall_s)
        killed = code is None
        if killed:
            _kill_group(pid)
            code = zygote.wait(pid, 30)
        log = (log_path.read_text(encoding="utf-8", errors="replace")
               if return_log and log_path.exists() else None)
        if killed:
            return {"lost": [str(Status.TIME_LIMIT), watchdog_message(worker, limits)],
                    "log": log}
        if not result_path.exists():
            return {"lost": [str(Status.ERROR), death_message(code, worker)], "log": log}
        run = json.loads(result_path.read_text(encoding="utf-8"))
        if "setup_error" in run:
            return {"lost": [str(Status.ERROR), f"on the Dask worker: {run['setup_error']}"],
                    "log": log}
        return {"run": run, "log": log}


def _kill_group(pid: int) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------- the zygote


def _preload() -> None:
    """Import the modelling libraries before forking, so that each run does not."""
    import importlib

    for module in ("pyomo.environ", "pulp", "cvxpy", "highspy", "pyscipopt"):
        try:
            importlib.import_module(module)
        except Exception:  # noqa: S112  (not installed: its runs will say so)
            continue


def _child(request: dict[str, Any], registry, book) -> None:
    """In the forked child: run the task, write its result file, never return."""
    code = 1
    try:
        from bench.runner import planned_run
        from bench.worker import prepare_child, run_in_child

        worker = WorkerLimits(**request["worker"])
        limits = SolveLimits(**request["limits"])
        prepare_child(worker, limits)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
        os.dup2(log, 1)  # also what happens before the run's own capture starts
        os.dup2(log, 2)
        try:
            planned = planned_run(registry, tuple(request["key"]))
            run = run_in_child(planned, registry, book, limits, worker, Path(request["log"]))
        except Exception as exc:  # the run cannot even start here (plugins differ...)
            run = {"setup_error": f"{type(exc).__name__}: {exc}"}
        temporary = request["result"] + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(run, handle)
        os.replace(temporary, request["result"])
        code = 0
    finally:
        os._exit(code)


def _serve(plugin_args: dict[str, Any]) -> None:
    from bench.references import load_reference_book
    from bench.registry import load_registry

    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # whatever a plugin or library prints must not reach the protocol
    from bench.user_files import add_user_files

    registry = load_registry(autoload=plugin_args.get("autoload"),
                             requested=plugin_args.get("requested", ()),
                             blocked=plugin_args.get("blocked", ()))
    add_user_files(registry, plugin_args.get("case_files", ()),
                   plugin_args.get("reference_files", ()))
    book, _ = load_reference_book(registry)  # the same formulations as the parent's plan
    _preload()
    children: set[int] = set()
    pending = b""
    open_input = True
    while open_input or children:
        readable, _, _ = select.select([0] if open_input else [], [], [], 0.05)
        if readable:
            chunk = os.read(0, 65536)  # unbuffered: select and a buffered reader disagree
            if not chunk:
                open_input = False  # the Dask worker went away: finish, start nothing new
                for pid in children:
                    _kill_group(pid)
            pending += chunk
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request = json.loads(line)
            pid = os.fork()
            if pid == 0:
                _child(request, registry, book)
            children.add(pid)
            protocol.write(json.dumps({"pid": pid}) + "\n")
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(
                    status)
                protocol.write(json.dumps({"exit": pid, "code": code}) + "\n")


if __name__ == "__main__":
    _serve(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
