"""``import gridbench``: the same public plugin API as :mod:`bench.api`, under the
distribution's name (``from gridbench import hookimpl, Formulation``). ``bench.api`` is the
canonical spelling inside this repository (the harness package is ``bench``, as the design
card lays out); this module only forwards to it."""

from __future__ import annotations

from typing import Any

from bench import __version__  # noqa: F401
from bench import api as _api

__all__ = ["__version__", *_api.__all__]


def __getattr__(name: str) -> Any:
    return getattr(_api, name)


def __dir__() -> list[str]:
    return __all__
