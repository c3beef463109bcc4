"""One run in its own process: what the child does, and how a parent reads its fate.

Every run of ``gridbench run`` executes in a worker process of its own, so that nothing a
run does can take the suite down: a plugin that hangs, calls ``sys.exit`` or ``os._exit``,
segfaults inside a solver, or allocates without bound ends only its own run. The child

* starts a session of its own (a terminal's Ctrl-C reaches gridbench, which decides, and a
  kill of the child's process group also ends a solver binary it started, e.g. CBC) and
  dies with gridbench (``PR_SET_PDEATHSIG``), so ``kill -9`` of gridbench leaves no solver
  running;
* limits its address space to the run's memory limit (``RLIMIT_AS``), so allocating past it
  raises ``MemoryError`` (or fails in C) instead of taking the machine's memory;
* points file descriptors 1 and 2 at the run's solver log (or discards them), so solver
  banners and logs never reach gridbench's own output;
* limits solver threads (``SolveLimits.threads``, and the usual environment variables for
  libraries and solver binaries that read them).

Two ways to start a child share this code: the local pool forks gridbench itself (the
child inherits the loaded plugins and cases, see :mod:`bench.executor`), and on a Dask
worker a single-threaded "zygote" process forks one child per run (:mod:`bench.remote`:
forking the multi-threaded Dask worker itself would be unsafe).
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.capture import captured_output
from bench.records import RunResult, SolveLimits, Status
from bench.references import ReferenceBook
from bench.registry import Registry
from bench.runner import PlannedRun, execute

# The watchdog's wall-clock limit for a run is its solve time limit plus a grace for what
# happens around the solve: building the model, the backend's translation for the solver
# (Pyomo and PuLP write or pass the whole model), reading the solution back and the
# independent checks. Measured on the shipped cases, these take up to about 40 % of the solve
# on the largest DG grids and a few seconds elsewhere; solvers also overshoot their own limit
# (HiGHS's presolve and CBC's cut loop are not interrupted). Half the time limit plus a
# minute covers both with room, and still ends a hung run in bounded time.
GRACE_FIXED_S = 60.0
GRACE_FRACTION = 0.5

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def wall_limit_s(time_limit_s: float | None, grace_s: float | None = None) -> float | None:
    """The watchdog's limit for a run whose solve is limited to ``time_limit_s`` (``grace_s``
    replaces the default grace)."""
    if time_limit_s is None:
        return None
    if grace_s is None:
        grace_s = time_limit_s * GRACE_FRACTION + GRACE_FIXED_S
    return time_limit_s + grace_s


def machine_memory_bytes() -> int:
    """Physical memory, or the cgroup's limit when that is smaller (containers, SLURM)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < total:
            total = int(text)
    return total


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class WorkerLimits:
    """What the watchdog and the child enforce around one run."""

    wall_s: float | None  # hard wall-clock limit (watchdog)
    memory_bytes: int | None  # address-space limit of the child

    @property
    def memory_label(self) -> str:
        return f"{self.memory_bytes / 2**30:g} GB" if self.memory_bytes else "none"


@dataclass(frozen=True)
class RunTask:
    """One run for an executor: the plan's position, the run and its limits.

    ``planned`` travels only by fork (it holds plugin callables); :meth:`portable` is what a
    remote worker gets instead and rebuilds the run from by name.
    """

    index: int
    planned: PlannedRun
    limits: SolveLimits
    worker: WorkerLimits
    log_path: Path | None = None
    estimate_s: float = 0.0  # expected duration, for longest-first scheduling
    fingerprint: str = ""  # see bench.resume
    # an untimed run the worker does first (gridbench bench; the local pool only)
    warmup: PlannedRun | None = None

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        p = self.planned
        return (p.formulation.name, p.variant.name, p.case.name, p.backend, p.solver.name)

    def portable(self, plugin_args: dict[str, Any]) -> dict[str, Any]:
        return {"key": list(self.key), "limits": asdict(self.limits),
                "worker": asdict(self.worker), "plugins": plugin_args}


# ------------------------------------------------------------------------------ child side


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no-op elsewhere)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def prepare_child(worker: WorkerLimits, limits: SolveLimits) -> None:
    """Everything a child sets up before it touches the run."""
    parent = os.getppid()
    os.setsid()
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # gridbench decides what an interrupt does
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if worker.memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (worker.memory_bytes, worker.memory_bytes))
    if limits.threads:
        for name in _THREAD_VARIABLES:
            os.environ[name] = str(limits.threads)


class MemoryMeter:
    """A run's peak resident memory above its worker's at the start.

    The meter resets the kernel's high-water mark of resident memory to the current size
    (``/proc/self/clear_refs``, Linux 4.0+; a forked child also starts with it reset), so
    the mark at the end minus the size at the start is what the run itself needed at its
    peak: the layer's objects, the solver's model and workspace, the checks. Pages shared
    with gridbench are counted at the start, not again. Linux only; elsewhere None.
    """

    def __init__(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")  # reset the peak resident size to the current one
        except OSError:
            pass  # a forked child's mark starts at its size at the fork anyway
        self.start_bytes = _resident_bytes()

    def peak_mb(self) -> float | None:
        if self.start_bytes is None:
            return None
        peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        return max(0.0, peak_bytes - self.start_bytes) / 2**20


def _resident_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def run_in_child(planned: PlannedRun, registry: Registry, book: ReferenceBook,
                 limits: SolveLimits, worker: WorkerLimits, log_path: Path | None,
                 warmup: PlannedRun | None = None) -> dict:
    """Execute one run with its output captured; the run as its JSON dict. ``warmup``
    (``gridbench bench``) is run first, untimed and discarded, so that the process's
    one-time costs (lazy imports, first-call caches of the layer and the solver library)
    are not in the timed run."""
    from bench.results import run_to_dict

    # the meter starts before the warm-up: reused after it, the warm-up's freed memory
    # would hide the run's own need (a warm-up on the same case would leave about 0)
    meter = MemoryMeter()
    with captured_output(log_path):
        if warmup is not None:
            execute(warmup, registry, book, limits)
        result = execute(planned, registry, book, limits)
    result.peak_memory_mb = meter.peak_mb()
    if result.message.startswith("MemoryError") and worker.memory_bytes:
        result.message = (f"exceeded the memory limit of {worker.memory_label} "
                          f"(--memory-limit): {result.message}")
    return run_to_dict(result)


# ----------------------------------------------------------------------------- parent side


def death_message(exitcode: int | None, worker: WorkerLimits) -> str:
    """Why a worker ended without a result, from its exit code (negative: a signal)."""
    if exitcode is None:
        return "the worker ended without a result"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        what = {"SIGSEGV": "segmentation fault", "SIGABRT": "aborted", "SIGBUS": "bus error",
                "SIGKILL": "killed", "SIGFPE": "floating-point exception"}.get(name, "")
        message = f"the worker died of signal {name}" + (f" ({what})" if what else "")
        if name == "SIGKILL":  # not gridbench's watchdog: that one reports itself
            message += " by another process, e.g. the kernel's out-of-memory killer"
        return message
    return f"the worker exited with code {exitcode} before returning a result"


def watchdog_message(worker: WorkerLimits, limits: SolveLimits) -> str:
    return (f"killed by the watchdog after {worker.wall_s:.0f} s (time limit "
            f"{limits.time_limit_s:g} s + grace {worker.wall_s - (limits.time_limit_s or 0):.0f}"
            " s for build, translation and checks)")


def lost_run(task: RunTask, status: Status, message: str, book: ReferenceBook) -> RunResult:
    """The record of a run whose worker gave no result: killed, crashed or exited."""
    from bench.validation import check_against

    key = task.key
    result = RunResult(*key, status=status, message=message,
                       time_limit_s=task.limits.time_limit_s,
                       time_limit_expected=task.planned.case.time_limit_expected)
    formulation, variant, case = key[0], key[1], key[2]
    result.checks.extend(check_against(result, book.for_run(formulation, case, variant)))
    return result
