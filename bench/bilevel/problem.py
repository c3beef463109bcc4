"""A backend-neutral optimistic linear bilevel problem, and a small builder to state one.

The leader chooses ``x`` (continuous, integer, or restricted to a finite grid of values such
as contract prices); the follower answers with an optimal ``y`` of a linear program whose
costs and right-hand sides may depend linearly on ``x``::

    leader   min/max  fx.x + fy.y + x'Q y + const      s.t.  Gx x + Gy y (<=,>=,==) h
    follower min/max  (c0 + C x).y                      s.t.  A y (<=,>=,==) b0 + B x
                                                              lower <= y <= upper

Optimistic: among the follower's optimal answers the one best for the leader counts.
Everything is stored in ``scipy.sparse`` matrices; :class:`BilevelBuilder` states a problem
with named, shaped variable blocks and vectorised expressions (numpy broadcasting), so a
follower with thousands of variables is stated in a few array operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from bench.errors import NotApplicable

LE, GE, EQ = "<=", ">=", "=="
SENSES = (LE, GE, EQ)
CONTINUOUS, INTEGER, GRID = "continuous", "integer", "grid"


class BilevelError(ValueError):
    """A problem that cannot be stated or reformulated as asked (the message says why)."""


class NotStatable(NotApplicable, BilevelError):
    """A method (a reformulation, the oracle's enumeration) cannot state this problem, e.g.
    an integer leader without finite bounds has no finite value set to expand: the run is
    ``not_applicable``, not an error."""


# --------------------------------------------------------------------------- problem


@dataclass(frozen=True)
class BilevelProblem:
    """The matrix form every reformulation, the oracle and the certifier work on."""

    name: str
    # leader variables x
    leader_names: tuple[str, ...]
    leader_lower: np.ndarray
    leader_upper: np.ndarray
    leader_kind: tuple[str, ...]  # continuous | integer | grid
    leader_grid: dict[int, np.ndarray]  # index -> sorted grid values (kind grid)
    # follower variables y
    follower_names: tuple[str, ...]
    follower_lower: np.ndarray
    follower_upper: np.ndarray
    # follower objective (c0 + C x).y, in the follower's own sense; plus terms that are
    # constant for the follower (kept only to report its objective value)
    follower_sense: str  # min | max
    c0: np.ndarray
    C: sp.csr_matrix  # n_y x n_x
    follower_const_x: np.ndarray  # n_x
    follower_const: float
    # follower rows  A y (sense) b0 + B x
    A: sp.csr_matrix
    B: sp.csr_matrix
    b0: np.ndarray
    row_sense: tuple[str, ...]
    row_names: tuple[str, ...]
    # leader rows  Gx x + Gy y (sense) h
    Gx: sp.csr_matrix
    Gy: sp.csr_matrix
    h: np.ndarray
    leader_row_sense: tuple[str, ...]
    leader_row_names: tuple[str, ...]
    # leader objective
    leader_sense: str  # min | max
    fx: np.ndarray
    fy: np.ndarray
    Q: sp.csr_matrix  # n_x x n_y
    leader_const: float
    blocks: dict[str, tuple[str, tuple[int, ...], np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # An explicit 0 coefficient ("y = 0.0" in a row) is no coefficient: kept, it would
        # give a variable or a dual a place in the sparsity pattern of a row it is not in
        # (e.g. a dual in an SOS1 set but in no constraint, which CBC cannot read).
        for name in ("C", "A", "B", "Gx", "Gy", "Q"):
            matrix = sp.csr_matrix(getattr(self, name))
            matrix.eliminate_zeros()
            object.__setattr__(self, name, matrix)  # frozen: set once, at creation

    @property
    def n_x(self) -> int:
        return len(self.leader_names)

    @property
    def n_y(self) -> int:
        return len(self.follower_names)

    @property
    def n_rows(self) -> int:
        return len(self.row_names)

    def discrete_leaders(self) -> list[int]:
        return [k for k, kind in enumerate(self.leader_kind) if kind != CONTINUOUS]

    def leader_values(self, k: int, limit: int = 100_000) -> np.ndarray:
        """The finite value set of a gridded or integer leader variable."""
        kind = self.leader_kind[k]
        if kind == GRID:
            return self.leader_grid[k]
        if kind == INTEGER:
            lo, hi = self.leader_lower[k], self.leader_upper[k]
            if not (np.isfinite(lo) and np.isfinite(hi)) or hi - lo + 1 > limit:
                raise NotStatable(f"integer leader {self.leader_names[k]} needs finite bounds "
                                  f"with at most {limit} values to be expanded")
            return np.arange(np.ceil(lo - 1e-9), np.floor(hi + 1e-9) + 1)
        raise BilevelError(f"leader {self.leader_names[k]} is continuous: it has no finite "
                           "value set")

    def leaders_in_products(self) -> dict[str, np.ndarray]:
        """Leader variables multiplying follower variables: in the follower cost (C), the
        follower right-hand sides (B, which multiply the follower's duals in strong
        duality) and the leader objective (Q)."""
        return {"C": np.unique(self.C.tocoo().col), "B": np.unique(self.B.tocoo().col),
                "Q": np.unique(self.Q.tocoo().row)}

    # ------------------------------------------------------------------ evaluation

    def follower_cost(self, x: np.ndarray) -> np.ndarray:
        return self.c0 + self.C @ x

    def follower_rhs(self, x: np.ndarray) -> np.ndarray:
        return self.b0 + self.B @ x

    def follower_objective(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.follower_cost(x) @ y + self.follower_const_x @ x + self.follower_const)

    def leader_objective(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(self.fx @ x + self.fy @ y + x @ (self.Q @ y) + self.leader_const)

    def follower_violation(self, x: np.ndarray, y: np.ndarray) -> float:
        """Largest violation of the follower's rows and bounds at (x, y)."""
        return max(_row_violation(self.A @ y - self.follower_rhs(x), self.row_sense),
                   _bound_violation(y, self.follower_lower, self.follower_upper))

    def leader_violation(self, x: np.ndarray, y: np.ndarray) -> float:
        """Largest violation of leader rows, bounds, integrality and grid membership."""
        worst = max(_row_violation(self.Gx @ x + self.Gy @ y - self.h, self.leader_row_sense),
                    _bound_violation(x, self.leader_lower, self.leader_upper))
        for k, kind in enumerate(self.leader_kind):
            if kind == INTEGER:
                worst = max(worst, abs(x[k] - np.round(x[k])))
            elif kind == GRID:
                worst = max(worst, float(np.min(np.abs(self.leader_grid[k] - x[k]))))
        return worst

    def block(self, name: str, values: np.ndarray) -> np.ndarray:
        """The values of one named variable block, in its declared shape (``values`` is the
        full leader or follower vector)."""
        _, shape, flat = self.blocks[name]
        return np.asarray(values)[flat].reshape(shape)

    def set_block(self, name: str, vector: np.ndarray, values: np.ndarray) -> None:
        """Write one named block's ``values`` (in its declared shape) into the full leader
        or follower ``vector``: the inverse of :meth:`block`, for a model built by hand
        that must hand its solution back in the problem's variable order."""
        _, shape, flat = self.blocks[name]
        vector[flat] = np.asarray(values).reshape(shape).ravel()

    def describe(self) -> str:
        kinds = {kind: self.leader_kind.count(kind) for kind in set(self.leader_kind)}
        return (f"{self.name}: {self.n_x} leader variables {kinds}, {self.n_y} follower "
                f"variables, {self.n_rows} follower rows, {len(self.h)} leader rows")


def _row_violation(residual: np.ndarray, senses: Sequence[str]) -> float:
    """residual = lhs - rhs; the violation of each row in its sense."""
    if len(residual) == 0:
        return 0.0
    senses_arr = np.asarray(senses)
    violation = np.where(senses_arr == LE, np.maximum(residual, 0),
                         np.where(senses_arr == GE, np.maximum(-residual, 0), np.abs(residual)))
    return float(violation.max())


def _bound_violation(v: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    if len(v) == 0:
        return 0.0
    return float(max(np.max(np.maximum(lower - v, 0)), np.max(np.maximum(v - upper, 0))))


# --------------------------------------------------------------------------- expressions


def _triplets() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)


@dataclass(eq=False)
class LinExpr:
    """A shaped array of affine expressions in leader (x) and follower (y) variables, plus
    bilinear leader x follower terms. Terms are stored as triplets by flat element index."""

    shape: tuple[int, ...]
    x_terms: tuple[np.ndarray, np.ndarray, np.ndarray]  # (element, leader index, coef)
    y_terms: tuple[np.ndarray, np.ndarray, np.ndarray]  # (element, follower index, coef)
    xy_terms: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # (elem, x, y, coef)
    constant: np.ndarray  # flat, size = prod(shape)

    __array_ufunc__ = None  # numpy arrays defer to our (reflected) operators
    __hash__ = None  # type: ignore[assignment]  # == builds a constraint

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @staticmethod
    def constant_expr(value: Any) -> LinExpr:
        arr = np.asarray(value, dtype=float)
        e, i, c = _triplets()
        return LinExpr(arr.shape, (e, i, c), (e, i, c), (e, i, i, c), arr.ravel().copy())

    # -------------------------------------------------------------- row transforms

    def _transform(self, P: sp.spmatrix, shape: tuple[int, ...]) -> LinExpr:
        """New expression whose element o is sum_r P[o, r] * self[r]."""
        P = sp.csr_matrix(P)

        def apply(rows: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray]:
            if len(rows) == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
            T = sp.csr_matrix((vals, (rows, np.arange(len(rows)))), shape=(self.size, len(rows)))
            out = (P @ T).tocoo()
            return out.row.astype(np.int64), out.col.astype(np.int64), out.data

        r, k, v = apply(self.x_terms[0], self.x_terms[2])
        x_terms = (r, self.x_terms[1][k], v)
        r, k, v = apply(self.y_terms[0], self.y_terms[2])
        y_terms = (r, self.y_terms[1][k], v)
        r, k, v = apply(self.xy_terms[0], self.xy_terms[3])
        xy_terms = (r, self.xy_terms[1][k], self.xy_terms[2][k], v)
        return LinExpr(shape, x_terms, y_terms, xy_terms, P @ self.constant)

    def _broadcast(self, shape: tuple[int, ...]) -> LinExpr:
        if shape == self.shape:
            return self
        source = np.broadcast_to(np.arange(self.size).reshape(self.shape), shape).ravel()
        n_out = len(source)
        P = sp.csr_matrix((np.ones(n_out), (np.arange(n_out), source)), shape=(n_out, self.size))
        return self._transform(P, shape)

    def __getitem__(self, key: Any) -> LinExpr:
        picked = np.arange(self.size).reshape(self.shape)[key]
        flat = np.asarray(picked).ravel()
        P = sp.csr_matrix((np.ones(len(flat)), (np.arange(len(flat)), flat)),
                          shape=(len(flat), self.size))
        return self._transform(P, np.shape(picked))

    def sum(self, axis: int | None = None) -> LinExpr:
        if axis is None:
            return self._transform(sp.csr_matrix(np.ones((1, self.size))), ())
        axis = axis % len(self.shape)
        out_shape = self.shape[:axis] + self.shape[axis + 1:]
        index = np.indices(self.shape).reshape(len(self.shape), -1)
        kept = np.delete(index, axis, axis=0)
        out = np.ravel_multi_index(tuple(kept), out_shape) if out_shape else np.zeros(
            self.size, np.int64)
        n_out = int(np.prod(out_shape, dtype=np.int64))
        P = sp.csr_matrix((np.ones(self.size), (out, np.arange(self.size))),
                          shape=(n_out, self.size))
        return self._transform(P, out_shape)

    def ravel(self) -> LinExpr:
        return LinExpr((self.size,), self.x_terms, self.y_terms, self.xy_terms, self.constant)

    def __rmatmul__(self, matrix: Any) -> LinExpr:
        if len(self.shape) != 1:
            raise BilevelError("matrix @ expression needs a 1-D expression (use .ravel())")
        M = sp.csr_matrix(matrix)
        if M.shape[1] != self.size:
            raise BilevelError(f"matrix with {M.shape[1]} columns @ expression of size "
                               f"{self.size}")
        return self._transform(M, (M.shape[0],))

    def dot(self, coefficients: Any) -> LinExpr:
        """sum(coefficients * self): a scalar expression."""
        return (self * np.asarray(coefficients, dtype=float)).sum()

    # -------------------------------------------------------------- arithmetic

    def __add__(self, other: Any) -> LinExpr:
        other = as_expr(other)
        shape = np.broadcast_shapes(self.shape, other.shape)
        a, b = self._broadcast(shape), other._broadcast(shape)
        return LinExpr(
            shape,
            tuple(np.concatenate(p) for p in zip(a.x_terms, b.x_terms, strict=True)),
            tuple(np.concatenate(p) for p in zip(a.y_terms, b.y_terms, strict=True)),
            tuple(np.concatenate(p) for p in zip(a.xy_terms, b.xy_terms, strict=True)),
            a.constant + b.constant)

    __radd__ = __add__

    def __neg__(self) -> LinExpr:
        return self * -1.0

    def __sub__(self, other: Any) -> LinExpr:
        return self + (-as_expr(other))

    def __rsub__(self, other: Any) -> LinExpr:
        return as_expr(other) + (-self)

    def __mul__(self, other: Any) -> LinExpr:
        if isinstance(other, Vars | LinExpr):
            return _product(self, other)
        coef = np.asarray(other, dtype=float)
        shape = np.broadcast_shapes(self.shape, coef.shape)
        expr = self._broadcast(shape)
        scale = np.broadcast_to(coef, shape).ravel()
        return LinExpr(shape,
                       (expr.x_terms[0], expr.x_terms[1], expr.x_terms[2] * scale[expr.x_terms[0]]),
                       (expr.y_terms[0], expr.y_terms[1], expr.y_terms[2] * scale[expr.y_terms[0]]),
                       (*expr.xy_terms[:3], expr.xy_terms[3] * scale[expr.xy_terms[0]]),
                       expr.constant * scale)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> LinExpr:
        return self * (1.0 / np.asarray(other, dtype=float))

    def __le__(self, other: Any) -> Constraint:
        return Constraint(self - other, LE)

    def __ge__(self, other: Any) -> Constraint:
        return Constraint(self - other, GE)

    def __eq__(self, other: Any) -> Constraint:  # type: ignore[override]
        return Constraint(self - other, EQ)

    # -------------------------------------------------------------- queries

    def is_constant(self) -> bool:
        return not (len(self.x_terms[0]) or len(self.y_terms[0]) or len(self.xy_terms[0]))


def _product(left: LinExpr | Vars, right: LinExpr | Vars) -> LinExpr:
    """Elementwise product of a leader Vars block with a follower Vars block (broadcast):
    the only non-linear term the problem class allows (price x quantity)."""
    if not (isinstance(left, Vars) and isinstance(right, Vars)):
        raise BilevelError("only leader Vars * follower Vars products are supported; scale "
                           "them afterwards, e.g. dt * (price * quantity)")
    if {left.level, right.level} != {"leader", "follower"}:
        raise BilevelError("a product needs one leader and one follower variable block")
    lead, follow = (left, right) if left.level == "leader" else (right, left)
    xi, yj = np.broadcast_arrays(lead.index, follow.index)
    shape = xi.shape
    n = xi.size
    e, i, c = _triplets()
    return LinExpr(shape, (e, i, c), (e, i, c),
                   (np.arange(n), xi.ravel().astype(np.int64), yj.ravel().astype(np.int64),
                    np.ones(n)), np.zeros(n))


@dataclass(eq=False)
class Vars:
    """A shaped block of leader or follower variables (global indices in ``index``)."""

    level: str  # leader | follower
    name: str
    index: np.ndarray

    __array_ufunc__ = None
    __hash__ = None  # type: ignore[assignment]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.index.shape

    def expr(self) -> LinExpr:
        n = self.index.size
        terms = (np.arange(n), self.index.ravel().astype(np.int64), np.ones(n))
        e, i, c = _triplets()
        empty = (e, i, c)
        if self.level == "leader":
            return LinExpr(self.shape, terms, empty, (e, i, i, c), np.zeros(n))
        return LinExpr(self.shape, empty, terms, (e, i, i, c), np.zeros(n))

    def __getitem__(self, key: Any) -> Vars:
        return Vars(self.level, self.name, np.asarray(self.index[key]))

    def __mul__(self, other: Any) -> LinExpr:
        if isinstance(other, Vars):
            return _product(self, other)
        return self.expr() * other

    __rmul__ = __mul__

    def __add__(self, other: Any) -> LinExpr:
        return self.expr() + other

    __radd__ = __add__

    def __sub__(self, other: Any) -> LinExpr:
        return self.expr() - other

    def __rsub__(self, other: Any) -> LinExpr:
        return as_expr(other) - self.expr()

    def __neg__(self) -> LinExpr:
        return -self.expr()

    def __truediv__(self, other: Any) -> LinExpr:
        return self.expr() / other

    def __rmatmul__(self, matrix: Any) -> LinExpr:
        return self.expr().ravel().__rmatmul__(matrix)

    def sum(self, axis: int | None = None) -> LinExpr:
        return self.expr().sum(axis)

    def dot(self, coefficients: Any) -> LinExpr:
        return self.expr().dot(coefficients)

    def ravel(self) -> Vars:
        return Vars(self.level, self.name, self.index.ravel())

    def __le__(self, other: Any) -> Constraint:
        return self.expr() <= other

    def __ge__(self, other: Any) -> Constraint:
        return self.expr() >= other

    def __eq__(self, other: Any) -> Constraint:  # type: ignore[override]
        return self.expr() == other


def as_expr(value: Any) -> LinExpr:
    if isinstance(value, LinExpr):
        return value
    if isinstance(value, Vars):
        return value.expr()
    return LinExpr.constant_expr(value)


@dataclass
class Constraint:
    """``expr (sense) 0`` for every element of ``expr``."""

    expr: LinExpr
    sense: str


# --------------------------------------------------------------------------- builder


def _coo(terms: tuple[np.ndarray, ...], n_rows: int, n_cols: int, offset: int = 0
         ) -> sp.csr_matrix:
    rows, cols, vals = terms
    return sp.csr_matrix((vals, (rows + offset, cols)), shape=(n_rows, n_cols))


class BilevelBuilder:
    """State an optimistic linear bilevel problem with named, shaped variable blocks.

    >>> b = BilevelBuilder("bard_5_1_1")
    >>> x = b.leader("x", lower=0)
    >>> y = b.follower("y", lower=0)
    >>> b.leader_minimize(x - 4 * y)
    >>> b.follower_minimize(y)
    >>> b.follower_constraint(-x - y <= -3, name="c1")
    >>> problem = b.build()
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._leader: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, str, Any]] = []
        self._follower: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []
        self._n = {"leader": 0, "follower": 0}
        self._follower_rows: list[tuple[str, Constraint]] = []
        self._leader_rows: list[tuple[str, Constraint]] = []
        self._follower_objective: tuple[str, LinExpr] | None = None
        self._leader_objective: tuple[str, LinExpr] | None = None

    # -------------------------------------------------------------- variables

    def _block(self, level: str, name: str, shape: int | tuple[int, ...]) -> np.ndarray:
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        size = int(np.prod(shape, dtype=np.int64))
        index = np.arange(self._n[level], self._n[level] + size).reshape(shape)
        self._n[level] += size
        names = [b[0] for b in (self._leader if level == "leader" else self._follower)]
        if name in names:
            raise BilevelError(f"{level} block {name!r} declared twice")
        return index

    def leader(self, name: str, shape: int | tuple[int, ...] = (), lower: Any = -np.inf,
               upper: Any = np.inf, integer: bool = False,
               grid: Sequence[float] | np.ndarray | None = None) -> Vars:
        """Leader variables: continuous, integer, or restricted to the values of ``grid``
        (one grid shared by the whole block; its bounds become the grid's min and max)."""
        index = self._block("leader", name, shape)
        lo = np.broadcast_to(np.asarray(lower, float), index.shape).ravel().copy()
        hi = np.broadcast_to(np.asarray(upper, float), index.shape).ravel().copy()
        kind = CONTINUOUS
        values = None
        if grid is not None:
            if integer:
                raise BilevelError(f"leader {name}: choose integer or grid, not both")
            values = np.unique(np.asarray(grid, float))
            if values.size == 0:
                raise BilevelError(f"leader {name}: empty grid")
            lo[:], hi[:] = values[0], values[-1]
            kind = GRID
        elif integer:
            kind = INTEGER
        if np.any(lo > hi):
            raise BilevelError(f"leader {name}: lower bound above upper bound")
        self._leader.append((name, index, lo, hi, kind, values))
        return Vars("leader", name, index)

    def follower(self, name: str, shape: int | tuple[int, ...] = (), lower: Any = 0.0,
                 upper: Any = np.inf) -> Vars:
        """Follower variables (continuous). Bounds default to ``0 <= y``; pass
        ``lower=-np.inf`` for a free variable; ``lower == upper`` fixes it."""
        index = self._block("follower", name, shape)
        lo = np.broadcast_to(np.asarray(lower, float), index.shape).ravel().copy()
        hi = np.broadcast_to(np.asarray(upper, float), index.shape).ravel().copy()
        if np.any(lo > hi):
            raise BilevelError(f"follower {name}: lower bound above upper bound")
        self._follower.append((name, index, lo, hi))
        return Vars("follower", name, index)

    # -------------------------------------------------------------- objectives and rows

    def leader_minimize(self, expr: Any) -> None:
        self._leader_objective = ("min", _scalar(expr, "leader objective"))

    def leader_maximize(self, expr: Any) -> None:
        self._leader_objective = ("max", _scalar(expr, "leader objective"))

    def follower_minimize(self, expr: Any) -> None:
        self._follower_objective = ("min", _scalar(expr, "follower objective"))

    def follower_maximize(self, expr: Any) -> None:
        self._follower_objective = ("max", _scalar(expr, "follower objective"))

    def follower_constraint(self, constraint: Constraint, name: str | None = None) -> None:
        """Rows of the follower's LP; leader variables may appear (right-hand sides)."""
        if len(constraint.expr.xy_terms[0]):
            raise BilevelError("follower constraints must be linear in (x, y): no products")
        self._follower_rows.append((name or f"f{len(self._follower_rows)}", constraint))

    def leader_constraint(self, constraint: Constraint, name: str | None = None) -> None:
        """Leader rows; follower variables may appear (coupling constraints)."""
        if len(constraint.expr.xy_terms[0]):
            raise BilevelError("leader constraints must be linear in (x, y): no products")
        self._leader_rows.append((name or f"l{len(self._leader_rows)}", constraint))

    # -------------------------------------------------------------- assembly

    def build(self) -> BilevelProblem:
        if self._leader_objective is None or self._follower_objective is None:
            raise BilevelError("state both objectives before build()")
        n_x, n_y = self._n["leader"], self._n["follower"]
        leader_names, leader_kind, grid = [], [], {}
        x_lo, x_hi = np.zeros(n_x), np.zeros(n_x)
        blocks: dict[str, tuple[str, tuple[int, ...], np.ndarray]] = {}
        for name, index, lo, hi, kind, values in self._leader:
            flat = index.ravel()
            x_lo[flat], x_hi[flat] = lo, hi
            for pos, k in enumerate(flat):
                leader_names.append(_element_name(name, index.shape, pos))
                leader_kind.append(kind)
                if values is not None:
                    grid[int(k)] = values
            blocks[name] = ("leader", index.shape, flat)
        follower_names = []
        y_lo, y_hi = np.zeros(n_y), np.zeros(n_y)
        for name, index, lo, hi in self._follower:
            flat = index.ravel()
            y_lo[flat], y_hi[flat] = lo, hi
            follower_names += [_element_name(name, index.shape, p) for p in range(flat.size)]
            blocks[name] = ("follower", index.shape, flat)

        fsense, fexpr = self._follower_objective
        c0 = _coo(fexpr.y_terms, 1, n_y).toarray().ravel()
        xy = fexpr.xy_terms
        C = sp.csr_matrix((xy[3], (xy[2], xy[1])), shape=(n_y, n_x))
        f_const_x = _coo(fexpr.x_terms, 1, n_x).toarray().ravel()

        A, B, b0, senses, row_names = _rows(self._follower_rows, n_x, n_y, follower=True)
        Gy, Gx, h, lsenses, lnames = _rows(self._leader_rows, n_x, n_y, follower=False)

        lsense, lexpr = self._leader_objective
        xy = lexpr.xy_terms
        return BilevelProblem(
            name=self.name,
            leader_names=tuple(leader_names), leader_lower=x_lo, leader_upper=x_hi,
            leader_kind=tuple(leader_kind), leader_grid=grid,
            follower_names=tuple(follower_names), follower_lower=y_lo, follower_upper=y_hi,
            follower_sense=fsense, c0=c0, C=C, follower_const_x=f_const_x,
            follower_const=float(fexpr.constant.sum()),
            A=A, B=B, b0=b0, row_sense=tuple(senses), row_names=tuple(row_names),
            Gx=Gx, Gy=Gy, h=h, leader_row_sense=tuple(lsenses),
            leader_row_names=tuple(lnames),
            leader_sense=lsense,
            fx=_coo(lexpr.x_terms, 1, n_x).toarray().ravel(),
            fy=_coo(lexpr.y_terms, 1, n_y).toarray().ravel(),
            Q=sp.csr_matrix((xy[3], (xy[1], xy[2])), shape=(n_x, n_y)),
            leader_const=float(lexpr.constant.sum()), blocks=blocks)


def _scalar(expr: Any, what: str) -> LinExpr:
    e = as_expr(expr)
    if e.size != 1:
        raise BilevelError(f"{what} must be a scalar expression (use .sum())")
    return e.ravel()


def _element_name(name: str, shape: tuple[int, ...], pos: int) -> str:
    if shape == ():
        return name
    return f"{name}[{','.join(map(str, np.unravel_index(pos, shape)))}]"


def _rows(rows: list[tuple[str, Constraint]], n_x: int, n_y: int, follower: bool):
    """Stack constraints ``L x + F y + k (sense) 0`` into matrices.

    Follower rows become ``F y (sense) -k - L x`` (A, B, b0); leader rows ``L x + F y
    (sense) -k`` (returned as Gy, Gx, h)."""
    y_parts, x_parts, rhs, senses, names = [], [], [], [], []
    for name, con in rows:
        e = con.expr.ravel()
        n = e.size
        y_parts.append(_coo(e.y_terms, n, n_y))
        x_parts.append(_coo(e.x_terms, n, n_x))
        rhs.append(-e.constant)
        senses += [con.sense] * n
        names += [name] if n == 1 else [f"{name}[{i}]" for i in range(n)]
    if not rows:
        return (sp.csr_matrix((0, n_y)), sp.csr_matrix((0, n_x)), np.zeros(0), [], [])
    Y = sp.vstack(y_parts).tocsr()
    X = sp.vstack(x_parts).tocsr()
    if follower:
        return Y, (-X).tocsr(), np.concatenate(rhs), senses, names
    return Y, X, np.concatenate(rhs), senses, names
