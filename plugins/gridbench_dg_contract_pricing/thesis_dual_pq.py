"""Chapter 6's single-level MILP (87)-(91) written by hand in Pyomo, symbol for symbol: the
PQ primal rows (82a)-(82q) with (79a)-(79l), the dual rows (84a)-(84s), the dual objective
(83), the binary price expansion (87)-(89) and strong duality (91). Like thesis_dual.py for
chapter 4 it shares nothing with the engine's automatic dual except the case data.

Readings (docs/dg_contract_pricing.md, "Chapter 6"): (82n) and its term in (83) with the
maximum output P-bar (printed with the minimum, which with (82i,j) forces P = Q = 0); (83)'s
Delta^S (tau-bar + mu-underline) read mu-bar, the dual of (79g) whose right-hand side it is;
(83)'s "T-bar^2" read I-bar^2; (79a,c) as P+ - P- - P = 0 (the sign that yields (84g,h,k,l)).
``printed`` keeps printed rows instead of the readings, to show what they do: "82n" (the
minimum output in (82n) and its (83) term), "83mu" (mu-underline in (83)).

Sign conventions as the thesis: duals of "<=" rows are <= 0 (84o)-(84s). STRENGTHENING as in
chapter 4 (variant ``thesis_dual``): (91) per block and sum_q CP_jtq / C_q = P_jt."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from bench.api import BuiltModel
from gridbench_dg_contract_pricing.data import DGContractData, network_of
from gridbench_dg_contract_pricing.thesis_milp import (
    add_price_expansion,
    add_price_variables,
    add_strong_duality_and_objective,
    built_model,
    price_of,
    symbols,
    values,
)


def build_thesis_dual_pq(data: DGContractData, problem, strengthened: bool = True,
                         printed: frozenset[str] = frozenset()) -> BuiltModel:
    net = network_of(data)
    rp = data.reactive_power
    T, N, L, J = range(net.n_block), range(net.n_bus), range(net.n_line), range(net.n_dg)
    Ys = range(1, rp.pwl_blocks + 1)
    # dt is xi_e Delta_t (stages compose)
    C, dt, rho_price, R, frm, to, out_lines, in_lines, dg_at, k, Pd, Pgd_max, c = \
        symbols(net, data)
    X = {ij: float(net.x[ij]) for ij in L}
    Z2 = {ij: float(net.z[ij]) ** 2 for ij in L}
    Qd = {(i, t): float(net.qload[t, i]) for i in N for t in T}
    Vmin2, Vmax2 = data.v_min_kv ** 2, data.v_max_kv ** 2
    Imax2 = data.current_limit_ka ** 2
    Vnom2 = rp.v_nominal_kv ** 2
    dS = rp.v_nominal_kv * data.current_limit_ka / rp.pwl_blocks  # Delta^S
    mS = {y: (2 * y - 1) * dS for y in Ys}
    sin_phi = float(np.sqrt(1 - rp.power_factor ** 2))
    Pcoef = rp.power_factor / sin_phi  # P-bar = P-underline (fp-bar = fp-underline)
    Qcoef = (1 - rp.power_factor) / sin_phi  # Q-bar = Q-underline
    # (82n)'s right-hand side: the maximum output (reading), or the printed minimum
    chord_lower_rhs = {j: (float(data.dg_min_mw[j]) if "82n" in printed else Pgd_max[j])
                       for j in J}
    Pse_max, Pse_min = data.substation_max_mw, 0.0
    Qse_max, Qse_min = rp.substation_q_max_mvar, rp.substation_q_min_mvar

    m = pyo.ConcreteModel("dg_thesis_dual_pq")
    R_, NP = pyo.Reals, pyo.NonPositiveReals
    # ---- primal variables of (81)
    m.Pse = pyo.Var(T, within=R_)
    m.Qse = pyo.Var(T, within=R_)
    m.Pgd = pyo.Var(J, T, within=R_)
    m.Qgd = pyo.Var(J, T, within=R_)
    m.P = pyo.Var(L, T, within=R_)
    m.Q = pyo.Var(L, T, within=R_)
    m.Vsqr = pyo.Var(N, T, within=R_)
    m.Isqr = pyo.Var(L, T, within=R_)
    m.DP = pyo.Var(L, T, Ys, within=R_)
    m.DQ = pyo.Var(L, T, Ys, within=R_)
    m.Pp = pyo.Var(L, T, within=R_)
    m.Pm = pyo.Var(L, T, within=R_)
    m.Qp = pyo.Var(L, T, within=R_)
    m.Qm = pyo.Var(L, T, within=R_)
    # ---- leader: binary expansion (87)
    add_price_variables(m, J, T, C)

    def Cp(j):
        return price_of(m, C, j)

    # ---- primal rows (82a)-(82p)
    m.c82a = pyo.Constraint(N, T, rule=lambda m, i, t: (
        pyo.quicksum(m.P[ki, t] for ki in in_lines[i])
        - pyo.quicksum(m.P[ij, t] + R[ij] * m.Isqr[ij, t] for ij in out_lines[i])
        + (m.Pse[t] if i == k else 0) + pyo.quicksum(m.Pgd[j, t] for j in dg_at[i])
        == Pd[i, t]))
    m.c82b = pyo.Constraint(N, T, rule=lambda m, i, t: (
        pyo.quicksum(m.Q[ki, t] for ki in in_lines[i])
        - pyo.quicksum(m.Q[ij, t] + X[ij] * m.Isqr[ij, t] for ij in out_lines[i])
        + (m.Qse[t] if i == k else 0) + pyo.quicksum(m.Qgd[j, t] for j in dg_at[i])
        == Qd[i, t]))
    m.c82c = pyo.Constraint(L, T, rule=lambda m, ij, t: (
        m.Vsqr[frm[ij], t] - 2 * (R[ij] * m.P[ij, t] + X[ij] * m.Q[ij, t])
        - Z2[ij] * m.Isqr[ij, t] - m.Vsqr[to[ij], t] == 0))
    m.c82d = pyo.Constraint(L, T, rule=lambda m, ij, t: (
        Vnom2 * m.Isqr[ij, t] - pyo.quicksum(mS[y] * m.DP[ij, t, y] for y in Ys)
        - pyo.quicksum(mS[y] * m.DQ[ij, t, y] for y in Ys) == 0))
    m.c82e = pyo.Constraint(L, T, rule=lambda m, ij, t: m.Isqr[ij, t] - Imax2 <= 0)
    m.c82f = pyo.Constraint(L, T, rule=lambda m, ij, t: -m.Isqr[ij, t] <= 0)
    m.c82g = pyo.Constraint(N, T, rule=lambda m, i, t: m.Vsqr[i, t] - Vmax2 <= 0)
    m.c82h = pyo.Constraint(N, T, rule=lambda m, i, t: -m.Vsqr[i, t] + Vmin2 <= 0)
    m.c82i = pyo.Constraint(J, T, rule=lambda m, j, t: -m.Pgd[j, t] + Pcoef * m.Qgd[j, t] <= 0)
    m.c82j = pyo.Constraint(J, T, rule=lambda m, j, t: -m.Pgd[j, t] - Pcoef * m.Qgd[j, t] <= 0)
    m.c82k = pyo.Constraint(T, rule=lambda m, t: m.Pse[t] - Pse_max <= 0)
    m.c82l = pyo.Constraint(T, rule=lambda m, t: -m.Pse[t] + Pse_min <= 0)
    m.c82m = pyo.Constraint(J, T, rule=lambda m, j, t:
                            m.Pgd[j, t] + Qcoef * m.Qgd[j, t] - Pgd_max[j] <= 0)
    m.c82n = pyo.Constraint(J, T, rule=lambda m, j, t:
                            m.Pgd[j, t] - Qcoef * m.Qgd[j, t] - chord_lower_rhs[j] <= 0)
    m.c82o = pyo.Constraint(T, rule=lambda m, t: m.Qse[t] - Qse_max <= 0)
    m.c82p = pyo.Constraint(T, rule=lambda m, t: -m.Qse[t] + Qse_min <= 0)
    # ---- (79a)-(79l)
    m.c79a = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            m.Pp[ij, t] - m.Pm[ij, t] - m.P[ij, t] == 0)
    m.c79b = pyo.Constraint(L, T, rule=lambda m, ij, t: m.Pp[ij, t] + m.Pm[ij, t]
                            - pyo.quicksum(m.DP[ij, t, y] for y in Ys) == 0)
    m.c79c = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            m.Qp[ij, t] - m.Qm[ij, t] - m.Q[ij, t] == 0)
    m.c79d = pyo.Constraint(L, T, rule=lambda m, ij, t: m.Qp[ij, t] + m.Qm[ij, t]
                            - pyo.quicksum(m.DQ[ij, t, y] for y in Ys) == 0)
    m.c79e = pyo.Constraint(L, T, Ys, rule=lambda m, ij, t, y: m.DP[ij, t, y] - dS <= 0)
    m.c79f = pyo.Constraint(L, T, Ys, rule=lambda m, ij, t, y: -m.DP[ij, t, y] <= 0)
    m.c79g = pyo.Constraint(L, T, Ys, rule=lambda m, ij, t, y: m.DQ[ij, t, y] - dS <= 0)
    m.c79h = pyo.Constraint(L, T, Ys, rule=lambda m, ij, t, y: -m.DQ[ij, t, y] <= 0)
    m.c79i = pyo.Constraint(L, T, rule=lambda m, ij, t: -m.Pp[ij, t] <= 0)
    m.c79j = pyo.Constraint(L, T, rule=lambda m, ij, t: -m.Pm[ij, t] <= 0)
    m.c79k = pyo.Constraint(L, T, rule=lambda m, ij, t: -m.Qp[ij, t] <= 0)
    m.c79l = pyo.Constraint(L, T, rule=lambda m, ij, t: -m.Qm[ij, t] <= 0)

    # ---- dual variables (82)-(84), signs (84o)-(84s)
    m.pi = pyo.Var(N, T, within=R_)  # (82a)
    m.lam = pyo.Var(N, T, within=R_)  # (82b)
    m.alpha = pyo.Var(L, T, within=R_)  # (82c)
    m.phi = pyo.Var(L, T, within=R_)  # (82d)
    m.phi_bar = pyo.Var(L, T, within=NP)
    m.phi_und = pyo.Var(L, T, within=NP)
    m.w_bar = pyo.Var(N, T, within=NP)
    m.w_und = pyo.Var(N, T, within=NP)
    m.beta_bar = pyo.Var(J, T, within=NP)  # (82i)
    m.beta_und = pyo.Var(J, T, within=NP)  # (82j)
    m.delta_bar = pyo.Var(T, within=NP)
    m.delta_und = pyo.Var(T, within=NP)
    m.nu_bar = pyo.Var(J, T, within=NP)  # (82m)
    m.nu_und = pyo.Var(J, T, within=NP)  # (82n)
    m.kappa_bar = pyo.Var(T, within=NP)  # (82o)
    m.kappa_und = pyo.Var(T, within=NP)  # (82p)
    m.eps = pyo.Var(L, T, within=R_)  # (79a)
    m.sigma = pyo.Var(L, T, within=R_)  # (79b)
    m.eta = pyo.Var(L, T, within=R_)  # (79c)
    m.theta = pyo.Var(L, T, within=R_)  # (79d)
    m.tau_bar = pyo.Var(L, T, Ys, within=NP)  # (79e)
    m.tau_und = pyo.Var(L, T, Ys, within=NP)  # (79f)
    m.mu_bar = pyo.Var(L, T, Ys, within=NP)  # (79g)
    m.mu_und = pyo.Var(L, T, Ys, within=NP)  # (79h)
    m.gamma_bar = pyo.Var(L, T, within=NP)  # (79i)
    m.gamma_und = pyo.Var(L, T, within=NP)  # (79j)
    m.iota_bar = pyo.Var(L, T, within=NP)  # (79k)
    m.iota_und = pyo.Var(L, T, within=NP)  # (79l)

    m.d84a = pyo.Constraint(T, rule=lambda m, t: m.pi[k, t] + m.delta_bar[t] - m.delta_und[t]
                            == dt[t] * rho_price[t])
    m.d84b = pyo.Constraint(J, T, rule=lambda m, j, t: (
        m.pi[int(net.dg_bus[j]), t] - m.beta_bar[j, t] - m.beta_und[j, t] + m.nu_bar[j, t]
        + m.nu_und[j, t] == dt[t] * Cp(j)))
    m.d84c = pyo.Constraint(T, rule=lambda m, t:
                            m.lam[k, t] + m.kappa_bar[t] - m.kappa_und[t] == 0)
    m.d84d = pyo.Constraint(J, T, rule=lambda m, j, t: (
        m.lam[int(net.dg_bus[j]), t] + Pcoef * m.beta_bar[j, t] - Pcoef * m.beta_und[j, t]
        + Qcoef * m.nu_bar[j, t] - Qcoef * m.nu_und[j, t] == 0))
    m.d84e = pyo.Constraint(N, T, rule=lambda m, i, t: (
        pyo.quicksum(m.alpha[ij, t] for ij in out_lines[i])
        - pyo.quicksum(m.alpha[ji, t] for ji in in_lines[i])
        + m.w_bar[i, t] - m.w_und[i, t] == 0))
    m.d84f = pyo.Constraint(L, T, rule=lambda m, ij, t: (
        -R[ij] * m.pi[frm[ij], t] - X[ij] * m.lam[frm[ij], t] - Z2[ij] * m.alpha[ij, t]
        + Vnom2 * m.phi[ij, t] + m.phi_bar[ij, t] - m.phi_und[ij, t] == 0))
    m.d84g = pyo.Constraint(L, T, rule=lambda m, ij, t: (
        -m.pi[frm[ij], t] + m.pi[to[ij], t] - 2 * R[ij] * m.alpha[ij, t] - m.eps[ij, t] == 0))
    m.d84h = pyo.Constraint(L, T, rule=lambda m, ij, t: (
        -m.lam[frm[ij], t] + m.lam[to[ij], t] - 2 * X[ij] * m.alpha[ij, t] - m.eta[ij, t]
        == 0))
    m.d84i = pyo.Constraint(L, T, Ys, rule=lambda m, ij, t, y: (
        -mS[y] * m.phi[ij, t] - m.sigma[ij, t] + m.tau_bar[ij, t, y] - m.tau_und[ij, t, y]
        == 0))
    m.d84j = pyo.Constraint(L, T, Ys, rule=lambda m, ij, t, y: (
        -mS[y] * m.phi[ij, t] - m.theta[ij, t] + m.mu_bar[ij, t, y] - m.mu_und[ij, t, y]
        == 0))
    m.d84k = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            m.eps[ij, t] + m.sigma[ij, t] - m.gamma_bar[ij, t] == 0)
    m.d84l = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            -m.eps[ij, t] + m.sigma[ij, t] - m.gamma_und[ij, t] == 0)
    m.d84m = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            m.eta[ij, t] + m.theta[ij, t] - m.iota_bar[ij, t] == 0)
    m.d84n = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            -m.eta[ij, t] + m.theta[ij, t] - m.iota_und[ij, t] == 0)

    # ---- (87)-(89): linearisation of Cp_j x P^gd_jt (P^gd in [0, P-bar] by the polygon)
    add_price_expansion(m, J, T, C, dict.fromkeys(J, 0.0), Pgd_max)

    # ---- (91) strong duality: primal cost (linearised) = dual objective (83)
    def dual_objective_block(t):
        # (83)'s Delta^S term: mu-bar (reading) or the printed mu-underline
        mu = m.mu_und if "83mu" in printed else m.mu_bar
        return (
            pyo.quicksum(Pd[i, t] * m.pi[i, t] + Qd[i, t] * m.lam[i, t]
                         + Vmax2 * m.w_bar[i, t] - Vmin2 * m.w_und[i, t] for i in N)
            + pyo.quicksum(Imax2 * m.phi_bar[ij, t] for ij in L)
            + pyo.quicksum(Pgd_max[j] * m.nu_bar[j, t] + chord_lower_rhs[j] * m.nu_und[j, t]
                           for j in J)
            + pyo.quicksum(dS * (m.tau_bar[ij, t, y] + mu[ij, t, y]) for ij in L for y in Ys)
            + Pse_max * m.delta_bar[t] - Pse_min * m.delta_und[t]
            + Qse_max * m.kappa_bar[t] - Qse_min * m.kappa_und[t])

    # (91) per block when strengthened (with sum_q CP_jtq / C_q = P_jt), else as printed;
    # (90) the leader's objective
    add_strong_duality_and_objective(m, J, T, C, dt, rho_price, c, dual_objective_block,
                                     strengthened)

    def blocks() -> dict[str, np.ndarray]:
        Tn, Nn, Ln, Jn, Yn = (net.n_block, net.n_bus, net.n_line, net.n_dg, rp.pwl_blocks)

        def swap(ix):  # (t, line or bus) -> the Pyomo index (line or bus, t)
            return ix[1], ix[0]

        def swap3(ix):  # (t, line, y) -> (line, t, y), y from 1
            return ix[1], ix[0], ix[2] + 1

        return {
            "p_gd": values(m.Pgd, (Jn, Tn), lambda ix: ix),
            "p_se": values(m.Pse, (Tn,), lambda ix: ix[0]),
            "q_gd": values(m.Qgd, (Jn, Tn), lambda ix: ix),
            "q_se": values(m.Qse, (Tn,), lambda ix: ix[0]),
            "p": values(m.P, (Tn, Ln), swap), "q": values(m.Q, (Tn, Ln), swap),
            "vsq": values(m.Vsqr, (Tn, Nn), swap), "isq": values(m.Isqr, (Tn, Ln), swap),
            "dp": values(m.DP, (Tn, Ln, Yn), swap3), "dq": values(m.DQ, (Tn, Ln, Yn), swap3),
            "p_plus": values(m.Pp, (Tn, Ln), swap), "p_minus": values(m.Pm, (Tn, Ln), swap),
            "q_plus": values(m.Qp, (Tn, Ln), swap), "q_minus": values(m.Qm, (Tn, Ln), swap),
        }

    return built_model(m, problem, net.grid, C, J, blocks)
