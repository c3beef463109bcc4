"""Where the shipped data lives: ``cases/`` and ``reference_results/``.

In a source checkout (and an editable install) they sit at the repository root, next to
``bench/``; a wheel carries them inside the package as ``bench/_data/`` (see
``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The shipped ``cases`` or ``reference_results`` folder."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"gridbench data folder {name!r} not found next to {_PACKAGE}")
