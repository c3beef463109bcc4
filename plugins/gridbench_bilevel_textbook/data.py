"""Case data of a textbook linear bilevel problem, and its statement with the engine's builder.

Variables are named; rows and objectives give coefficients by name, so a case file reads like
the printed problem::

    [[data.follower_constraints]]
    name = "c1"
    terms = { x = -1.0, y = -1.0 }
    sense = "<="
    rhs = -3.0
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:  # the engine (numpy, scipy) is imported only when a case is built
    from bench.api import BilevelProblem, BoundOptions, LinExpr


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LeaderVariable(_Strict):
    name: str
    lower: float = 0.0
    upper: float = math.inf
    integer: bool = False
    grid: list[float] | None = Field(None, description="finite set of values (e.g. prices)")


class FollowerVariable(_Strict):
    name: str
    lower: float = 0.0
    upper: float = math.inf


class Product(_Strict):
    leader: str
    follower: str
    coefficient: float


class Objective(_Strict):
    sense: Literal["min", "max"]
    terms: dict[str, float] = {}
    products: list[Product] = []  # leader x follower (price x quantity)
    constant: float = 0.0


class Row(_Strict):
    name: str
    terms: dict[str, float]
    sense: Literal["<=", ">=", "=="]
    rhs: float


class BilevelTextbookData(_Strict):
    # +-inf means "unbounded" for a variable's bounds only (bench.cases.require_finite)
    NON_FINITE_FIELDS: ClassVar[frozenset[str]] = frozenset({"lower", "upper"})

    leader: list[LeaderVariable]
    follower: list[FollowerVariable]
    leader_objective: Objective
    follower_objective: Objective
    follower_constraints: list[Row]
    leader_constraints: list[Row] = []
    # stated big-M: the fallback where no bound can be proven (big_m_mode "derived"), or the
    # value of every complementarity big-M (big_m_mode "stated", the trial-and-error practice)
    big_m: float | None = None
    big_m_mode: Literal["derived", "stated"] = "derived"

    @model_validator(mode="after")
    def _names_resolve(self) -> BilevelTextbookData:
        leaders = [v.name for v in self.leader]
        followers = [v.name for v in self.follower]
        names = leaders + followers
        if len(set(names)) != len(names):
            raise ValueError("variable names must be unique across leader and follower")
        for where, terms in [("leader_objective", self.leader_objective.terms),
                             ("follower_objective", self.follower_objective.terms),
                             *[(f"row {r.name}", r.terms) for r in
                               self.follower_constraints + self.leader_constraints]]:
            unknown = set(terms) - set(names)
            if unknown:
                raise ValueError(f"{where}: unknown variable(s) {sorted(unknown)}")
        for objective in (self.leader_objective, self.follower_objective):
            for p in objective.products:
                if p.leader not in leaders or p.follower not in followers:
                    raise ValueError(f"product {p.leader} x {p.follower}: needs a leader "
                                     "and a follower variable")
        if self.big_m_mode == "stated" and self.big_m is None:
            raise ValueError("big_m_mode 'stated' needs big_m")
        return self


def problem_from_data(data: BilevelTextbookData) -> BilevelProblem:
    """State the case with the engine's builder (the way any bilevel plugin does)."""
    from bench.api import BilevelBuilder, LinExpr

    b = BilevelBuilder("bilevel_textbook")
    var = {v.name: b.leader(v.name, lower=v.lower, upper=v.upper, integer=v.integer,
                            grid=v.grid) for v in data.leader}
    var |= {v.name: b.follower(v.name, lower=v.lower, upper=v.upper) for v in data.follower}

    def expression(terms: dict[str, float], products=(), constant: float = 0.0) -> LinExpr:
        expr = sum((coef * var[name] for name, coef in terms.items()),
                   start=LinExpr.constant_expr(0.0))
        for p in products:
            expr = expr + p.coefficient * (var[p.leader] * var[p.follower])
        return expr + constant

    lo, fo = data.leader_objective, data.follower_objective
    lead = expression(lo.terms, lo.products, lo.constant)
    (b.leader_minimize if lo.sense == "min" else b.leader_maximize)(lead)
    follow = expression(fo.terms, fo.products, fo.constant)
    (b.follower_minimize if fo.sense == "min" else b.follower_maximize)(follow)
    for rows, add in ((data.follower_constraints, b.follower_constraint),
                      (data.leader_constraints, b.leader_constraint)):
        for row in rows:
            lhs = expression(row.terms)
            if row.sense == "<=":
                add(lhs <= row.rhs, name=row.name)
            elif row.sense == ">=":
                add(lhs >= row.rhs, name=row.name)
            else:
                add(lhs == row.rhs, name=row.name)
    return b.build()


def options_from_data(data: BilevelTextbookData) -> BoundOptions:
    from bench.api import BoundOptions

    return BoundOptions(big_m=data.big_m, big_m_mode=data.big_m_mode)
