"""Case files: a ``[case]`` header validated here, a ``[data]`` table validated by the
formulation's pydantic schema. Errors become one-line :class:`CaseError` messages."""

from __future__ import annotations

import math
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
    # a run of this case that ends at its time limit is expected (e.g. a case kept to show
    # that a method does not finish); otherwise such a run fails. Say why in assumptions
    time_limit_expected: bool = False
    # the published values this case's reconstructed data were fitted to, each as
    # "quantity = value (table cell)": their reference checks report verdict "calibrated"
    # (reference entries with calibrated = true), never "pass"
    calibrated_on: list[str] = []


def non_finite(value: Any, where: str = "", allowed: frozenset[str] = frozenset()
               ) -> str | None:
    """Where the first NaN or infinite number in a parsed TOML mapping is (None: nowhere).

    TOML spells them ``nan`` and ``inf``; a typo in a case or reference file must not turn
    into an infinite cost that passes its own checks. ``allowed`` names fields (keys, at any
    depth) where +-inf is meaningful, e.g. a variable's unbounded ``upper``; NaN never is."""
    if isinstance(value, float):
        if math.isnan(value) or (math.isinf(value) and where.rsplit(".", 1)[-1].split("[")[0]
                                 not in allowed):
            return where or "value"
        return None
    if isinstance(value, Mapping):
        items = ((f"{where}.{key}" if where else str(key), item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{where}[{k}]", item) for k, item in enumerate(value))
    else:
        return None
    for path, item in items:
        found = non_finite(item, path, allowed)
        if found is not None:
            return found
    return None


def require_finite(raw: Any, origin: str, prefix: str = "",
                   allowed: frozenset[str] = frozenset()) -> None:
    """:class:`CaseError` naming the file and field of the first non-finite number."""
    found = non_finite(raw, prefix, allowed)
    if found is not None:
        raise CaseError(f"{origin}: {found}: not a finite number"
                        + (" (+-inf is allowed only for " + ", ".join(sorted(allowed)) + ")"
                           if allowed else ""))


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    """First pydantic error as ``where: what`` (plus how many more), on one line."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; anything a user's file can do wrong is one CaseError line
    (bytes that are not UTF-8, an integer past Python's 4300-digit limit, nesting past the
    recursion limit), never a traceback."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise CaseError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise CaseError(f"{path}: not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                        f"{exc.start})") from None
    except (ValueError, RecursionError) as exc:  # TOMLDecodeError is a ValueError
        what = "nested too deeply" if isinstance(exc, RecursionError) else exc
        raise CaseError(f"{path}: not valid TOML: {what}") from None


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
    require_finite(raw["case"], source.origin, "case")
    # a schema may name fields where +-inf means "unbounded" (NON_FINITE_FIELDS)
    allowed = frozenset(getattr(formulation.case_schema, "NON_FINITE_FIELDS", ()))
    require_finite(raw["data"], source.origin, "data", allowed)
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
        time_limit_expected=header.time_limit_expected,
        calibrated_on=tuple(header.calibrated_on),
        data=data,
        origin=source.origin,
    )
