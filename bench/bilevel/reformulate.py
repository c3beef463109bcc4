"""Single-level reformulations of an optimistic linear bilevel problem, in matrix form.

* ``strong_duality`` (thesis section 3.5, eqs. 10-18 and 43-44): follower primal rows, dual
  feasibility ``Abar'd = sign*c(x)`` and the strong-duality equation
  ``sign*c(x).y = beta(x).d``. Its leader x follower products (``x_k y_j`` from leader-priced
  costs, ``x_k d_i`` from leader-dependent right-hand sides) and the leader objective's
  ``x_k y_j`` are linearised exactly with the binary expansion of eq. 42: one binary per
  grid value of ``x_k``, one auxiliary per (grid value, product), four rows each. A product
  with a *continuous* leader variable has no exact linear form: the reformulation refuses
  (state a grid, or use a KKT reformulation, which is linear in a continuous ``x``).
* ``kkt_bigm`` (Fortuny-Amat & McCarl 1981): primal and dual feasibility and one binary per
  complementarity pair, ``slack <= Mp*u`` and ``|dual| <= Md*(1-u)``; every M comes with its
  provenance (bounds.py).
* ``kkt_sos1``: the same pairs as SOS1 sets {slack, dual}; no big-M at all.

Each returns a :class:`SingleLevelModel` (variables, sparse rows with lower/upper bounds,
objective, SOS1 sets, the table of big-Ms) that the emitters turn into Pyomo, PuLP or CVXPY.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from bench.bilevel.bounds import (
    STATED,
    VARIABLE_BOUNDS,
    Bound,
    BoundDeriver,
    BoundOptions,
)
from bench.bilevel.dual import StackedFollower, follower_components, stack_follower
from bench.bilevel.problem import (
    CONTINUOUS,
    EQ,
    GE,
    GRID,
    INTEGER,
    LE,
    BilevelError,
    BilevelProblem,
    NotStatable,
)
from bench.bilevel.tolerances import POLICY
from bench.bilevel.variants import KKT_BIGM, KKT_SOS1, STRONG_DUALITY, STRONG_DUALITY_BILINEAR

CONT, INT, BIN = 0, 1, 2
HPR_EMPTY = ("no leader decision admits a feasible follower (the high-point relaxation, or "
             "the follower at every grid point, is infeasible): the bilevel problem is "
             "infeasible")
METHODS = (STRONG_DUALITY, KKT_BIGM, KKT_SOS1, STRONG_DUALITY_BILINEAR)


class ReformulationNotApplicable(NotStatable):
    """This reformulation cannot state this problem exactly (the message says why)."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class BigMTable:
    """Every big-M (and eq. 42 product bound) the model relies on, as ``side * q(v) <=
    side * limit`` with ``q(v) = coef @ v + const`` on the model's variable vector."""

    names: tuple[str, ...]
    roles: tuple[str, ...]  # primal slack | dual | product bound
    limits: np.ndarray
    sides: np.ndarray  # +1: q <= limit; -1: q >= limit
    coef: sp.csr_matrix
    const: np.ndarray
    sources: tuple[str, ...]
    valid: np.ndarray  # bool: proven not to cut off a bilevel-feasible point

    def __len__(self) -> int:
        return len(self.names)

    def values(self, v: np.ndarray) -> np.ndarray:
        return self.coef @ v + self.const

    def active(self, v: np.ndarray) -> np.ndarray:
        """Indices of the bounds that hold with equality (or are exceeded) at ``v``, within
        the policy's ``active`` tolerance (bench.bilevel.tolerances)."""
        if len(self) == 0:
            return np.zeros(0, np.int64)
        gap = self.sides * (self.limits - self.values(v))
        tol = POLICY.active
        return np.flatnonzero(gap <= tol.absolute + tol.relative * np.abs(self.limits))


@dataclass
class SingleLevelModel:
    """A single-level MILP ``min/max c.v + c0, row_lower <= A v <= row_upper``, bounds,
    integrality, SOS1 sets, plus what extraction and certification need."""

    name: str
    method: str
    lower: np.ndarray
    upper: np.ndarray
    kind: np.ndarray  # CONT, INT, BIN
    var_names: list[str]
    var_blocks: dict[str, np.ndarray]
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_names: list[str]
    row_blocks: dict[str, np.ndarray]
    sense: str
    c: np.ndarray
    c0: float
    sos1: list[tuple[np.ndarray, np.ndarray]]
    big_m: BigMTable
    x_index: np.ndarray
    y_index: np.ndarray
    dual_index: np.ndarray
    dual_scale: np.ndarray  # stacked duals = dual_scale * v[dual_index]
    notes: list[str] = field(default_factory=list)
    # bilinear terms (strong_duality_bilinear only): row r gains coef * v[i] * v[j]
    # (row_bilinear: rows, i, j, coef), the objective coef * v[i] * v[j] (objective_bilinear)
    row_bilinear: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    objective_bilinear: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def n_vars(self) -> int:
        return len(self.lower)

    @property
    def integer_mask(self) -> np.ndarray:
        """True for each integer or binary variable (an emitter's integrality)."""
        return self.kind != CONT

    def size(self) -> dict[str, int]:
        return {"n_vars": self.n_vars, "n_binaries": int(np.sum(self.kind == BIN)),
                "n_integers": int(np.sum(self.kind == INT)), "n_constraints": self.A.shape[0],
                "n_sos1": len(self.sos1), "n_bigm": len(self.big_m),
                "n_bigm_unproven": int(np.sum(~self.big_m.valid))}

    def groups(self) -> list[tuple[str, np.ndarray, int]]:
        """(name, global indices, kind) per variable block and kind, for the emitters."""
        out = []
        for block, idx in self.var_blocks.items():
            for kind, suffix in ((CONT, ""), (INT, "_int"), (BIN, "_bin")):
                sel = idx[self.kind[idx] == kind]
                if len(sel):
                    out.append((block + (suffix if kind != CONT else ""), sel, kind))
        return out

    def objective_value(self, v: np.ndarray) -> float:
        value = float(self.c @ v + self.c0)
        if self.objective_bilinear is not None:
            i, j, coef = self.objective_bilinear
            value += float(np.sum(coef * v[i] * v[j]))
        return value

    def row_activity(self, v: np.ndarray) -> np.ndarray:
        ax = self.A @ v
        if self.row_bilinear is not None:
            rows, i, j, coef = self.row_bilinear
            np.add.at(ax, rows, coef * v[i] * v[j])
        return ax

    def row_violation(self, v: np.ndarray) -> float:
        ax = self.row_activity(v)
        return float(max(np.max(np.maximum(self.row_lower - ax, 0), initial=0),
                         np.max(np.maximum(ax - self.row_upper, 0), initial=0)))


class _Assembly:
    """Collects variables and sparse rows block by block."""

    def __init__(self) -> None:
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.kind: list[np.ndarray] = []
        self.names: list[str] = []
        self.blocks: dict[str, list[np.ndarray]] = {}
        self.n = 0
        self.rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.row_lower: list[np.ndarray] = []
        self.row_upper: list[np.ndarray] = []
        self.row_names: list[str] = []
        self.row_blocks: dict[str, list[np.ndarray]] = {}
        self.m = 0
        self.big_m: list[tuple] = []

    def add_vars(self, block: str, names: list[str], lower, upper, kind: int) -> np.ndarray:
        n = len(names)
        idx = np.arange(self.n, self.n + n)
        self.lower.append(np.broadcast_to(np.asarray(lower, float), (n,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, float), (n,)).copy())
        self.kind.append(np.full(n, kind, np.int8))
        self.names += names
        self.blocks.setdefault(block, []).append(idx)
        self.n += n
        return idx

    def add_rows(self, block: str, parts: list[tuple[sp.spmatrix, np.ndarray]], lower, upper,
                 names: list[str]) -> np.ndarray:
        """Rows ``lower <= sum_p M_p @ v[cols_p] <= upper``."""
        m = len(names)
        if m == 0:
            return np.zeros(0, np.int64)
        for M, cols in parts:
            coo = sp.coo_matrix(M)
            if coo.shape[0] != m:
                raise BilevelError(f"internal: block {block} has {coo.shape[0]} rows, not {m}")
            self.rows.append((coo.row + self.m, np.asarray(cols)[coo.col], coo.data))
        self.row_lower.append(np.broadcast_to(np.asarray(lower, float), (m,)).copy())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, float), (m,)).copy())
        self.row_names += names
        idx = np.arange(self.m, self.m + m)
        self.row_blocks.setdefault(block, []).append(idx)
        self.m += m
        return idx

    def add_big_m(self, name: str, role: str, limit: float, side: int,
                  coef: tuple[np.ndarray, np.ndarray], const: float, bound: Bound) -> None:
        self.big_m.append((name, role, limit, side, coef, const, bound.source, bound.valid))

    def finish(self, name: str, method: str, sense: str, c: dict[int, float] | np.ndarray,
               c0: float, sos1, x_index, y_index, dual_index, dual_scale, notes,
               row_bilinear=None, objective_bilinear=None) -> SingleLevelModel:
        rows = [np.concatenate(p) if p else np.zeros(0) for p in zip(*self.rows, strict=True)] \
            if self.rows else [np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)]
        A = sp.csr_matrix((rows[2], (rows[0].astype(np.int64), rows[1].astype(np.int64))),
                          shape=(self.m, self.n))
        A.sum_duplicates()
        objective = np.zeros(self.n)
        if isinstance(c, dict):
            for j, value in c.items():
                objective[j] += value
        else:
            objective[: len(c)] += c
        bm = self.big_m
        coef = sp.csr_matrix((len(bm), self.n))
        if bm:
            r = np.concatenate([np.full(len(b[4][0]), i) for i, b in enumerate(bm)])
            cols = np.concatenate([b[4][0] for b in bm]).astype(np.int64)
            vals = np.concatenate([b[4][1] for b in bm])
            coef = sp.csr_matrix((vals, (r, cols)), shape=(len(bm), self.n))
        table = BigMTable(tuple(b[0] for b in bm), tuple(b[1] for b in bm),
                          np.array([b[2] for b in bm], float), np.array([b[3] for b in bm]),
                          coef, np.array([b[5] for b in bm], float),
                          tuple(b[6] for b in bm), np.array([b[7] for b in bm], bool))
        return SingleLevelModel(
            name=name, method=method, lower=np.concatenate(self.lower),
            upper=np.concatenate(self.upper), kind=np.concatenate(self.kind),
            var_names=self.names,
            var_blocks={k: np.concatenate(v) for k, v in self.blocks.items()},
            A=A, row_lower=np.concatenate(self.row_lower) if self.row_lower else np.zeros(0),
            row_upper=np.concatenate(self.row_upper) if self.row_upper else np.zeros(0),
            row_names=self.row_names,
            row_blocks={k: np.concatenate(v) for k, v in self.row_blocks.items()},
            sense=sense, c=objective, c0=c0, sos1=sos1, big_m=table, x_index=x_index,
            y_index=y_index, dual_index=dual_index, dual_scale=dual_scale, notes=notes,
            row_bilinear=row_bilinear, objective_bilinear=objective_bilinear)


def _sense_bounds(rhs: np.ndarray, senses) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(senses)
    lower = np.where((s == GE) | (s == EQ), rhs, -np.inf)
    upper = np.where((s == LE) | (s == EQ), rhs, np.inf)
    return lower, upper


# --------------------------------------------------------------------------- shared parts


class _Builder:
    """The parts every reformulation shares: x, y, duals, rows, grid expansions."""

    def __init__(self, problem: BilevelProblem, options: BoundOptions, method: str,
                 expand: set[int]) -> None:
        self.p = problem
        self.method = method
        self.st: StackedFollower = stack_follower(problem)
        self.bounds = BoundDeriver(problem, self.st, options)
        self.options = options
        self.asm = _Assembly()
        self.notes: list[str] = []
        p = problem
        kind = np.array([INT if k == INTEGER and i not in expand else CONT
                         for i, k in enumerate(p.leader_kind)], np.int8)
        self.x = np.arange(p.n_x)
        for kd in (CONT, INT):
            sel = np.flatnonzero(kind == kd)
            if len(sel):
                idx = self.asm.add_vars("x", [p.leader_names[i] for i in sel],
                                        p.leader_lower[sel], p.leader_upper[sel], kd)
                self.x[sel] = idx
        self.y = self.asm.add_vars("y", list(p.follower_names), p.follower_lower,
                                   p.follower_upper, CONT)
        self.d = np.zeros(0, np.int64)
        self.dual_scale = np.zeros(0)
        self.dual_empty = np.zeros(0, bool)
        self.expansion: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for k in sorted(expand | {i for i, kd in enumerate(p.leader_kind) if kd == GRID}):
            self._expand(k)
        self.products: dict[tuple[int, str, int], np.ndarray] = {}
        # strong_duality_bilinear: products kept as terms (row, i, j, coef) / (i, j, coef)
        self.bilinear = False
        self.row_bilinear: list[tuple[int, int, int, float]] = []
        self.objective_bilinear: list[tuple[int, int, float]] = []

    # -------------------------------------------------------------- pieces

    def add_duals(self, nonnegative: bool = False) -> None:
        """Dual variables in the stacked order. An entry whose row of Abar is empty (a
        follower row without follower variables) has its dual fixed at 0: it never enters
        dual feasibility, 0 is optimal for it (its right-hand side is >= 0 whenever x is
        feasible) and complementarity then holds trivially. With ``nonnegative`` the
        inequality duals are stored as multipliers |d_k| >= 0 (d = dual_scale * v), the
        form SOS1 sets are usually stated in (kkt_sos1; CBC and SCIP also solved every
        textbook case with the signed duals)."""
        lower, upper = self.st.dual_bounds()
        empty = np.diff(self.st.A.indptr) == 0
        self.dual_empty = empty
        self.dual_scale = np.where(nonnegative & (self.st.kind == -1), -1.0, 1.0)
        lower, upper = np.where(self.dual_scale < 0, -upper, lower), np.where(
            self.dual_scale < 0, -lower, upper)
        lower, upper = np.where(empty, 0.0, lower), np.where(empty, 0.0, upper)
        self.d = self.asm.add_vars("dual", [f"dual[{n}]" for n in self.st.names], lower,
                                   upper, CONT)

    def primal_rows(self) -> None:
        p = self.p
        lower, upper = _sense_bounds(p.b0, p.row_sense)
        self.asm.add_rows("follower_rows", [(p.A, self.y), (-p.B, self.x)], lower, upper,
                          [f"follower[{n}]" for n in p.row_names])
        lower, upper = _sense_bounds(p.h, p.leader_row_sense)
        self.asm.add_rows("leader_rows", [(p.Gx, self.x), (p.Gy, self.y)], lower, upper,
                          [f"leader[{n}]" for n in p.leader_row_names])

    def dual_feasibility(self) -> None:
        """Abar'd - sign*C x = sign*c0 (one row per follower variable)."""
        st = self.st
        self.asm.add_rows("dual_feasibility", [(st.A.T @ sp.diags(self.dual_scale), self.d),
                                               (-st.cost_x, self.x)],
                          st.cost0, st.cost0,
                          [f"dual_feasibility[{n}]" for n in self.p.follower_names])

    def _expand(self, k: int) -> None:
        """Eq. 42c: one binary per value of x_k, exactly one chosen, x_k = sum v_q z_q."""
        values = self.p.leader_values(k)
        name = self.p.leader_names[k]
        z = self.asm.add_vars("z", [f"z[{name}={v:g}]" for v in values], 0.0, 1.0, BIN)
        q = len(values)
        self.asm.add_rows("grid", [(np.ones((1, q)), z)], 1.0, 1.0, [f"grid_one[{name}]"])
        self.asm.add_rows("grid", [(-values.reshape(1, -1), z), (np.ones((1, 1)),
                                                                 self.x[[k]])],
                          0.0, 0.0, [f"grid_value[{name}]"])
        self.expansion[k] = (z, values)

    def product(self, k: int, what: str, j: int) -> np.ndarray:
        """tau_q = z_q * w (w = y_j or dual_j) linearised as in eq. 42a-b; returns the tau
        indices so that x_k * w = sum_q v_q tau_q."""
        key = (k, what, j)
        if key in self.products:
            return self.products[key]
        z, values = self.expansion[k]
        if what == "y":
            w = self.y[j]
            bound = self.bounds.need_finite(self.bounds.follower_bound(j),
                                            f"follower variable {self.p.follower_names[j]}",
                                            lower=True, upper=True)
            label = self.p.follower_names[j]
        else:
            w = self.d[j]
            bound = self.bounds.need_finite(self.bounds.dual_range(j), self.st.dual_name(j),
                                            lower=True, upper=True)
            label = f"dual of {self.st.names[j]}"
        lo, hi = bound.lower, bound.upper
        if lo == 0.0 and hi == 0.0:  # w is 0 at every bilevel-feasible point: no product
            self._fix_zero(w)
            self.products[key] = np.zeros(0, np.int64)
            return self.products[key]
        q = len(values)
        xname = self.p.leader_names[k]
        tau = self.asm.add_vars("tau", [f"tau[{xname}={v:g},{label}]" for v in values],
                                min(lo, 0.0), max(hi, 0.0), CONT)
        eye = sp.identity(q, format="csr")
        ones = np.ones((q, 1))
        names = [f"eq42[{xname}={v:g},{label}]" for v in values]
        # lo z <= tau <= hi z
        self.asm.add_rows("eq42", [(eye, tau), (-hi * eye, z)], -np.inf, 0.0,
                          [n + ":a_up" for n in names])
        self.asm.add_rows("eq42", [(eye, tau), (-lo * eye, z)], 0.0, np.inf,
                          [n + ":a_lo" for n in names])
        if self.options.product_form == "compact":
            # sum_q tau_q = w (with sum_q z_q = 1 this is exact, and the convex hull)
            self.asm.add_rows("eq42", [(np.ones((1, q)), tau), (-np.ones((1, 1)),
                                                                 np.array([w]))],
                              0.0, 0.0, [f"product_sum[{xname},{label}]"])
        else:
            # lo (1 - z) <= w - tau <= hi (1 - z)
            self.asm.add_rows("eq42", [(ones, np.array([w])), (-eye, tau), (hi * eye, z)],
                              -np.inf, hi, [n + ":b_up" for n in names])
            self.asm.add_rows("eq42", [(ones, np.array([w])), (-eye, tau), (lo * eye, z)],
                              lo, np.inf, [n + ":b_lo" for n in names])
        if bound.source != VARIABLE_BOUNDS:
            for side, limit in ((1, hi), (-1, lo)):
                self.asm.add_big_m(f"{'upper' if side > 0 else 'lower'} bound of {label} "
                                   f"in its product with {xname} (eq. 42)", "product bound",
                                   limit, side, (np.array([w]), np.array([1.0])), 0.0, bound)
        self.products[key] = tau
        return tau

    def _fix_zero(self, var: int) -> None:
        """Fix a model variable at 0 (its proven range is [0, 0])."""
        offset = 0
        for lower, upper in zip(self.asm.lower, self.asm.upper, strict=True):
            if var < offset + len(lower):
                lower[var - offset] = upper[var - offset] = 0.0
                return
            offset += len(lower)

    def leader_objective(self) -> tuple[dict[int, float], float]:
        """fx.x + fy.y + x'Qy with each x_k y_j expanded (x_k discrete)."""
        p = self.p
        c: dict[int, float] = {}
        for i, value in zip(self.x, p.fx, strict=True):
            c[int(i)] = c.get(int(i), 0.0) + value
        for i, value in zip(self.y, p.fy, strict=True):
            c[int(i)] = c.get(int(i), 0.0) + value
        Q = p.Q.tocoo()
        for k, j, value in zip(Q.row, Q.col, Q.data, strict=True):
            if self.bilinear:
                self.objective_bilinear.append((int(self.x[k]), int(self.y[j]), float(value)))
                continue
            tau = self.product(int(k), "y", int(j))
            _, values = self.expansion[int(k)]
            for t, v in zip(tau, values, strict=False):  # tau is empty for a product fixed 0
                c[int(t)] = c.get(int(t), 0.0) + value * v
        return c, p.leader_const

    def finish(self, sos1=None) -> SingleLevelModel:
        if self.bounds.hpr_empty:
            self.notes.append(HPR_EMPTY)
        c, c0 = self.leader_objective()
        rows = objective = None
        if self.row_bilinear:
            rows = tuple(np.array(t) for t in zip(*self.row_bilinear, strict=True))
        if self.objective_bilinear:
            objective = tuple(np.array(t) for t in zip(*self.objective_bilinear, strict=True))
        return self.asm.finish(self.p.name, self.method, self.p.leader_sense, c, c0,
                               sos1 or [], self.x, self.y, self.d, self.dual_scale,
                               self.notes, rows, objective)


def _require_discrete(problem: BilevelProblem, method: str, leaders, why: str) -> None:
    continuous = [problem.leader_names[k] for k in sorted(leaders)
                  if problem.leader_kind[k] == CONTINUOUS]
    if continuous:
        raise ReformulationNotApplicable(
            f"{method} needs a grid (or integer domain) for leader variable(s) "
            f"{', '.join(continuous)}: {why}. There is no exact linear form of a product "
            "with a continuous leader variable; state a grid, or use an exact alternative: "
            f"{STRONG_DUALITY_BILINEAR} (the products as bilinear terms, on a global solver "
            "such as SCIP), kkt_sos1 / kkt_bigm, or the oracle (enumeration: complementarity "
            "branch-and-bound)")


def _product_leaders(problem: BilevelProblem) -> dict[str, np.ndarray]:
    return problem.leaders_in_products()


# --------------------------------------------------------------------------- methods


def strong_duality(problem: BilevelProblem, options: BoundOptions | None = None,
                   bilinear: bool = False) -> SingleLevelModel:
    """Primal rows + dual feasibility + strong duality (eqs. 18, 43-44), eq. 42 products; or,
    with ``bilinear``, the products as bilinear terms (exact for continuous leaders; for a
    global MINLP solver), each variable in them bounded where a bound is proven."""
    options = options or BoundOptions()
    used = _product_leaders(problem)
    leaders = set(map(int, used["C"])) | set(map(int, used["B"])) | set(map(int, used["Q"]))
    method = STRONG_DUALITY_BILINEAR if bilinear else STRONG_DUALITY
    if not bilinear:
        _require_discrete(problem, STRONG_DUALITY, leaders, "it multiplies follower variables "
                          "or duals in the strong-duality equation or the leader objective")
    b = _Builder(problem, options, method, set() if bilinear else leaders)
    b.bilinear = bilinear
    b.add_duals()
    b.primal_rows()
    b.dual_feasibility()
    st, p = b.st, problem
    # per component c: sign*c0.y + sum sign*C_jk x_k y_j - beta0.d - sum B_ik x_k d_i = 0
    y_part, dual_part = follower_components(st, p.n_y)
    coef: dict[int, dict[int, float]] = {}
    quad: dict[int, list[tuple[int, int, float]]] = {}
    if bilinear:
        _bound_product_factors(b, used)

    def add(part: int, var: int, value: float) -> None:
        row = coef.setdefault(int(part), {})
        row[int(var)] = row.get(int(var), 0.0) + value

    for j, (i, value) in enumerate(zip(b.y, st.cost0, strict=True)):
        add(y_part[j], i, value)
    for k, (i, value) in enumerate(zip(b.d, st.beta0, strict=True)):
        if not b.dual_empty[k]:
            add(dual_part[k], i, -value)
    C = st.cost_x.tocoo()  # sign * C, n_y x n_x
    for j, k, value in zip(C.row, C.col, C.data, strict=True):
        if bilinear:
            quad.setdefault(int(y_part[j]), []).append((int(b.x[k]), int(b.y[j]), value))
            continue
        _, values = b.expansion[int(k)]
        for t, v in zip(b.product(int(k), "y", int(j)), values, strict=False):
            add(y_part[j], t, value * v)
    Bx = p.B.tocoo()  # rows of the stacked system that depend on x are the follower rows
    for i, k, value in zip(Bx.row, Bx.col, Bx.data, strict=True):
        if b.dual_empty[i]:
            continue  # that dual is fixed at 0
        if bilinear:
            quad.setdefault(int(dual_part[i]), []).append(
                (int(b.x[k]), int(b.d[i]), -value * b.dual_scale[i]))
            continue
        _, values = b.expansion[int(k)]
        for t, v in zip(b.product(int(k), "dual", int(i)), values, strict=False):
            add(dual_part[i], t, -value * v)
    parts = sorted(set(coef) | set(quad))
    for part in parts:
        cols = np.array(sorted(coef.get(part, {})), np.int64)
        row = np.array([[coef[part][c] for c in cols]]).reshape(1, len(cols))
        terms = quad.get(part, [])
        # the row balances two objective values (e.g. Delta t x price x energy ~ 1e5): divided
        # by its largest coefficient it is the same equation, better conditioned for MILP
        # presolve (scipy 1.17's HiGHS presolve returned a suboptimal "optimal" on the
        # unscaled row)
        scale = max(np.abs(row).max(initial=0.0), max((abs(t[2]) for t in terms), default=0.0),
                    1e-12)
        row /= scale
        name = "strong_duality" if len(parts) == 1 else f"strong_duality[part {part}]"
        (r,) = b.asm.add_rows("strong_duality", [(row, cols)], 0.0, 0.0, [name])
        b.row_bilinear += [(int(r), i, j, value / scale) for i, j, value in terms]
    b.notes.append("strong duality: primal rows, dual feasibility and sign*c(x).y = "
                   "beta(x).d; leader x follower products " + (
                       "as bilinear terms (a global MINLP solver's spatial branch-and-bound)"
                       if bilinear else "by the eq. 42 binary expansion"))
    if len(parts) > 1:
        b.notes.append(f"the follower separates into {len(parts)} independent LPs: strong "
                       "duality is stated once per part (their duality gaps are each >= 0, "
                       "so the sum is 0 exactly when every one is; tighter LP relaxation)")
    return b.finish()


def _bound_product_factors(b: _Builder, used: dict[str, np.ndarray]) -> None:
    """Bound the follower variables and duals that enter a bilinear term (a spatial
    branch-and-bound converges only on bounded factors): by their proven bounds, else by the
    stated or heuristic value, which goes into the big-M table like any unproven bound (the
    kit doubles a heuristic one while it is active; the oracle certifies the answer)."""
    p, st = b.p, b.st
    C, B, Q = st.cost_x.tocoo(), p.B.tocoo(), p.Q.tocoo()
    factors = [(int(b.y[j]), b.bounds.follower_bound(int(j)),
                f"follower variable {p.follower_names[j]}")
               for j in sorted(set(C.row.tolist()) | set(Q.col.tolist()))]
    factors += [(int(b.d[i]), b.bounds.dual_range(int(i)), st.dual_name(int(i)))
                for i in sorted(set(B.row.tolist())) if not b.dual_empty[i]]
    for var, proven, label in factors:
        bound = b.bounds.need_finite(proven, label, lower=True, upper=True)
        _tighten(b, var, bound.lower, bound.upper)
        if not bound.valid:
            for side, limit in ((1, bound.upper), (-1, bound.lower)):
                b.asm.add_big_m(f"{'upper' if side > 0 else 'lower'} bound of {label} in a "
                                "bilinear term", "product bound", limit, side,
                                (np.array([var]), np.array([1.0])), 0.0, bound)


def _tighten(b: _Builder, var: int, lower: float, upper: float) -> None:
    offset = 0
    for lows, ups in zip(b.asm.lower, b.asm.upper, strict=True):
        if var < offset + len(lows):
            t = var - offset
            lows[t], ups[t] = max(lows[t], lower), min(ups[t], upper)
            return
        offset += len(lows)


def _pairs(b: _Builder):
    """Slack of each complementarity pair as (cols, coefs, const): slack = coef.v + const."""
    st = b.st
    for k in st.pairs:
        if b.dual_empty[k]:
            continue  # its dual is fixed at 0: complementarity holds trivially
        sign = 1.0 if st.kind[k] == 1 else -1.0
        row_y = st.A[k].tocoo()
        row_x = st.beta_x[k].tocoo()
        cols = np.concatenate([b.y[row_y.col], b.x[row_x.col]])
        coefs = np.concatenate([sign * row_y.data, -sign * row_x.data])
        yield int(k), sign, cols, coefs, -sign * st.beta0[k]


def _kkt_start(problem: BilevelProblem, options: BoundOptions, method: str,
               nonnegative_duals: bool = False) -> _Builder:
    """What both KKT forms share: discrete product leaders, the duals, the primal rows."""
    q_leaders = set(map(int, _product_leaders(problem)["Q"]))
    _require_discrete(problem, method, q_leaders,
                      "it multiplies follower variables in the leader objective")
    b = _Builder(problem, options, method, q_leaders)
    b.add_duals(nonnegative=nonnegative_duals)
    b.primal_rows()
    return b


def kkt_bigm(problem: BilevelProblem, options: BoundOptions | None = None) -> SingleLevelModel:
    """Primal + dual feasibility + complementarity with one binary and two big-Ms per pair."""
    options = options or BoundOptions()
    b = _kkt_start(problem, options, KKT_BIGM)
    b.dual_feasibility()
    st = b.st
    pairs = list(_pairs(b))
    u = b.asm.add_vars("u", [f"u[{st.names[k]}]" for k, *_ in pairs], 0.0, 1.0, BIN)
    stated_mode = options.big_m_mode == "stated"
    for (k, sign, cols, coefs, const), uk in zip(pairs, u, strict=True):
        label = st.names[k]
        if stated_mode:
            primal = Bound(0.0, b.bounds.stated(f"slack of {label}"), STATED, False)
            dual = Bound(-primal.upper, primal.upper, STATED, False)
        else:
            primal = b.bounds.need_finite(b.bounds.slack_upper(k), f"slack of {label}",
                                          lower=False, upper=True)
            dual = b.bounds.need_finite(b.bounds.dual_range(k), st.dual_name(k),
                                        lower=sign < 0, upper=sign > 0)
        m_primal = primal.upper
        m_dual = dual.upper if sign > 0 else -dual.lower
        # slack <= Mp * u
        b.asm.add_rows("complementarity", [(coefs.reshape(1, -1), cols),
                                           (np.array([[-m_primal]]), np.array([uk]))],
                       -np.inf, -const, [f"cmp_primal[{label}]"])
        # |dual| = sign * dual <= Md * (1 - u)
        b.asm.add_rows("complementarity", [(np.array([[sign]]), b.d[[k]]),
                                           (np.array([[m_dual]]), np.array([uk]))],
                       -np.inf, m_dual, [f"cmp_dual[{label}]"])
        b.asm.add_big_m(f"M_primal[{label}] (slack)", "primal slack", m_primal, 1,
                        (cols, coefs), const, primal)
        b.asm.add_big_m(f"M_dual[{label}]", "dual", m_dual, 1,
                        (b.d[[k]], np.array([sign])), 0.0, dual)
    b.notes.append(f"KKT with big-Ms: {len(pairs)} complementarity pairs, one binary each; "
                   f"big-M mode {options.big_m_mode}")
    return b.finish()


def kkt_sos1(problem: BilevelProblem, options: BoundOptions | None = None) -> SingleLevelModel:
    """Primal + dual feasibility + complementarity as SOS1 sets {slack_k, dual_k}."""
    options = options or BoundOptions()
    b = _kkt_start(problem, options, KKT_SOS1, nonnegative_duals=True)
    b.dual_feasibility()
    st = b.st
    pairs = list(_pairs(b))
    s = b.asm.add_vars("slack", [f"slack[{st.names[k]}]" for k, *_ in pairs], 0.0, np.inf,
                       CONT)
    sos1 = []
    for (k, _sign, cols, coefs, const), sk in zip(pairs, s, strict=True):
        # slack_k - (coefs.v + const) = 0
        b.asm.add_rows("slack_definition", [(np.array([[1.0]]), np.array([sk])),
                                            (-coefs.reshape(1, -1), cols)],
                       const, const, [f"slack_def[{st.names[k]}]"])
        sos1.append((np.array([sk, b.d[k]]), np.array([1.0, 2.0])))
    b.notes.append(f"KKT with SOS1: {len(pairs)} sets {{slack, dual}}; no big-M")
    return b.finish(sos1)


def reformulate(problem: BilevelProblem, method: str, options: BoundOptions | None = None
                ) -> SingleLevelModel:
    builders = {STRONG_DUALITY: strong_duality, KKT_BIGM: kkt_bigm, KKT_SOS1: kkt_sos1,
                STRONG_DUALITY_BILINEAR: lambda p, o: strong_duality(p, o, bilinear=True)}
    if method not in builders:
        raise BilevelError(f"unknown reformulation {method!r} (known: {', '.join(METHODS)})")
    return builders[method](problem, options)
