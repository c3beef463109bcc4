"""The thesis's single-level MILP (43)-(44) written by hand in Pyomo, symbol for symbol:
primal rows (37) with (29) and (33) as printed (every bound a row with its dual), the dual
constraints (39a)-(39s) as printed, the binary expansion (42) and strong duality (44). It
shares nothing with the engine's automatic dual except the case data, so agreement of the
two on the leader's profit cross-checks both.

Sign conventions as in the thesis: duals of "<=" rows are <= 0 (39n-s); 33b is read as
I - I+ + I- = 0 (the sign that yields the printed 39g, 39j, 39k); the duals of 33f/33g are the
thesis's tau-bar/tau-underline in (39j)-(39k) (named l-bar/l-underline in (37m)).

STRENGTHENING (variant ``thesis_dual``; ``thesis_dual_as_printed`` leaves it out): every
printed row stays, and two rows the printed model implies at integer points are added, (44)
stated per load block and (42e) sum_q CP_jtq / C_q = P_jt. They only cut fractional points:
as printed, the LP relaxation on dg34_scenario_A is 528,429 EUR against the optimum 297,507
and HiGHS does not close the gap in minutes (docs/dg_contract_pricing.md)."""

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


def build_thesis_dual(data: DGContractData, problem, strengthened: bool = True) -> BuiltModel:
    """The thesis's MILP; ``strengthened`` adds two rows the printed model implies (see
    STRENGTHENING), without which HiGHS does not close the gap on the full price grids."""
    net = network_of(data)
    T, N, L, J, P = (range(net.n_block), range(net.n_bus), range(net.n_line),
                     range(net.n_dg), range(1, data.pwl_blocks + 1))
    # dt is xi_e Delta_t (chapter 5's 56a-b; chapter 4: Delta_t)
    C, dt, rho_price, R, frm, to, out_lines, in_lines, dg_at, k, Pd, Pgd_max, c = \
        symbols(net, data)
    Z = {ij: float(net.z[ij]) for ij in L}
    Vmin, Vmax = data.v_min_kv, data.v_max_kv
    Imax = data.current_limit_ka
    dV_bar, dI_bar = net.dv_bar, net.di_bar
    mV = {p: float(net.slope_v[p - 1]) for p in P}
    mI = {p: float(net.slope_i[p - 1]) for p in P}
    Pgd_min = {j: float(min(data.dg_min_mw[j], data.dg_capacity_mw[j])) for j in J}
    Pse_max, Pse_min = data.substation_max_mw, 0.0

    m = pyo.ConcreteModel("dg_thesis_dual")
    R_ = pyo.Reals
    NP = pyo.NonPositiveReals
    # ---- primal variables of (36)-(37)
    m.Pse = pyo.Var(T, within=R_)
    m.Pgd = pyo.Var(J, T, within=R_)
    m.Pde = pyo.Var(L, T, within=R_)
    m.Ppara = pyo.Var(L, T, within=R_)
    m.V = pyo.Var(N, T, within=R_)
    m.Vsqr = pyo.Var(N, T, within=R_)
    m.dVsqr = pyo.Var(N, T, within=R_)
    m.DV = pyo.Var(N, T, P, within=R_)
    m.I = pyo.Var(L, T, within=R_)
    m.Isqr = pyo.Var(L, T, within=R_)
    m.Ip = pyo.Var(L, T, within=R_)
    m.Im = pyo.Var(L, T, within=R_)
    m.DI = pyo.Var(L, T, P, within=R_)
    # ---- leader: binary expansion (42)
    add_price_variables(m, J, T, C)

    def Cp(j):
        return price_of(m, C, j)

    # ---- primal rows (37a)-(37l), (29a)-(29e), (33a)-(33g)
    m.c37a = pyo.Constraint(N, T, rule=lambda m, i, t: (
        (m.Pse[t] if i == k else 0) + pyo.quicksum(m.Pgd[j, t] for j in dg_at[i])
        - pyo.quicksum(m.Pde[ij, t] for ij in out_lines[i])
        - pyo.quicksum(m.Ppara[ki, t] for ki in in_lines[i]) == Pd[i, t]))
    m.c37b = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            m.Pde[ij, t] + m.Ppara[ij, t] - R[ij] * m.Isqr[ij, t] == 0)
    m.c37c = pyo.Constraint(L, T, rule=lambda m, ij, t: m.Pde[ij, t] - m.Ppara[ij, t] - R[ij]
                            / Z[ij] ** 2 * (m.Vsqr[frm[ij], t] - m.Vsqr[to[ij], t]) == 0)
    m.c37d = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            m.I[ij, t] - (m.V[frm[ij], t] - m.V[to[ij], t]) / Z[ij] == 0)
    m.c37e = pyo.Constraint(L, T, rule=lambda m, ij, t: m.I[ij, t] - Imax <= 0)
    m.c37f = pyo.Constraint(L, T, rule=lambda m, ij, t: -m.I[ij, t] - Imax <= 0)
    m.c37g = pyo.Constraint(N, T, rule=lambda m, i, t: m.V[i, t] - Vmax <= 0)
    m.c37h = pyo.Constraint(N, T, rule=lambda m, i, t: -m.V[i, t] + Vmin <= 0)
    m.c37i = pyo.Constraint(J, T, rule=lambda m, j, t: m.Pgd[j, t] - Pgd_max[j] <= 0)
    m.c37j = pyo.Constraint(J, T, rule=lambda m, j, t: -m.Pgd[j, t] + Pgd_min[j] <= 0)
    m.c37k = pyo.Constraint(T, rule=lambda m, t: m.Pse[t] - Pse_max <= 0)
    m.c37l = pyo.Constraint(T, rule=lambda m, t: -m.Pse[t] + Pse_min <= 0)
    m.c29a = pyo.Constraint(N, T, rule=lambda m, i, t: m.Vsqr[i, t] == -Vmin ** 2
                            + 2 * Vmin * m.V[i, t] + m.dVsqr[i, t])
    m.c29b = pyo.Constraint(N, T, rule=lambda m, i, t: m.dVsqr[i, t]
                            == pyo.quicksum(mV[p] * m.DV[i, t, p] for p in P))
    m.c29c = pyo.Constraint(N, T, rule=lambda m, i, t: m.V[i, t]
                            - pyo.quicksum(m.DV[i, t, p] for p in P) == Vmin)
    m.c29d = pyo.Constraint(N, T, P, rule=lambda m, i, t, p: m.DV[i, t, p] - dV_bar <= 0)
    m.c29e = pyo.Constraint(N, T, P, rule=lambda m, i, t, p: -m.DV[i, t, p] <= 0)
    m.c33a = pyo.Constraint(L, T, rule=lambda m, ij, t: m.Isqr[ij, t]
                            == pyo.quicksum(mI[p] * m.DI[ij, t, p] for p in P))
    m.c33b = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            m.I[ij, t] - m.Ip[ij, t] + m.Im[ij, t] == 0)
    m.c33c = pyo.Constraint(L, T, rule=lambda m, ij, t: m.Ip[ij, t] + m.Im[ij, t]
                            - pyo.quicksum(m.DI[ij, t, p] for p in P) == 0)
    m.c33d = pyo.Constraint(L, T, P, rule=lambda m, ij, t, p: m.DI[ij, t, p] - dI_bar <= 0)
    m.c33e = pyo.Constraint(L, T, P, rule=lambda m, ij, t, p: -m.DI[ij, t, p] <= 0)
    m.c33f = pyo.Constraint(L, T, rule=lambda m, ij, t: -m.Ip[ij, t] <= 0)
    m.c33g = pyo.Constraint(L, T, rule=lambda m, ij, t: -m.Im[ij, t] <= 0)

    # ---- dual variables (38)-(39), signs (39n)-(39s)
    m.pi = pyo.Var(N, T, within=R_)
    m.lam = pyo.Var(L, T, within=R_)
    m.alpha = pyo.Var(L, T, within=R_)
    m.phi = pyo.Var(L, T, within=R_)
    m.phi_bar = pyo.Var(L, T, within=NP)
    m.phi_und = pyo.Var(L, T, within=NP)
    m.w_bar = pyo.Var(N, T, within=NP)
    m.w_und = pyo.Var(N, T, within=NP)
    m.beta_bar = pyo.Var(J, T, within=NP)
    m.beta_und = pyo.Var(J, T, within=NP)
    m.delta_bar = pyo.Var(T, within=NP)
    m.delta_und = pyo.Var(T, within=NP)
    m.rho = pyo.Var(N, T, within=R_)  # dual of (29a) (the thesis reuses the letter rho)
    m.eps = pyo.Var(N, T, within=R_)
    m.sigma = pyo.Var(N, T, within=R_)
    m.v_bar = pyo.Var(N, T, P, within=NP)
    m.v_und = pyo.Var(N, T, P, within=NP)
    m.eta = pyo.Var(L, T, within=R_)
    m.theta = pyo.Var(L, T, within=R_)
    m.tau = pyo.Var(L, T, within=R_)
    m.kappa_bar = pyo.Var(L, T, P, within=NP)
    m.kappa_und = pyo.Var(L, T, P, within=NP)
    m.tau_bar = pyo.Var(L, T, within=NP)  # dual of (33f)
    m.tau_und = pyo.Var(L, T, within=NP)  # dual of (33g)

    m.d39a = pyo.Constraint(T, rule=lambda m, t:
                            m.pi[k, t] + m.delta_bar[t] - m.delta_und[t] == dt[t] * rho_price[t])
    m.d39b = pyo.Constraint(J, T, rule=lambda m, j, t: m.pi[int(net.dg_bus[j]), t]
                            + m.beta_bar[j, t] - m.beta_und[j, t] == dt[t] * Cp(j))
    m.d39c = pyo.Constraint(N, T, rule=lambda m, i, t: (
        -pyo.quicksum(m.phi[ij, t] / Z[ij] for ij in out_lines[i])
        + pyo.quicksum(m.phi[ki, t] / Z[ki] for ki in in_lines[i])
        - 2 * Vmin * m.rho[i, t] + m.sigma[i, t] + m.w_bar[i, t] - m.w_und[i, t] == 0))
    m.d39d = pyo.Constraint(N, T, rule=lambda m, i, t: (
        -pyo.quicksum(R[ij] / Z[ij] ** 2 * m.alpha[ij, t] for ij in out_lines[i])
        + pyo.quicksum(R[ki] / Z[ki] ** 2 * m.alpha[ki, t] for ki in in_lines[i])
        + m.rho[i, t] == 0))
    m.d39e = pyo.Constraint(N, T, rule=lambda m, i, t: -m.rho[i, t] + m.eps[i, t] == 0)
    m.d39f = pyo.Constraint(N, T, P, rule=lambda m, i, t, p: -mV[p] * m.eps[i, t]
                            - m.sigma[i, t] + m.v_bar[i, t, p] - m.v_und[i, t, p] == 0)
    m.d39g = pyo.Constraint(L, T, rule=lambda m, ij, t: m.phi[ij, t] + m.theta[ij, t]
                            + m.phi_bar[ij, t] - m.phi_und[ij, t] == 0)
    m.d39h = pyo.Constraint(L, T, rule=lambda m, ij, t: -R[ij] * m.lam[ij, t]
                            + m.eta[ij, t] == 0)
    m.d39i = pyo.Constraint(L, T, P, rule=lambda m, ij, t, p: -mI[p] * m.eta[ij, t]
                            - m.tau[ij, t] + m.kappa_bar[ij, t, p] - m.kappa_und[ij, t, p] == 0)
    m.d39j = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            -m.theta[ij, t] + m.tau[ij, t] - m.tau_bar[ij, t] == 0)
    m.d39k = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            m.theta[ij, t] + m.tau[ij, t] - m.tau_und[ij, t] == 0)
    m.d39l = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            -m.pi[frm[ij], t] + m.lam[ij, t] + m.alpha[ij, t] == 0)
    m.d39m = pyo.Constraint(L, T, rule=lambda m, ij, t:
                            -m.pi[to[ij], t] + m.lam[ij, t] - m.alpha[ij, t] == 0)

    # ---- (42) linearisation of Cp_j x P_gd
    add_price_expansion(m, J, T, C, Pgd_min, Pgd_max)

    # ---- (44) strong duality: primal cost (linearised) = dual objective (38), per block t
    def dual_objective_block(t):
        return (
            pyo.quicksum(Pd[i, t] * m.pi[i, t] - Vmin ** 2 * m.rho[i, t]
                         + Vmax * m.w_bar[i, t] + Vmin * (m.sigma[i, t] - m.w_und[i, t])
                         for i in N)
            + pyo.quicksum(dV_bar * m.v_bar[i, t, p] for i in N for p in P)
            + pyo.quicksum(dI_bar * m.kappa_bar[ij, t, p] for ij in L for p in P)
            + pyo.quicksum(Imax * (m.phi_bar[ij, t] + m.phi_und[ij, t]) for ij in L)
            + pyo.quicksum(Pgd_max[j] * m.beta_bar[j, t] - Pgd_min[j] * m.beta_und[j, t]
                           for j in J)
            + Pse_max * m.delta_bar[t] - Pse_min * m.delta_und[t])

    # (44) per load block when strengthened (with (42e) sum_q CP_jtq / C_q = P_jt), else as
    # printed; (43) the leader's objective
    add_strong_duality_and_objective(m, J, T, C, dt, rho_price, c, dual_objective_block,
                                     strengthened)

    def blocks() -> dict[str, np.ndarray]:
        Tn, Nn, Ln, Jn, Pn = net.n_block, net.n_bus, net.n_line, net.n_dg, data.pwl_blocks

        def swap(ix):  # (t, line or bus) -> the Pyomo index (line or bus, t)
            return ix[1], ix[0]

        def swap3(ix):  # (t, line or bus, p) -> (line or bus, t, p), p from 1
            return ix[1], ix[0], ix[2] + 1

        return {
            "p_gd": values(m.Pgd, (Jn, Tn), lambda ix: ix),
            "p_se": values(m.Pse, (Tn,), lambda ix: ix[0]),
            "p_from": values(m.Pde, (Tn, Ln), swap),
            "p_to": values(m.Ppara, (Tn, Ln), swap),
            "v": values(m.V, (Tn, Nn), swap),
            "dv": values(m.DV, (Tn, Nn, Pn), swap3),
            "i": values(m.I, (Tn, Ln), swap),
            "i_plus": values(m.Ip, (Tn, Ln), swap),
            "i_minus": values(m.Im, (Tn, Ln), swap),
            "di": values(m.DI, (Tn, Ln, Pn), swap3),
        }

    return built_model(m, problem, net.grid, C, J, blocks)
