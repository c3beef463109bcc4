"""What chapter 4's and chapter 6's hand-written MILPs share (thesis_dual.py,
thesis_dual_pq.py): the binary price expansion (42)/(87)-(89), strong duality per block or
as printed (44)/(91), the leader's objective (43)/(90), and reading a solution back in the
engine's variable order. Each chapter's primal and dual rows stay in its own module, symbol
for symbol with the thesis."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import astuple, dataclass

import numpy as np
import pyomo.environ as pyo

from bench.api import BuiltModel, Solution


@dataclass(frozen=True)
class Symbols:
    """The case data as the thesis's symbols, by index (what both chapters' rows read)."""

    C: dict[int, float]  # the price grid C_q
    dt: dict[int, float]  # xi_e Delta_t (chapter 4: Delta_t)
    rho_price: dict[int, float]  # wholesale price per block
    R: dict[int, float]
    frm: dict[int, int]  # line ij: i
    to: dict[int, int]  # line ij: j
    out_lines: dict[int, list[int]]  # lines ij leaving bus i
    in_lines: dict[int, list[int]]  # lines ki entering bus i
    dg_at: dict[int, list[int]]  # DGs at bus i
    k: int  # the substation bus
    Pd: dict[tuple[int, int], float]  # active load (bus, block)
    Pgd_max: dict[int, float]
    c: dict[tuple[int, int], float]  # DG production cost (DG, block)

    def __iter__(self):
        return iter(astuple(self))


def symbols(net, data) -> Symbols:
    T, N, L, J = range(net.n_block), range(net.n_bus), range(net.n_line), range(net.n_dg)
    frm = {ij: int(net.frm[ij]) for ij in L}
    to = {ij: int(net.to[ij]) for ij in L}
    return Symbols(
        C={q: float(v) for q, v in enumerate(net.grid)},
        dt={t: float(net.weight[t]) for t in T},
        rho_price={t: float(net.rho[t]) for t in T},
        R={ij: float(net.r[ij]) for ij in L}, frm=frm, to=to,
        out_lines={i: [ij for ij in L if frm[ij] == i] for i in N},
        in_lines={i: [ij for ij in L if to[ij] == i] for i in N},
        dg_at={i: [j for j in J if int(net.dg_bus[j]) == i] for i in N},
        k=net.sub, Pd={(i, t): float(net.load[t, i]) for i in N for t in T},
        Pgd_max={j: float(data.dg_capacity_mw[j]) for j in J},
        c={(j, t): float(net.cost[j, t]) for j in J for t in T})


def price_of(m: pyo.ConcreteModel, C: Mapping[int, float], j: int):
    """Cp_j = sum_q C_q x_jq."""
    return pyo.quicksum(C[q] * m.x[j, q] for q in C)


def add_price_variables(m: pyo.ConcreteModel, J, T, C: Mapping[int, float]) -> None:
    """Binary x_jq (one grid price per DG) and CP_jtq (declared before the dual rows that
    use the price; the rows come with :func:`add_price_expansion`)."""
    m.x = pyo.Var(J, list(C), within=pyo.Binary)
    m.CP = pyo.Var(J, T, list(C), within=pyo.Reals)


def add_price_expansion(m: pyo.ConcreteModel, J, T, C: Mapping[int, float],
                        p_min: Mapping[int, float], p_max: Mapping[int, float]) -> None:
    """CP_jtq = x_jq C_q P^gd_jt by (42a-d)/(87)-(89), P^gd_jt within [p_min, p_max]."""
    Qs = list(C)
    Cmin, Cmax = min(C.values()), max(C.values())
    m.price_lo = pyo.Constraint(J, T, Qs, rule=lambda m, j, t, q:
                                Cmin * p_min[j] * m.x[j, q] <= m.CP[j, t, q])
    m.price_hi = pyo.Constraint(J, T, Qs, rule=lambda m, j, t, q:
                                m.CP[j, t, q] <= Cmax * p_max[j] * m.x[j, q])
    m.price_rest_lo = pyo.Constraint(J, T, Qs, rule=lambda m, j, t, q: Cmin * p_min[j]
                                     * (1 - m.x[j, q]) <= C[q] * m.Pgd[j, t] - m.CP[j, t, q])
    m.price_rest_hi = pyo.Constraint(J, T, Qs, rule=lambda m, j, t, q: C[q] * m.Pgd[j, t]
                                     - m.CP[j, t, q] <= Cmax * p_max[j] * (1 - m.x[j, q]))
    m.one_price = pyo.Constraint(J, rule=lambda m, j: pyo.quicksum(m.x[j, q] for q in Qs) == 1)


def add_strong_duality_and_objective(
        m: pyo.ConcreteModel, J, T, C: Mapping[int, float], dt: Mapping[int, float],
        rho_price: Mapping[int, float], cost: Mapping[tuple[int, int], float],
        dual_objective_block: Callable[[int], object], strengthened: bool) -> None:
    """Strong duality, primal cost (linearised) = dual objective, and the leader's profit.

    ``strengthened`` states it per load block (the lower level separates by block and each
    block's duality gap is >= 0, so the printed sum is 0 exactly when every block's is) and
    adds sum_q CP_jtq / C_q = P_jt (x binary, one price): rows the printed model implies at
    integer points, which cut only fractional ones. Otherwise one row, as printed."""
    Qs = list(C)

    def primal_cost_block(t):
        return dt[t] * rho_price[t] * m.Pse[t] + pyo.quicksum(dt[t] * m.CP[j, t, q]
                                                             for j in J for q in Qs)

    if strengthened:
        m.strong_duality = pyo.Constraint(T, rule=lambda m, t: primal_cost_block(t)
                                          == dual_objective_block(t))
        m.price_sum = pyo.Constraint(J, T, rule=lambda m, j, t: pyo.quicksum(
            m.CP[j, t, q] / C[q] for q in Qs) == m.Pgd[j, t])
    else:
        m.strong_duality = pyo.Constraint(
            expr=pyo.quicksum(primal_cost_block(t) for t in T)
            == pyo.quicksum(dual_objective_block(t) for t in T))
    m.obj = pyo.Objective(expr=pyo.quicksum(dt[t] * m.CP[j, t, q] for j in J for t in T
                                            for q in Qs)
                          - pyo.quicksum(dt[t] * cost[j, t] * m.Pgd[j, t] for j in J for t in T),
                          sense=pyo.maximize)


def values(var, shape: tuple[int, ...], index: Callable[[tuple[int, ...]], object]
           ) -> np.ndarray:
    """A Pyomo variable's values as an array of ``shape`` (NaN where it has none);
    ``index`` maps an array position to the variable's index."""
    out = np.full(shape, np.nan)
    for idx in np.ndindex(*shape):
        value = var[index(idx)].value
        out[idx] = np.nan if value is None else value
    return out


def built_model(m: pyo.ConcreteModel, problem, grid: np.ndarray, C: Mapping[int, float], J,
                blocks: Callable[[], dict[str, np.ndarray]]) -> BuiltModel:
    """The model and its ``extract``: follower blocks written into the engine's vector, the
    prices read from x (snapped to the grid: binaries come back within the solver's
    integrality tolerance), and the model's size."""
    size = {"n_vars": float(m.nvariables()), "n_binaries": float(len(J) * len(C)),
            "n_constraints": float(m.nconstraints())}

    def extract() -> Solution:
        y = np.full(problem.n_y, np.nan)
        for name, block in blocks().items():
            problem.set_block(name, y, block)
        x = np.array([sum(C[q] * (m.x[j, q].value or 0.0) for q in C) for j in J])
        x = np.array([grid[np.argmin(abs(grid - v))] for v in x])
        return Solution({"x": x, "y": y} | {key: np.array(v) for key, v in size.items()},
                        None)

    return BuiltModel(m, extract)
