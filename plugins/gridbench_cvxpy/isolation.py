"""Keep OSQP's own C functions when PuLP shares HiGHS's (Linux).

PuLP 3.3 loads highspy's extension with RTLD_GLOBAL (``pulp/__init__.py``). HiGHS exports a
C function ``csc_copy``, and so does OSQP's extension (``osqp/ext_builtin*.so``). Python
loads extensions with RTLD_NOW, so an OSQP loaded after PuLP binds its ``csc_copy`` to
HiGHS's, and the first OSQP solve crashes the process (a segmentation fault: in-process
pytest runs and pytest-benchmark, or a worker forked after PuLP was imported). Loading
OSQP's extension first with RTLD_DEEPBIND makes it use its own symbols whatever was loaded
before or after; Python's import of the same file then gets this copy. The same remedy
as PyOptInterface's libhighs (``gridbench_pyoptinterface/adapter.py``)."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path


def preload_osqp_isolated() -> None:
    """Load OSQP's extension with deep binding, unless Python has loaded it already (it is
    then bound: safe if that happened before PuLP's import, and nothing can change it)."""
    if "osqp.ext_builtin" in sys.modules or not hasattr(os, "RTLD_DEEPBIND"):
        return
    try:
        spec = importlib.util.find_spec("osqp")  # finds the package, runs none of it
    except (ImportError, ValueError):
        return
    if spec is None or not spec.submodule_search_locations:
        return
    for location in spec.submodule_search_locations:
        for library in sorted(Path(location).glob("ext_builtin*.so")):
            try:
                ctypes.CDLL(str(library), mode=os.RTLD_LOCAL | os.RTLD_NOW | os.RTLD_DEEPBIND)
            except OSError:
                continue  # then OSQP loads as usual: its own import reports what is wrong
            return
