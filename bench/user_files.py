"""Case and reference files a user names on the command line (``--case-file``,
``--reference-file``): run a case of your own without writing a plugin.

A case file names its formulation in ``[case] formulation``; that formulation must be
registered (built in or from an installed plugin). The file is validated exactly as a
shipped case is (``bench.cases.load_case``).

A path ending in ``.aux`` is a MibS / BOBILib bilevel instance (the aux file, its ``.mps``
beside it): it is read as a ``bilevel_textbook`` case (``bench.bilevel.mibs.read_mibs``),
named by its ``@NAME`` or its file stem.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bench.cases import CaseError, read_toml
from bench.errors import InputError
from bench.records import CaseSource
from bench.registry import Registry


def add_user_files(registry: Registry, case_files: Sequence[str | Path],
                   reference_files: Sequence[str | Path]) -> list[str]:
    """Register the files in ``registry``; the names of the cases added, in order."""
    names = []
    for given in case_files:
        path = Path(given)
        raw = _read_mibs(path) if path.suffix.lower() == ".aux" else read_toml(path)
        header = raw.get("case") if isinstance(raw, dict) else None
        if not isinstance(header, dict) or not isinstance(header.get("name"), str) or \
                not isinstance(header.get("formulation"), str):
            raise CaseError(f"{path}: a case file needs [case] with name and formulation")
        name, formulation = header["name"], header["formulation"]
        if formulation not in registry.formulations:
            raise CaseError(f"{path}: formulation {formulation!r} is not registered (known: "
                            f"{', '.join(sorted(registry.formulations))})")
        if name in registry.cases:
            owner = registry.owner.get(("case", name), "?")
            raise CaseError(f"{path}: a case named {name!r} is already registered (by "
                            f"{owner}); give yours another name")
        registry.cases[name] = CaseSource(name, formulation, lambda raw=raw: raw, str(path))
        registry.owner[("case", name)] = "--case-file"
        names.append(name)
    for given in reference_files:
        path = Path(given)
        if not path.is_file():
            raise InputError(f"--reference-file {path}: no such file")
        registry.reference_files.append(path)
        registry.owner[("reference", str(path))] = "--reference-file"
    return names


def _read_mibs(path: Path) -> dict:
    from bench.bilevel.mibs import read_mibs  # numpy, scipy, highspy: only when needed

    try:
        return read_mibs(path)
    except InputError:
        raise
    except Exception as exc:  # whatever else a user's file provokes: one line, no traceback
        raise CaseError(f"{path}: cannot read the MibS instance: {type(exc).__name__}: "
                        f"{exc}") from None
