"""The execution engine as a user meets it: worker processes, watchdog, memory limit, solver
output kept apart, all cores, resume, signals, locks and output paths.

Misbehaving runs come from tests/plugins/misbehaving_plugin.py (loaded with -p)."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, gridbench

PLUGINS = str(REPO / "tests" / "plugins")
MISBEHAVING = ("--disable-plugin-autoload", "-p", "misbehaving_plugin")


def misbehaving(*args: str, env: dict[str, str] | None = None, **kwargs):
    return gridbench(*MISBEHAVING, *args, env={"PYTHONPATH": PLUGINS, **(env or {})}, **kwargs)


def start(*args: str, env: dict[str, str]) -> subprocess.Popen:
    """gridbench in the background (for signals and kill -9)."""
    return subprocess.Popen([sys.executable, "-m", "bench.cli", *MISBEHAVING, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": PLUGINS, **env})


def wait_for(condition, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.05)


def runs_in(path: Path) -> list[dict]:
    try:
        return json.loads(path.read_text())["runs"]
    except (OSError, ValueError):
        return []


# ------------------------------------------------------------------ solver output


def test_stdout_holds_exactly_the_table_and_summary_on_every_installed_pair(tmp_path, registry):
    """Every installed backend/solver pair runs (UC for the MILP solvers, the prosumer QP
    for the continuous ones); what gridbench prints must be exactly what it renders from
    its own results, and the solvers' banners and logs go to --solver-logs."""
    from bench.cli import _print_run

    out, logs = tmp_path / "out.json", tmp_path / "logs"
    solvers = sorted({name for (_, name), spec in registry.solvers.items()
                      if not spec.commercial or spec.available()})
    selection = [arg for name in solvers for arg in ("-s", name)]
    proc = gridbench("run", "-f", "unit_commitment", "-f", "prosumer_sharing", "-c",
                     "uc_seed_reserve", "-c", "prosumer_seed_2", "--variant", "as_published",
                     "--variant", "relaxed", *selection, "--json", str(out),
                     "--solver-logs", str(logs), "--checks", "all")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    ran = {(r["backend"], r["solver"]) for r in doc["runs"]}
    available = {key for key, spec in registry.solvers.items()
                 if spec.available() and key[0] in ("pyomo", "pulp", "cvxpy")}
    assert available <= ran, available - ran

    import click.testing

    @click.command()
    def render():
        _print_run(doc, "all")

    expected = click.testing.CliRunner().invoke(render).output
    assert proc.stdout == expected + f"results written to {out}\n"
    for line in proc.stderr.splitlines():  # progress lines and notices only
        assert line.startswith(("[", "gridbench:")), line
    banners = "".join(p.read_text() for p in logs.iterdir())
    assert "HiGHS" in banners  # the solvers did talk: into their logs
    for run in doc["runs"]:
        assert Path(run["solver_log"]).is_file()


def test_output_written_from_c_and_python_goes_to_the_run_log(tmp_path):
    logs = tmp_path / "logs"
    proc = misbehaving("run", "--variant", "banner", "-c", "numbers_1", "--solver-logs",
                       str(logs))
    assert proc.returncode == 0, proc.stderr
    assert "FakeSolver" not in proc.stdout + proc.stderr
    (log,) = logs.iterdir()
    text = log.read_text()
    for line in ("Running FakeSolver 1.0 from C on stdout", "Python print on stdout",
                 "Python print on stderr", "raw write on fd 2"):
        assert line in text


# ------------------------------------------------------------------ isolation


def test_hanging_crashing_and_hoarding_runs_end_alone(tmp_path):
    out = tmp_path / "out.json"
    proc = misbehaving("run", "-c", "numbers_0", "-j", "2", "--time-limit", "1", "--grace",
                       "9", "--memory-limit", "1.5", "--json", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    runs = {r["variant"]: r for r in json.loads(out.read_text())["runs"]}
    # the plan's order, whatever finished first
    assert list(runs) == ["fine", "hang", "os_exit", "segfault", "allocate", "sys_exit",
                          "banner", "slow"]
    assert runs["fine"]["status"] == runs["banner"]["status"] == runs["slow"]["status"] == \
        "optimal"
    assert runs["hang"]["status"] == "time_limit"
    assert runs["hang"]["message"].startswith("killed by the watchdog after 10 s")
    assert runs["os_exit"]["status"] == "error"
    assert "exited with code 3" in runs["os_exit"]["message"]
    assert runs["segfault"]["status"] == "error"
    assert "SIGSEGV" in runs["segfault"]["message"]
    assert runs["allocate"]["status"] == "error"
    assert "memory limit of 1.5 GB" in runs["allocate"]["message"]
    assert runs["sys_exit"]["status"] == "error"
    assert "exited with code 0" in runs["sys_exit"]["message"]
    assert re.search(r"FAILED .*8 runs", proc.stdout)


def test_threads_per_solver_keep_jobs_times_threads_within_the_cores(tmp_path):
    from bench.worker import usable_cores

    out = tmp_path / "out.json"
    proc = misbehaving("run", "--variant", "fine", "-j", "1", "--json", str(out))
    assert proc.returncode == 0
    meta = json.loads(out.read_text())["meta"]
    assert meta["jobs"] == 1 and meta["solver_threads"] == usable_cores()
    misbehaving("run", "--variant", "fine", "-j", str(2 * usable_cores()), "--json", str(out))
    meta = json.loads(out.read_text())["meta"]
    assert meta["solver_threads"] == 1


def test_longest_runs_start_first_and_ties_keep_the_plan_order():
    from types import SimpleNamespace

    from bench.executor import longest_first

    tasks = [SimpleNamespace(index=i, estimate_s=s) for i, s in enumerate([1, 5, 0, 5, 2])]
    assert [t.index for t in longest_first(tasks)] == [1, 3, 4, 0, 2]


# ------------------------------------------------------------------ resume and signals


def test_kill_9_then_resume_completes_without_rerunning_a_finished_run(tmp_path):
    out, counts = tmp_path / "out.json", tmp_path / "counts"
    counts.mkdir()
    env = {"MISBEHAVING_COUNT_DIR": str(counts), "MISBEHAVING_SLOW_S": "1"}
    args = ("run", "--variant", "slow", "-j", "1", "--json", str(out))
    proc = start(*args, env=env)
    wait_for(lambda: len(runs_in(out)) >= 2)
    proc.kill()  # SIGKILL: no handler, no cleanup
    proc.communicate()
    finished = {r["case"] for r in runs_in(out)}
    assert 2 <= len(finished) < 4
    again = misbehaving(*args[:1], "--resume", *args[1:], env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    doc = json.loads(out.read_text())
    assert doc["summary"]["reused"] == len(finished) and doc["summary"]["ok"] is True
    assert [r["case"] for r in doc["runs"]] == [f"numbers_{k}" for k in range(4)]
    solves: dict[str, int] = {}
    for path in counts.iterdir():
        solves[path.read_text()] = solves.get(path.read_text(), 0) + 1
    for case in finished:  # a finished run is never solved again
        numbers = repr([1.0, 2.0, float(case.rsplit("_", 1)[1])])
        assert solves[numbers] == 1, solves
    assert f"reusing {len(finished)} of 4 runs" in again.stderr


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_workers_writes_the_file_and_says_how_to_resume(
        tmp_path, signum, code):
    out, counts = tmp_path / "out.json", tmp_path / "counts"
    counts.mkdir()
    proc = start("run", "--variant", "slow", "-j", "1", "--json", str(out),
                 env={"MISBEHAVING_SLOW_S": "2", "MISBEHAVING_COUNT_DIR": str(counts)})
    wait_for(lambda: len(runs_in(out)) >= 1 and len(list(counts.iterdir())) >= 2)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stdout + stderr
    doc = json.loads(out.read_text())
    assert doc["summary"]["interrupted"] is True and doc["summary"]["ok"] is False
    assert all(r["status"] == "optimal" for r in doc["runs"])  # none cut short
    assert 1 <= len(doc["runs"]) < 4
    assert "INTERRUPTED" in stdout
    assert "gridbench --disable-plugin-autoload -p misbehaving_plugin run --resume" in stderr
    assert "Traceback" not in stderr


def test_an_existing_results_file_is_kept_until_the_first_result(tmp_path):
    out = tmp_path / "out.json"
    out.write_text('{"earlier": true}')
    proc = start("run", "--variant", "slow", "-c", "numbers_0", "--json", str(out),
                 env={"MISBEHAVING_SLOW_S": "1.5"})
    time.sleep(0.8)
    assert out.read_text() == '{"earlier": true}'
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert len(runs_in(out)) == 1


def test_a_second_writer_of_one_results_file_is_refused(tmp_path):
    out = tmp_path / "out.json"
    first = start("run", "--variant", "slow", "--json", str(out), "-j", "1",
                  env={"MISBEHAVING_SLOW_S": "1"})
    wait_for(lambda: Path(str(out) + ".lock").exists())
    second = misbehaving("run", "--variant", "fine", "--json", str(out))
    first.communicate(timeout=60)
    assert second.returncode == 2
    assert second.stderr.count("\n") == 1 and "another gridbench process is writing" in \
        second.stderr
    assert first.returncode == 0 and len(runs_in(out)) == 4
    assert not Path(str(out) + ".lock").exists()


# ------------------------------------------------------------------ output paths


@pytest.fixture
def blocked(tmp_path) -> Path:
    """A path whose parent is a file: never writable, whoever runs the test."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    return blocker / "out"


@pytest.mark.parametrize("args", [
    ["run", "--variant", "fine", "--json", "{blocked}.json"],
    ["run", "--variant", "fine", "--report", "{blocked}.md"],
    ["run", "--variant", "fine", "--solver-logs", "{blocked}"],
    ["run", "--variant", "fine", "--json", "{tmp}/same", "--report", "{tmp}/same"],
    ["run", "--variant", "fine", "--resume"],
    ["bench", "no_such_benchmark_needed", "--json", "{blocked}.json"],
    ["report", "{tmp}/results.json", "-o", "{blocked}.md"],
    ["report", "{tmp}/binary.json"],
    ["run", "--executor", "dask"],
    ["run", "--scheduler", "tcp://127.0.0.1:1"],
])
def test_output_path_and_executor_errors_are_one_line_and_exit_2(tmp_path, blocked, args):
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    results = tmp_path / "results.json"
    assert misbehaving("run", "--variant", "fine", "--json", str(results)).returncode == 0
    args = [a.format(blocked=blocked, tmp=tmp_path) for a in args]
    proc = misbehaving(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.startswith("gridbench: error: ") and proc.stderr.count("\n") == 1, \
        proc.stderr
    assert proc.stdout == ""


def test_bench_checks_its_json_path_before_running(tmp_path, blocked):
    proc = gridbench("bench", "pbpm_scaling", "--json", f"{blocked}.json")
    assert proc.returncode == 2 and "cannot write --json" in proc.stderr
    assert "pbpm_scaling:" not in proc.stderr  # nothing ran


def test_json_to_a_device_a_symlink_and_the_umask(tmp_path):
    proc = misbehaving("run", "--variant", "fine", "-c", "numbers_0", "--json", "/dev/stdout")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout[proc.stdout.index("{"):proc.stdout.rindex("}") + 1])
    assert doc["summary"]["runs"] == 1
    target, link = tmp_path / "target.json", tmp_path / "link.json"
    target.write_text("")
    link.symlink_to(target)
    assert misbehaving("run", "--variant", "fine", "--json", str(link)).returncode == 0
    assert link.is_symlink() and len(runs_in(target)) == 4
    fresh = tmp_path / "fresh.json"
    code = ("import os, sys; os.umask(0o002); sys.argv = ['gridbench', *sys.argv[1:]]; "
            "from bench.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code, *MISBEHAVING, "run", "--variant", "fine",
                           "--json", str(fresh), "--report", str(tmp_path / "r.md")],
                          env={**os.environ, "PYTHONPATH": PLUGINS}, capture_output=True)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o664
    assert stat.S_IMODE((tmp_path / "r.md").stat().st_mode) == 0o664


# ------------------------------------------------------------------ Dask


def _answers(path: Path) -> dict[tuple, tuple]:
    doc = json.loads(path.read_text())
    return {(r["formulation"], r["variant"], r["case"], r["backend"], r["solver"]):
            (r["status"], r["objective"], sorted((c["quantity"], c["verdict"])
                                                 for c in r["checks"]))
            for r in doc["runs"]}


def test_a_dask_cluster_gives_the_answers_of_the_local_pool(tmp_path):
    """A real LocalCluster (worker processes, loopback only) runs the unit-commitment and
    bilevel-textbook suites; statuses, objectives and verdicts equal the local pool's."""
    from distributed import LocalCluster

    suites = ("run", "-f", "unit_commitment", "-f", "bilevel_textbook")
    local, remote = tmp_path / "local.json", tmp_path / "dask.json"
    assert gridbench(*suites, "--json", str(local)).returncode == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        proc = gridbench(*suites, "--executor", "dask", "--json", str(remote),
                         env={"GRIDBENCH_DASK_SCHEDULER": cluster.scheduler_address})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert json.loads(remote.read_text())["meta"]["executor"] == "dask"
    mine, theirs = _answers(local), _answers(remote)
    assert list(mine) == list(theirs)
    for key, (status, objective, verdicts) in mine.items():
        other = theirs[key]
        assert other[0] == status, key
        if objective is None:
            assert other[1] is None, key
        else:
            assert other[1] == pytest.approx(objective, rel=1e-9, abs=1e-9), key
        assert other[2] == verdicts, key


def test_dask_runs_misbehave_alone_too(tmp_path, monkeypatch):
    from distributed import LocalCluster

    out = tmp_path / "out.json"
    monkeypatch.setenv("PYTHONPATH", PLUGINS)  # the workers need the same plugins
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        proc = misbehaving("run", "-c", "numbers_0", "--executor", "dask", "--scheduler",
                           cluster.scheduler_address, "--time-limit", "1", "--grace", "4",
                           "--json", str(out), "--solver-logs", str(tmp_path / "logs"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    runs = {r["variant"]: r for r in json.loads(out.read_text())["runs"]}
    assert runs["hang"]["status"] == "time_limit"
    assert "exited with code 3" in runs["os_exit"]["message"]
    assert "SIGSEGV" in runs["segfault"]["message"]
    assert runs["fine"]["status"] == runs["banner"]["status"] == "optimal"
    assert "FakeSolver" in Path(runs["banner"]["solver_log"]).read_text()
    assert "FakeSolver" not in proc.stdout
