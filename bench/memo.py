"""Results that several runs of one ``gridbench run`` need, computed once for all workers.

Runs execute in separate worker processes, so an in-process cache no longer spans the
suite. A value that is expensive and the same for several runs (e.g. the exact bilevel
oracle that certifies every reformulation of one case) is kept in the suite's cache folder
(``GRIDBENCH_CACHE_DIR``, created and removed by ``gridbench run`` for the local pool).
A file lock makes a second worker wait for the first one's value instead of computing it
again. Without the variable (a plain library call, a remote Dask worker) values are simply
computed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ENV_CACHE_DIR = "GRIDBENCH_CACHE_DIR"
T = TypeVar("T")


def _path(namespace: str, key: str) -> Path | None:
    folder = os.environ.get(ENV_CACHE_DIR)
    if not folder or not Path(folder).is_dir():
        return None
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return Path(folder) / f"{namespace}-{digest}.pickle"


def shared(namespace: str, key: str, compute: Callable[[], T]) -> T:
    """The value for ``key``: from the suite's cache, or computed (once) and stored."""
    path = _path(namespace, key)
    if path is None:
        return compute()
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker computing it: wait for its value
        try:
            with open(path, "rb") as handle:
                return pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError):
            pass
        value = compute()
        store(namespace, key, value)
        return value


def store(namespace: str, key: str, value: object) -> None:
    """Put a value computed elsewhere (e.g. by the run that times it) into the cache."""
    path = _path(namespace, key)
    if path is None:
        return
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)
