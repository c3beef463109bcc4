"""The PBPM input: an element list and the overall price range, validated (pydantic).

The notebook's widgets silently clamp or fix inconsistent input (``correct_values`` sets a
bidirectional buy price above the sell price equal to it); here every such input is rejected
with a one-line message naming the element and the operating condition (numbered from 1,
as the notebook's "OC #1").

The notebook's own inputs are accepted: an element without a name (its default label is
empty) is named by its position, ``Element 3`` (the notebook's tab title); the regulator
names ``Controller`` / ``Not Controller`` of the notebook's older code are aliases of
``Linear Regulator`` / ``Not Regulator``; two elements may share a name (the README's
screenshot has two "Load HP"): an element's identity is its position in the list.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FiniteFloat,
    ValidationError,
    field_validator,
    model_validator,
)

from bench.api import InputError
from gridbench_pbpm.core import (
    NOTEBOOK_ORDER,
    REGULATOR_ALIASES,
    Kind,
    Regulator,
    TieOrder,
    condition_levels,
    flatten,
)


class SpecError(InputError):
    """A PBPM spec that cannot be read or does not validate (one line, exit code 2)."""


class OperatingCondition(BaseModel):
    """One operating condition (e.g. a state-of-charge range): a buy price, a sell price, or
    both. Buy: the highest price at which the element takes energy; sell: the lowest price
    at which it supplies energy (the notebook's "Max buy price" and "Min sell price")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    buy_price: FiniteFloat | None = None
    sell_price: FiniteFloat | None = None
    label: str = ""


class Element(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    kind: Kind
    regulator: Regulator  # may it regulate the DC-bus voltage (DCBVR)?
    conditions: list[OperatingCondition]

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ValueError("an element needs a non-blank name")
        return name.strip()

    @field_validator("regulator", mode="before")
    @classmethod
    def _older_names(cls, regulator: Any) -> Any:
        """"Controller" / "Not Controller": the notebook's older regulator names."""
        return REGULATOR_ALIASES.get(regulator, regulator) if isinstance(regulator, str) \
            else regulator

    @model_validator(mode="after")
    def _prices_fit_the_kind(self) -> Self:
        if not self.conditions:
            raise ValueError(f"element {self.name!r} has no operating condition")
        for number, condition in enumerate(self.conditions, start=1):
            where = f"element {self.name!r} condition {number}"
            buy, sell = condition.buy_price, condition.sell_price
            if self.kind == "Source" and (buy is not None or sell is None):
                raise ValueError(f"{where}: a Source has a sell price and no buy price")
            if self.kind == "Load" and (sell is not None or buy is None):
                raise ValueError(f"{where}: a Load has a buy price and no sell price")
            if buy is None and sell is None:
                raise ValueError(f"{where}: needs a buy price, a sell price or both")
            if buy is not None and sell is not None and buy > sell:
                raise ValueError(f"{where}: buy price {buy:g} is above its sell price {sell:g}")
        return self


class PbpmSpec(BaseModel):
    """The ``[data]`` table of a PBPM case, and the file ``gridbench pbpm SPEC`` reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_price: FiniteFloat  # overall system price range (currency/kWh)
    max_price: FiniteFloat
    elements: list[Element]
    # order among equal prices: "notebook" (default) or "regulators_first" (docs/pbpm.md)
    tie_order: TieOrder = NOTEBOOK_ORDER

    @field_validator("elements", mode="before")
    @classmethod
    def _name_by_position(cls, elements: Any) -> Any:
        """An element without a name, or with a blank one (the notebook's default label is
        ""), is named by its position from 1: ``Element 3``, the notebook's tab title."""
        if not isinstance(elements, list):
            return elements
        named = []
        for position, element in enumerate(elements, start=1):
            if isinstance(element, dict):
                name = element.get("name")
                if name is None or (isinstance(name, str) and not name.strip()):
                    element = {**element, "name": position_name(position)}
            named.append(element)
        return named

    @field_validator("elements")
    @classmethod
    def _not_empty(cls, elements: list[Element]) -> list[Element]:
        if not elements:
            raise ValueError("the element list is empty")
        return elements

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.min_price > self.max_price:
            raise ValueError(f"min_price {self.min_price:g} is above max_price {self.max_price:g}")
        # names may repeat (the notebook allows it): an element is its position
        for position, element in enumerate(self.elements, start=1):
            for number, condition in enumerate(element.conditions, start=1):
                for side, price in (("buy", condition.buy_price), ("sell", condition.sell_price)):
                    if price is not None and not self.min_price <= price <= self.max_price:
                        raise ValueError(
                            f"element {position} {element.name!r} condition {number}: {side} price "
                            f"{price:g} is outside the price range "
                            f"[{self.min_price:g}, {self.max_price:g}]")
        self._no_collapsed_condition()
        return self

    def _no_collapsed_condition(self) -> None:
        """The notebook's level rule does not step between two rows of one element's
        different conditions, so a condition's buy and sell prices can land on one price
        index when only the element's own other conditions lie between them; its PRM row
        would then claim mode 11 (regulate both ways) for prices that differ. Reject that."""
        rows, conditions = flatten(self.elements)
        buy, sell, _, _ = condition_levels(rows, len(conditions), self.tie_order)
        r = 0
        for position, element in enumerate(self.elements, start=1):
            for number, condition in enumerate(element.conditions, start=1):
                if (condition.buy_price is not None and condition.sell_price is not None
                        and condition.buy_price < condition.sell_price and buy[r] == sell[r]):
                    raise ValueError(
                        f"element {position} {element.name!r} condition {number}: buy price "
                        f"{condition.buy_price:g} and sell price {condition.sell_price:g} fall on "
                        "one price index (only this element's other conditions lie between "
                        "them); change the prices")
                r += 1

    @property
    def n_conditions(self) -> int:
        return sum(len(element.conditions) for element in self.elements)

    @property
    def element_labels(self) -> list[str]:
        """One distinct label per element, in list order: its name, or, where two or more
        elements share the name, the name and its position (``Load HP #4``)."""
        counts: dict[str, int] = {}
        for element in self.elements:
            counts[element.name] = counts.get(element.name, 0) + 1
        labels = [element.name if counts[element.name] == 1 else f"{element.name} #{position}"
                  for position, element in enumerate(self.elements, start=1)]
        if len(set(labels)) < len(labels):  # a name that looks like "Load HP #4" itself
            labels = [f"{position}) {element.name}"
                      for position, element in enumerate(self.elements, start=1)]
        return labels


def position_name(position: int) -> str:
    """The name of an unnamed element: its position from 1, as the notebook's tab title."""
    return f"Element {position}"


def one_line(exc: ValidationError) -> str:
    """The first validation error as ``where: what`` on one line (pydantic's "Value error, "
    prefix dropped), plus how many more there are."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ").replace("\n", " ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"


def read_spec_mapping(path: Path) -> dict[str, Any]:
    """A spec file: TOML or JSON, either a bare spec or a case file with a [data] table."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text.decode())
    except (ValueError, RecursionError) as exc:  # JSON/TOML decode errors, not UTF-8, an
        # integer past Python's 4300-digit limit, nesting past the recursion limit
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        what = "nested too deeply" if isinstance(exc, RecursionError) else \
            str(exc).splitlines()[0]
        raise SpecError(f"{path}: not valid {kind}: {what}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a spec is a table (min_price, max_price, elements)")
    data = raw.get("data", raw)
    if not isinstance(data, dict):
        raise SpecError(f"{path}: [data] must be a table")
    return data


def load_spec(path: Path) -> PbpmSpec:
    """Read and validate a spec file; :class:`SpecError` with a one-line message if bad."""
    data = read_spec_mapping(path)
    try:
        return PbpmSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(f"{path}: {one_line(exc)}") from None
