"""Output paths: checked before any run starts, written without surprises.

* Every output path is checked for writability up front (one-line input error, exit 2), so a
  long run never ends by failing to save its results.
* Two outputs naming the same file are a usage error (one would overwrite the other).
* A regular file is replaced atomically (a temporary file in the same folder, renamed over
  it), so a reader never sees half a file; a symlink is followed first, so the link stays a
  link. Anything that is not a regular file (a device such as ``/dev/stdout``, a pipe) is
  written through, once, and never replaced.
* New files get the mode the umask gives (as ``open`` would), not a temporary file's 0600.
* A results file is locked (``<file>.lock``, ``flock``) while a run writes it: a second
  process refuses with a one-line error instead of silently losing the first one's runs.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from bench.errors import InputError


def real_path(path: Path) -> Path:
    """The file a path ends at (symlinks followed), absolute. A magic link that names no
    file (``/dev/stdout`` on a pipe is ``/proc/self/fd/1`` -> ``pipe:[...]``) stays as given:
    opening it still reaches the pipe."""
    real = Path(os.path.realpath(path))
    if not real.exists() and os.path.exists(path):
        return Path(os.path.abspath(path))
    return real


def is_special(path: Path) -> bool:
    """Whether ``path`` exists and is not a regular file (a device, a pipe, a socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def check_output_paths(files: Mapping[str, Path | None],
                       folders: Mapping[str, Path | None] | None = None) -> None:
    """Raise :class:`InputError` naming the option when an output cannot be written, or when
    two options name the same path. Creates missing parent folders (and ``folders``)."""
    named = [(option, path, False) for option, path in files.items() if path is not None]
    named += [(option, path, True) for option, path in (folders or {}).items()
              if path is not None]
    seen: dict[Path, str] = {}
    for option, path, is_folder in named:
        real = real_path(path)
        if real in seen and not is_special(real):
            raise InputError(f"{option} {path} is the same path as {seen[real]}; "
                             "give each output its own path")
        seen[real] = f"{option} {path}"
        if is_folder:
            _check_folder(option, path)
        else:
            _check_file(option, path)


def _fail(option: str, path: Path, why: str) -> InputError:
    return InputError(f"cannot write {option} {path}: {why}")


def _check_folder(option: str, path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise _fail(option, path, "not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(option, path, exc.strerror or str(exc)) from None
    _probe_folder(option, path, path)


def _check_file(option: str, path: Path) -> None:
    real = real_path(path)
    if real.is_dir():
        raise _fail(option, path, "is a folder")
    if is_special(real):
        if not os.access(real, os.W_OK):
            raise _fail(option, path, "permission denied")
        return
    if real.exists() and not os.access(real, os.W_OK):
        raise _fail(option, path, "permission denied")
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(option, path, exc.strerror or str(exc)) from None
    _probe_folder(option, path, real.parent)


def _probe_folder(option: str, path: Path, folder: Path) -> None:
    """Create and remove a file: the only honest test (root ignores mode bits, a read-only
    file system does not)."""
    probe = folder / f".gridbench-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _fail(option, path, exc.strerror or str(exc)) from None


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path``: atomically for a regular file (following a symlink),
    straight through for a device or pipe."""
    real = real_path(path)
    if is_special(real):
        with open(real, "w", encoding="utf-8") as handle:
            handle.write(text)
        return
    real.parent.mkdir(parents=True, exist_ok=True)
    temporary = real.with_name(f".{real.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)  # umask applies
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, real)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class FileLock:
    """An exclusive ``flock`` on ``<path>.lock``, released when the process ends, even by
    ``kill -9`` (so a killed run never blocks its own ``--resume``)."""

    def __init__(self, path: Path) -> None:
        real = real_path(path)
        self.lock_path = real.with_name(real.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> FileLock:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EACCES):
                raise InputError(f"another gridbench process is writing "
                                 f"{self.lock_path.with_suffix('')} (lock {self.lock_path}); "
                                 "wait for it or choose another --json path") from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.unlink(self.lock_path)
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None
