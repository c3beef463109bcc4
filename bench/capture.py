"""Keep solver output out of gridbench's stdout and stderr.

Solvers print from C (HiGHS banners, SCIP and CBC logs), so redirecting ``sys.stdout`` is not
enough: file descriptors 1 and 2 themselves are pointed at a log file while a run executes,
and restored afterwards.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def captured_output(log_path: Path | str | None) -> Iterator[None]:
    """Send everything written to fds 1 and 2 (Python and C alike) to ``log_path``
    (``None``: discard it) until the block ends."""
    for stream in (sys.stdout, sys.stderr):
        _flush(stream)
    target = os.open(os.devnull if log_path is None else os.fspath(log_path),
                     os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            _flush(stream)
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)


def _flush(stream) -> None:
    try:
        stream.flush()
    except (OSError, ValueError, AttributeError):
        pass
