"""Chapter 6's hand-written dual (thesis_dual_pq.py) against the engine's automatic dual
(bench/bilevel/dual.py), row by row: agreement of the two MILPs on the optimum could hide
compensating errors, a row-by-row comparison cannot.

Nothing is matched by position or by typed numbers. The hand-written model carries its own
primal rows (82a)-(82p), (79a)-(79l) next to the duals, so:

1. columns: every hand primal variable gets a distinct value and the model's own ``extract``
   writes them into the engine's follower vector (hand variable -> engine column);
2. dual variables: each hand dual variable is the dual of one primal row (the thesis's
   definitions, ``DUAL_OF``); that row's coefficients, carried to engine columns, are matched
   to the one stacked engine entry (row or finite bound) with the same support, proportional
   coefficients and a compatible sense. The ratio ``s`` (hand row = s x engine row) is the
   factor: the engine's dual is ``d = s y``; the sign it implies for ``y`` is checked against
   the hand variable's domain (84o)-(84s);
3. dual rows (84a)-(84n): the hand row of primal column v against the engine's row
   ``A[:, v]' d = cost_v(x)`` with ``d = s y``: coefficients on every dual, the price-free
   right-hand side and the coefficient of every binary price x_jq (``cost_x`` x C_q);
4. dual objective (83): each hand dual's coefficient against ``s x (beta0 + beta_x x)`` of
   its engine entry, at the grid's first price for every DG.

Engine entries without a hand-written dual are listed, not counted as disagreements (the
engine states 0 <= P^gd <= P-bar as bounds too, a tightening the polygon implies; data.py).

Chapter 4 (thesis_dual.py) is not compared: its hand model keeps V^sqr, dV^sqr and I^sqr as
columns with rows (29a,b), (33a) that the engine substitutes out, so rows do not correspond
one to one (a comparison needs the elimination, not this matching)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from bench.api import StackedFollower, stack_follower
from gridbench_dg_contract_pricing.data import DGContractData, network_of, problem_from_data

# hand primal column -> its name in the thesis
PRIMAL_FAMILY = {"Pse": "P^se", "Qse": "Q^se", "Pgd": "P^gd", "Qgd": "Q^gd", "Vsqr": "V^sqr",
                 "Isqr": "I^sqr", "P": "P_ij", "Q": "Q_ij", "DP": "dP_y", "DQ": "dQ_y",
                 "Pp": "P+", "Pm": "P-", "Qp": "Q+", "Qm": "Q-"}
# dual row (84x) -> the primal column it is the dual row of (same index)
DUAL_ROW_OF = {"d84a": "Pse", "d84b": "Pgd", "d84c": "Qse", "d84d": "Qgd", "d84e": "Vsqr",
               "d84f": "Isqr", "d84g": "P", "d84h": "Q", "d84i": "DP", "d84j": "DQ",
               "d84k": "Pp", "d84l": "Pm", "d84m": "Qp", "d84n": "Qm"}
# dual variable -> the primal row it is the dual of (same index), as the thesis defines them
DUAL_OF = {"pi": "c82a", "lam": "c82b", "alpha": "c82c", "phi": "c82d", "phi_bar": "c82e",
           "phi_und": "c82f", "w_bar": "c82g", "w_und": "c82h", "beta_bar": "c82i",
           "beta_und": "c82j", "delta_bar": "c82k", "delta_und": "c82l", "nu_bar": "c82m",
           "nu_und": "c82n", "kappa_bar": "c82o", "kappa_und": "c82p", "eps": "c79a",
           "sigma": "c79b", "eta": "c79c", "theta": "c79d", "tau_bar": "c79e",
           "tau_und": "c79f", "mu_bar": "c79g", "mu_und": "c79h", "gamma_bar": "c79i",
           "gamma_und": "c79j", "iota_bar": "c79k", "iota_und": "c79l"}
# the MILP's other rows: price expansion (87)-(89), strong duality (91), strengthening
MILP_ROWS = {"price_lo", "price_hi", "price_rest_lo", "price_rest_hi", "one_price",
             "strong_duality", "price_sum"}

RTOL = 1e-9


@dataclass(frozen=True)
class DualComparison:
    """One compared family: ``kind`` is "dual row" (84x, per primal column family),
    "objective" (the (83) terms of one dual family), "dual variable" (the primal row a dual
    belongs to matched to an engine entry, with the factor s), "engine only" (engine
    entries without a hand-written dual) or "unclassified" (a hand row no table covers)."""

    kind: str
    label: str  # as printed: "84a", "83: nu_und", "82n", ...
    family: str  # primal column family (dual rows) or dual family and its primal row
    compared: int
    disagreeing: int
    max_abs_diff: float = 0.0
    engine_only: int = 0  # engine entries in these rows with no hand-written dual
    factor: str = ""  # s of "dual variable" records (engine dual = s x hand dual)
    example: str = ""

    @property
    def agrees(self) -> bool:
        return self.disagreeing == 0


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= RTOL * max(1.0, abs(a), abs(b))


def _key(v) -> tuple[str, object]:
    return v.parent_component().name, v.index()


def _linear(expr) -> tuple[dict[tuple[str, object], float], float]:
    repn = generate_standard_repn(expr, compute_values=True)
    if not repn.is_linear():
        raise ValueError(f"not linear: {expr}")
    terms: dict[tuple[str, object], float] = defaultdict(float)
    for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True):
        terms[_key(v)] += float(c)
    return dict(terms), float(repn.constant)


def _entry_family(name: str) -> str:
    return re.sub(r"\[[^\]]*\]$", "", name)


def _columns(built, model) -> dict[tuple[str, object], int]:
    """Hand primal variable -> engine column, through the model's own ``extract``."""
    tags: dict[int, tuple[str, object]] = {}
    for name in PRIMAL_FAMILY:
        for idx, v in getattr(model, name).items():
            tags[len(tags) + 1] = (name, idx)
            v.set_value(float(len(tags)), skip_validation=True)
    y = built.extract().values["y"]
    for name in PRIMAL_FAMILY:
        for v in getattr(model, name).values():
            v.set_value(None)
    if np.isnan(y).any() or sorted(y.astype(int)) != sorted(tags):
        raise ValueError("the hand model's primal columns are not the engine's one to one")
    return {tags[int(value)]: col for col, value in enumerate(y)}


def _match_duals(model, st: StackedFollower, cols) -> tuple[
        dict[tuple[str, object], tuple[int, float]], list[DualComparison]]:
    """Each hand dual variable -> (engine entry, factor s), from its primal row."""
    A = st.A.tocsr()
    by_support: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for k in range(A.shape[0]):
        by_support[tuple(sorted(A.indices[A.indptr[k]:A.indptr[k + 1]]))].append(k)
    mapping: dict[tuple[str, object], tuple[int, float]] = {}
    records = []
    for dual, row in DUAL_OF.items():
        con, var = getattr(model, row), getattr(model, dual)
        bad, example, factors = 0, "", set()
        for idx in con:
            terms, _ = _linear(con[idx].body)
            a_h = {cols[key]: c for key, c in terms.items() if c != 0.0}
            sense = 0 if con[idx].equality else (-1 if con[idx].has_ub() else 1)
            found = None
            for k in by_support.get(tuple(sorted(a_h)), []):
                a_e = dict(zip(A.indices[A.indptr[k]:A.indptr[k + 1]],
                               A.data[A.indptr[k]:A.indptr[k + 1]], strict=True))
                c0 = next(iter(a_h))
                s = a_h[c0] / a_e[c0]
                if not all(_close(a_h[c], s * a_e[c]) for c in a_h):
                    continue
                if st.kind[k] != sense * np.sign(s):  # '<=' and s > 0 -> '<=' (kind -1)
                    continue
                found = (k, s)
                break
            vlb, vub = var[idx].lb, var[idx].ub
            if found is not None:
                k, s = found
                # engine d = s y: d <= 0 (kind -1) or >= 0 (kind +1), free (kind 0)
                want = {0: (None, None), -1: (None, 0.0) if s > 0 else (0.0, None),
                        1: (0.0, None) if s > 0 else (None, 0.0)}[int(st.kind[k])]
                if (vlb, vub) != want:
                    found = None
                    example = example or (f"{dual}[{idx}] has bounds ({vlb}, {vub}), the "
                                          f"engine's {st.names[k]} implies {want}")
            if found is None:
                bad += 1
                example = example or f"{row}[{idx}]: no engine entry matches"
                continue
            mapping[(dual, idx)] = found
            factors.add(round(found[1], 12))
        records.append(DualComparison(
            "dual variable", row[1:], f"{dual} ({row[1:]})", len(con), bad,
            factor=", ".join(f"{f:g}" for f in sorted(factors)), example=example))
    return mapping, records


def _dual_rows(model, st: StackedFollower, cols, mapping, grid: np.ndarray
               ) -> list[DualComparison]:
    """(84a)-(84n) against the engine's ``A' d = cost(x)`` with ``d = s y``."""
    A = st.A.tocsc()
    inverse = {k: (key, s) for key, (k, s) in mapping.items()}
    C = {q: float(c) for q, c in enumerate(grid)}
    cost_x = st.cost_x.toarray()
    records = []
    for name, var_name in DUAL_ROW_OF.items():
        con = getattr(model, name)
        bad, engine_only, worst, example = 0, 0, 0.0, ""
        for idx in con:
            j = cols[(var_name, idx)]
            terms, const = _linear(con[idx].body)
            rhs0 = float(con[idx].upper) - const
            expected: dict[tuple[str, object], float] = defaultdict(float)
            missing = []
            for k, a in zip(A.indices[A.indptr[j]:A.indptr[j + 1]],
                            A.data[A.indptr[j]:A.indptr[j + 1]], strict=True):
                if k in inverse:
                    key, s = inverse[k]
                    expected[key] += a * s
                else:
                    missing.append(st.names[k])
            engine_only += len(missing)
            diffs = []
            for key in set(expected) | {k for k in terms if k[0] != "x"}:
                got, want = terms.get(key, 0.0), expected.get(key, 0.0)
                diffs.append((abs(got - want), not _close(got, want),
                              f"coefficient of {key[0]}[{key[1]}]: {got:g} vs engine {want:g}"))
            # right-hand side: the price-free part and the coefficient of every x_jq
            diffs.append((abs(rhs0 - st.cost0[j]), not _close(rhs0, st.cost0[j]),
                          f"price-free rhs {rhs0:g} vs engine {st.cost0[j]:g}"))
            for jj in range(cost_x.shape[1]):
                for q, cq in C.items():
                    got, want = -terms.get(("x", (jj, q)), 0.0), cost_x[j, jj] * cq
                    diffs.append((abs(got - want), not _close(got, want),
                                  f"rhs coefficient of x[{jj},{q}]: {got:g} vs engine {want:g}"))
            worst = max([worst] + [d for d, _, _ in diffs])
            wrong = [text for _, off, text in diffs if off]
            if wrong:
                bad += 1
                example = example or f"{name}[{idx}]: {wrong[0]}"
            if missing and not example:
                example = f"{name}[{idx}]: engine-only {', '.join(missing)}"
        records.append(DualComparison("dual row", name[1:], PRIMAL_FAMILY[var_name],
                                      len(con), bad, worst, engine_only, example=example))
    return records


def _objective(model, st: StackedFollower, mapping, x0: np.ndarray) -> list[DualComparison]:
    """(83) term by term: each dual's coefficient against s x rhs(x0) of its entry."""
    coef: dict[tuple[str, object], float] = defaultdict(float)
    constant = 0.0
    for con in model.strong_duality.values():
        _primal, dual_side = con.expr.args  # primal cost (linearised) == dual objective (83)
        terms, const = _linear(dual_side)
        constant += const
        for key, c in terms.items():
            coef[key] += c
    rhs = st.rhs(x0)
    records = []
    for dual, row in DUAL_OF.items():
        var = getattr(model, dual)
        bad, worst, example = 0, 0.0, ""
        for idx in var:
            got = coef.get((dual, idx), 0.0)
            if (dual, idx) not in mapping:
                bad += 1
                example = example or f"{dual}[{idx}]: no engine entry"
                continue
            k, s = mapping[(dual, idx)]
            want = s * rhs[k] + 0.0
            worst = max(worst, abs(got - want))
            if not _close(got, want):
                bad += 1
                example = example or (f"{dual}[{idx}]: {got:g} vs engine {want:g} "
                                      f"({st.names[k]}, s={s:g})")
        records.append(DualComparison("objective", f"83: {dual}", f"{dual} ({row[1:]})",
                                      len(var), bad, worst, example=example))
    strays = sorted({key[0] for key in coef if key[0] not in DUAL_OF})
    if strays or constant != 0.0:
        records.append(DualComparison("objective", "83: other", "non-dual terms", 1, 1,
                                      abs(constant), example=f"terms in {strays}, "
                                      f"constant {constant:g}"))
    unmapped = sorted(set(range(st.n_duals)) - {k for k, _ in mapping.values()})
    groups: dict[str, list[int]] = defaultdict(list)
    for k in unmapped:
        groups[_entry_family(st.names[k])].append(k)
    for family, ks in groups.items():
        values = sorted({float(rhs[k]) for k in ks})
        records.append(DualComparison(
            "engine only", "-", family, len(ks), 0, engine_only=len(ks),
            example=f"no hand-written dual; rhs values {values[:4]}"))
    return records


def _unclassified(model) -> list[DualComparison]:
    known = set(DUAL_OF.values()) | set(DUAL_ROW_OF) | MILP_ROWS
    extra = [c.name for c in model.component_objects(pyo.Constraint, active=True)
             if c.name not in known]
    return [DualComparison("unclassified", "-", ", ".join(extra), len(extra), len(extra),
                           example="hand rows no table covers")] if extra else []


def compare_pq_dual(data: DGContractData, printed: frozenset[str] = frozenset()
                    ) -> list[DualComparison]:
    """Chapter 6's hand-written dual (84a)-(84n), (83) against the engine's automatic dual of
    ``problem_from_data(data)``; ``printed`` as in build_thesis_dual_pq."""
    from gridbench_dg_contract_pricing.thesis_dual_pq import build_thesis_dual_pq

    problem = problem_from_data(data)
    st = stack_follower(problem)
    built = build_thesis_dual_pq(data, problem, True, printed)
    model = built.native
    cols = _columns(built, model)
    mapping, dual_vars = _match_duals(model, st, cols)
    grid = network_of(data).grid
    rows = _dual_rows(model, st, cols, mapping, grid)
    objective = _objective(model, st, mapping, np.full(problem.n_x, grid[0]))
    return rows + objective + dual_vars + _unclassified(model)


def hand_row_counts(model) -> dict[str, int]:
    """How many indexed rows each hand-written dual row family (84x) has: what a complete
    comparison must cover."""
    return {c.name: len(c) for c in model.component_objects(pyo.Constraint)
            if c.name.startswith("d84")}


def format_table(records: list[DualComparison], disagreeing_only: bool = False) -> str:
    """A markdown table of the records (``disagreeing_only``: those that disagree or have
    engine-only entries, what differs between readings)."""
    lines = ["| kind | label | family | compared | disagreeing | max abs diff | engine only "
             "| factor | example |", "|" + "---|" * 9]
    for r in records:
        if disagreeing_only and r.agrees and not r.engine_only:
            continue
        lines.append(f"| {r.kind} | {r.label} | {r.family} | {r.compared} | {r.disagreeing} "
                      f"| {r.max_abs_diff:.3g} | {r.engine_only} | {r.factor} "
                      f"| {r.example.replace('|', '/')} |")
    return "\n".join(lines)
