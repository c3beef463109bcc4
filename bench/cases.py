"""Case files: a ``[case]`` header validated here, a ``[data]`` table validated by the
formulation's pydantic schema. Errors become one-line :class:`CaseError` messages."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench.errors import InputError
from bench.records import Case, CaseSource, Fidelity, Formulation


class CaseError(InputError):
    """A case that cannot be read or does not validate."""


class CaseHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    formulation: str
    description: str
    fidelity: Fidelity
    provenance: str
    assumptions: list[str] = []
    # what a run without --variant uses on this case (all when empty): "variant" or
    # "variant:backend/solver", e.g. only the exact oracle and the pairs measured to finish;
    # say why in assumptions
    variants: list[str] = []
    # seconds per solve on this case when the user gives no --time-limit; say why in
    # assumptions
    time_limit_s: float | None = Field(default=None, gt=0)


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """First pydantic error as ``where: what`` (plus how many more), on one line."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise CaseError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"{path}: not valid TOML: {exc}") from None


def case_files(directory: Path) -> list[CaseSource]:
    """Every ``<formulation>/<case>.toml`` below ``directory``, read lazily."""
    return [
        CaseSource(
            name=path.stem,
            formulation=path.parent.name,
            load=lambda path=path: read_toml(path),
            origin=str(path),
        )
        for path in sorted(directory.glob("*/*.toml"))
    ]


def shipped_cases(formulation: str) -> list[CaseSource]:
    """The case files gridbench ships for ``formulation`` (``cases/<formulation>/*.toml``)."""
    from bench.paths import data_dir

    return [case for case in case_files(data_dir("cases")) if case.formulation == formulation]


def shipped_reference(formulation: str) -> Path:
    """The reference file gridbench ships for ``formulation``."""
    from bench.paths import data_dir

    return data_dir("reference_results") / f"{formulation}.toml"


def load_case(source: CaseSource, formulation: Formulation) -> Case:
    """Read and validate a case for ``formulation``; raise :class:`CaseError` on bad input."""
    try:
        raw: Mapping[str, Any] = source.load()
    except CaseError:
        raise
    except Exception as exc:  # a generator or loader from a plugin failed
        raise CaseError(f"{source.origin}: cannot load case: {exc}") from None
    unknown = set(raw) - {"case", "data"}
    if unknown or "case" not in raw or "data" not in raw:
        raise CaseError(
            f"{source.origin}: a case file has exactly two tables, [case] and [data]"
            + (f"; unexpected: {', '.join(sorted(unknown))}" if unknown else "")
        )
    try:
        header = CaseHeader.model_validate(raw["case"])
    except ValidationError as exc:
        raise CaseError(f"{source.origin}: {format_validation_error(exc, 'case')}") from None
    unknown_variants = {entry.split(":")[0] for entry in header.variants} - {
        v.name for v in formulation.variants}
    if unknown_variants:
        raise CaseError(f"{source.origin}: case.variants names unknown variants "
                        f"{', '.join(sorted(unknown_variants))}")
    malformed = [entry for entry in header.variants
                 if ":" in entry and entry.split(":", 1)[1].count("/") != 1]
    if malformed:
        raise CaseError(f"{source.origin}: case.variants entry {malformed[0]!r} is not "
                        "'variant' or 'variant:backend/solver'")
    if header.name != source.name or header.formulation != source.formulation:
        raise CaseError(
            f"{source.origin}: header says {header.formulation}/{header.name}, "
            f"registered as {source.formulation}/{source.name}"
        )
    try:
        data = formulation.case_schema.model_validate(raw["data"])
    except ValidationError as exc:
        raise CaseError(f"{source.origin}: {format_validation_error(exc, 'data')}") from None
    return Case(
        name=header.name,
        formulation=header.formulation,
        description=header.description,
        fidelity=header.fidelity,
        provenance=header.provenance,
        assumptions=tuple(header.assumptions),
        variants=tuple(header.variants),
        time_limit_s=header.time_limit_s,
        data=data,
        origin=source.origin,
    )
