"""Published values to check against: the ``reference_results/*.toml`` format.

One file per formulation. Each ``[[reference]]`` group is one case and one or more variants;
each quantity carries its value, unit, where in the seed it is printed, and inherits the
group's tolerance and fidelity unless it sets its own. ``[[derived]]`` entries are checks
across runs: a linear combination of quantities from several cases of the same
formulation, variant, backend and solver (e.g. a saving = cost with reserve - cost
without). ``reference_results/README.md`` documents the format with an example.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bench.cases import format_validation_error, read_toml, require_finite
from bench.errors import InputError
from bench.records import Fidelity

Mismatch = Literal["fail", "deviation"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Tolerance(_Strict):
    """Pass when ``|actual - expected| <= abs`` or ``<= rel * |expected|`` (either bound)."""

    abs: float | None = Field(default=None, ge=0)
    rel: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_bound(self) -> Self:
        if self.abs is None and self.rel is None:
            raise ValueError("a tolerance needs abs, rel or both")
        return self

    def __str__(self) -> str:
        parts = [f"abs {self.abs:g}" if self.abs is not None else "",
                 f"rel {self.rel:g}" if self.rel is not None else ""]
        return " or ".join(p for p in parts if p)

    def accepts(self, abs_err: float, rel_err: float | None) -> bool:
        if self.abs is not None and abs_err <= self.abs:
            return True
        return self.rel is not None and rel_err is not None and rel_err <= self.rel


class _Labelled(_Strict):
    fidelity: Fidelity | None = None
    fidelity_note: str = ""  # which parameter is inferred / what was reconstructed, and why
    tolerance: Tolerance | None = None
    on_mismatch: Mismatch | None = None
    note: str = ""


class QuantityEntry(_Labelled):
    value: float
    unit: str
    where: str  # table, cell or line of the seed document
    # the case's reconstructed data were fitted to this value (its case file names it): a
    # check reports its error with verdict "calibrated", never "pass"
    calibrated: bool = False


class ReferenceGroup(_Labelled):
    case: str
    variants: list[str] = Field(min_length=1)
    # a second published source for the same quantities (e.g. an earlier paper's columns
    # reprinted in the seed's table); empty for the seed's own values
    source: str = ""
    quantities: dict[str, QuantityEntry] = Field(min_length=1)


class DerivedTerm(_Strict):
    case: str
    quantity: str
    coefficient: float = 1.0


class DerivedEntry(_Labelled):
    name: str
    variants: list[str] = Field(min_length=1)
    terms: list[DerivedTerm] = Field(min_length=1)
    value: float
    unit: str
    where: str


class ReferenceFile(_Strict):
    formulation: str
    seed: str
    reference: list[ReferenceGroup] = []
    derived: list[DerivedEntry] = []


@dataclass(frozen=True)
class Reference:
    """One published value, fully labelled (group defaults resolved)."""

    formulation: str
    case: str
    variant: str
    quantity: str
    value: float
    unit: str
    tolerance: Tolerance
    seed: str
    where: str
    fidelity: Fidelity
    fidelity_note: str
    on_mismatch: Mismatch
    note: str
    source: str = ""
    origin: str = ""  # the reference file, for messages
    calibrated: bool = False  # the case's data were fitted to this value

    @property
    def label(self) -> str:
        """The check's name: the quantity, with its source when it is not the seed's own."""
        return f"{self.quantity} [{self.source}]" if self.source else self.quantity


@dataclass(frozen=True)
class DerivedReference:
    formulation: str
    variant: str
    name: str
    terms: tuple[DerivedTerm, ...]
    value: float
    unit: str
    tolerance: Tolerance
    seed: str
    where: str
    fidelity: Fidelity
    fidelity_note: str
    on_mismatch: Mismatch
    note: str
    origin: str = ""


@dataclass
class ReferenceBook:
    references: list[Reference]
    derived: list[DerivedReference]

    def for_run(self, formulation: str, case: str, variant: str) -> list[Reference]:
        return [r for r in self.references
                if (r.formulation, r.case, r.variant) == (formulation, case, variant)]


def _resolve(entry: _Labelled, group: _Labelled | None, origin: str, what: str):
    """Inherit labels from the group; demand a note for anything not ``exact``."""
    fidelity = entry.fidelity or (group.fidelity if group else None)
    tolerance = entry.tolerance or (group.tolerance if group else None)
    note = entry.fidelity_note or (group.fidelity_note if group else "")
    if fidelity is None or tolerance is None:
        raise InputError(f"{origin}: {what}: needs a fidelity and a tolerance")
    if fidelity is not Fidelity.EXACT and not note:
        raise InputError(f"{origin}: {what}: fidelity {fidelity} needs a fidelity_note "
                        "(which parameter or data, and why)")
    on_mismatch = entry.on_mismatch or (group.on_mismatch if group else None)
    if on_mismatch is None:
        on_mismatch = "deviation" if fidelity is Fidelity.RECONSTRUCTED else "fail"
    return fidelity, tolerance, note, on_mismatch


def load_reference_file(path: Path) -> ReferenceFile:
    raw = read_toml(path)
    require_finite(raw, str(path))  # an infinite tolerance would accept anything
    try:
        return ReferenceFile.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{path}: {format_validation_error(exc)}") from None


def load_references(paths: list[Path]) -> ReferenceBook:
    book = ReferenceBook([], [])
    seen: set[tuple[str, ...]] = set()
    for path in paths:
        parsed = load_reference_file(path)
        for group in parsed.reference:
            for quantity, entry in group.quantities.items():
                what = f"{group.case}.{quantity}"
                fidelity, tolerance, note, mismatch = _resolve(entry, group, str(path), what)
                for variant in group.variants:
                    key = (parsed.formulation, group.case, variant, quantity, group.source)
                    if key in seen:
                        raise InputError(f"{path}: {'/'.join(k for k in key if k)} has two "
                                         "reference values")
                    seen.add(key)
                    book.references.append(Reference(
                        parsed.formulation, group.case, variant, quantity, entry.value,
                        entry.unit, tolerance, parsed.seed, entry.where, fidelity, note,
                        mismatch, entry.note or group.note, group.source, str(path),
                        entry.calibrated))
        for derived in parsed.derived:
            fidelity, tolerance, note, mismatch = _resolve(derived, None, str(path), derived.name)
            for variant in derived.variants:
                book.derived.append(DerivedReference(
                    parsed.formulation, variant, derived.name, tuple(derived.terms),
                    derived.value, derived.unit, tolerance, parsed.seed, derived.where,
                    fidelity, note, mismatch, derived.note, str(path)))
    return book


def check_reference_names(book: ReferenceBook, registry) -> None:
    """A reference naming a formulation, case or variant that is not registered would
    silently check nothing: an :class:`InputError` naming the file and the entry."""
    for ref in book.references:
        _check_names(ref.origin, f"{ref.case}.{ref.quantity}", ref.formulation, ref.case,
                     ref.variant, ref.quantity, registry)
    for ref in book.derived:
        for term in ref.terms:
            _check_names(ref.origin, f"derived {ref.name}", ref.formulation, term.case,
                         ref.variant, term.quantity, registry)


def _check_names(origin: str, entry: str, formulation: str, case: str, variant: str,
                 quantity: str, registry) -> None:
    known = registry.formulations.get(formulation)
    if known is None:
        raise InputError(f"{origin}: formulation {formulation!r} is not registered "
                         f"(known: {', '.join(sorted(registry.formulations))})")
    source = registry.cases.get(case)
    if source is None or source.formulation != formulation:
        mine = sorted(n for n, c in registry.cases.items() if c.formulation == formulation)
        raise InputError(f"{origin}: {entry}: case {case!r} is not a {formulation} case "
                         f"(known: {', '.join(mine) or 'none'})")
    names = [v.name for v in known.variants]
    if variant not in names:
        raise InputError(f"{origin}: {entry}: variant {variant!r} is not a variant of "
                         f"{formulation} (known: {', '.join(names)})")
    if not known.declares_quantity(quantity):
        raise InputError(f"{origin}: {entry}: quantity {quantity!r} is not a quantity of "
                         f"{formulation} (declared: {', '.join(known.quantity_names)})")


def errors(expected: float, actual: float) -> tuple[float, float | None]:
    abs_err = abs(actual - expected)
    rel_err = abs_err / abs(expected) if expected != 0 else (0.0 if abs_err == 0 else None)
    if math.isnan(abs_err):
        return math.inf, None
    return abs_err, rel_err


def load_reference_book(registry) -> tuple[ReferenceBook, list[str]]:
    """Every reference file of the registry, each loaded and name-checked on its own.

    A plugin's broken file (unreadable, invalid, or naming an unknown formulation, case or
    variant) is that plugin's problem only: it is reported, the plugin's formulations are
    left out (their published values could not be checked), and the other formulations run.
    A file the user named (``--reference-file``) is the user's input: an InputError.
    Returns the book and one message per file left out."""
    from bench.records import PluginProblem

    book = ReferenceBook([], [])
    problems: list[str] = []
    for path in registry.reference_files:
        owner = registry.owner.get(("reference", str(path)), "?")
        try:
            part = load_references([path])
            check_reference_names(part, registry)
            _no_repeats(part, book, path)
        except InputError as exc:
            if owner == "--reference-file":
                raise
            dropped = sorted(name for (kind, name), who in registry.owner.items()
                             if kind == "formulation" and who == owner
                             and name in registry.formulations)
            for name in dropped:
                registry.formulations.pop(name, None)
            registry.problems.append(PluginProblem(
                owner, "", "references", f"{exc}; not run: {', '.join(dropped) or 'nothing'}"))
            problems.append(str(exc))
            continue
        book.references.extend(part.references)
        book.derived.extend(part.derived)
    return book, problems


def _no_repeats(part: ReferenceBook, book: ReferenceBook, path: Path) -> None:
    have = {(r.formulation, r.case, r.variant, r.quantity, r.source) for r in book.references}
    for r in part.references:
        key = (r.formulation, r.case, r.variant, r.quantity, r.source)
        if key in have:
            raise InputError(f"{path}: {'/'.join(k for k in key if k)} has two reference "
                             "values (another file gives it too)")
