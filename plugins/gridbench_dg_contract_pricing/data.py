"""Case data of dg_contract_pricing and the thesis's bilevel model stated once (eqs. 29, 33,
35-37 of seed 002). Units: kV, kA, MW, ohm (P = V I, losses R I^2 in MW), the reading of
Tables 64/65 (headers "R [ohm]") under which the thesis's 9-11 kV limits and its MW-scale
loads are compatible (the text's "per unit on a 10 MW base" reading makes the 34-bus feeder
voltage-infeasible already at the IEEE-34 nominal 1.77 MW)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field, model_validator


class Stage(BaseModel):
    """One stage of a multistage case (thesis ch. 5, eqs. 45-61): a year of load blocks
    weighted by its present-value factor xi_e (eq. 48) in both levels' objectives."""

    model_config = ConfigDict(extra="forbid")

    present_value_factor: float = Field(gt=0)  # xi_e; the tables use 1, 0.9091, 0.8264
    block_level: list[float]
    block_hours: list[float]
    block_price: list[float]  # wholesale price per block, EUR/MWh
    # this stage's DG production costs (default: the case's dg_cost)
    dg_cost: list[float] | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if not (len(self.block_level) == len(self.block_hours) == len(self.block_price) > 0):
            raise ValueError("block_level, block_hours, block_price need one entry per block")
        return self


class DGContractData(BaseModel):
    """The [data] table: network (thesis Table 64/65), reconstructed loads, blocks, prices;
    one year of blocks (chapter 4) or ``stages`` (chapter 5), one contract price per DG for
    the whole horizon either way."""

    model_config = ConfigDict(extra="forbid")

    n_buses: int = Field(gt=1)
    substation_bus: int = 1
    line_from: list[int]
    line_to: list[int]
    line_r_ohm: list[float]
    line_x_ohm: list[float]
    current_limit_ka: float = Field(gt=0)
    base_load_mw: list[float]  # per bus (bus k at index k-1), before scaling
    load_scale: float = Field(gt=0)  # calibrated (see the case's assumptions)
    # one year of load blocks (empty when ``stages`` are given)
    block_level: list[float] = []  # load level of each block (x base load x scale)
    block_hours: list[float] = []
    block_price: list[float] = []  # wholesale price per block, EUR/MWh
    stages: list[Stage] = []
    substation_max_mw: float = Field(gt=0)
    v_min_kv: float = 9.0
    v_max_kv: float = 11.0
    pwl_blocks: int = Field(20, ge=1)  # P of eqs. 29 and 33
    dg_names: list[str]
    dg_bus: list[int]
    dg_capacity_mw: list[float]
    dg_min_mw: list[float]
    dg_cost: list[float]  # EUR/MWh
    price_min: float
    price_max: float
    price_steps: int = Field(ge=1)  # grid has price_steps + 1 values
    # the reference group whose Lopez-Lezama columns give the "Diferenca" percentages
    reference_case: str = ""
    # the thesis's contract prices for this case (EUR/MWh per DG, its Tables 3, 6, 9, 13):
    # the follower is re-solved at them and the DG profit there reported next to the optimum
    published_prices: list[float] = []

    @model_validator(mode="after")
    def _consistent(self):
        n_lines = len(self.line_from)
        if not (len(self.line_to) == len(self.line_r_ohm) == len(self.line_x_ohm) == n_lines):
            raise ValueError("line_from, line_to, line_r_ohm, line_x_ohm need one entry per line")
        if n_lines != self.n_buses - 1:
            raise ValueError(f"a radial feeder of {self.n_buses} buses has {self.n_buses - 1} "
                             f"lines, not {n_lines}")
        if len(self.base_load_mw) != self.n_buses:
            raise ValueError("base_load_mw needs one entry per bus")
        if not (len(self.block_level) == len(self.block_hours) == len(self.block_price)):
            raise ValueError("block_level, block_hours, block_price need one entry per block")
        if bool(self.block_level) == bool(self.stages):
            raise ValueError("give either block_level/block_hours/block_price (one year) or "
                             "stages, not both")
        n_dg = len(self.dg_names)
        if not (len(self.dg_bus) == len(self.dg_capacity_mw) == len(self.dg_min_mw)
                == len(self.dg_cost) == n_dg):
            raise ValueError("dg_* lists need one entry per DG")
        if self.published_prices and len(self.published_prices) != n_dg:
            raise ValueError("published_prices needs one entry per DG")
        if any(s.dg_cost is not None and len(s.dg_cost) != n_dg for s in self.stages):
            raise ValueError("a stage's dg_cost needs one entry per DG")
        return self

    def stage_list(self) -> list[Stage]:
        """The stages; a one-year case is one stage with factor 1."""
        if self.stages:
            return self.stages
        return [Stage(present_value_factor=1.0, block_level=self.block_level,
                      block_hours=self.block_hours, block_price=self.block_price)]


@dataclass(frozen=True)
class Network:
    """Index arrays and the per-block load matrix derived from the case data."""

    n_bus: int
    n_line: int
    n_block: int
    n_dg: int
    frm: np.ndarray  # 0-based
    to: np.ndarray
    r: np.ndarray
    z: np.ndarray
    load: np.ndarray  # (T, N) MW; T runs over every block of every stage
    hours: np.ndarray  # (T,)
    rho: np.ndarray  # (T,) EUR/MWh
    stage: np.ndarray  # (T,) the stage of each block (0-based)
    weight: np.ndarray  # (T,) xi_e x hours: EUR per (EUR/MWh x MW) in both objectives
    cost: np.ndarray  # (J, T) DG production cost in each block, EUR/MWh
    dg_bus: np.ndarray  # 0-based
    sub: int
    grid: np.ndarray
    dv_bar: float
    slope_v: np.ndarray  # (P,)
    di_bar: float
    slope_i: np.ndarray  # (P,)


def network_of(data: DGContractData, load_scale: float | None = None) -> Network:
    scale = data.load_scale if load_scale is None else load_scale
    r = np.asarray(data.line_r_ohm, float)
    z = np.hypot(r, np.asarray(data.line_x_ohm, float))
    P = data.pwl_blocks
    dv_bar = (data.v_max_kv - data.v_min_kv) / P
    di_bar = data.current_limit_ka / P
    p_idx = np.arange(1, P + 1)
    stages = data.stage_list()
    level = np.concatenate([s.block_level for s in stages])
    hours = np.concatenate([s.block_hours for s in stages]).astype(float)
    stage = np.concatenate([np.full(len(s.block_hours), e) for e, s in enumerate(stages)])
    factor = np.array([s.present_value_factor for s in stages])[stage]
    cost = np.array([s.dg_cost if s.dg_cost is not None else data.dg_cost
                     for s in stages], float).T[:, stage]
    load = scale * np.outer(level, data.base_load_mw)
    return Network(
        data.n_buses, len(r), len(hours), len(data.dg_names),
        np.asarray(data.line_from) - 1, np.asarray(data.line_to) - 1, r, z, load,
        hours, np.concatenate([s.block_price for s in stages]).astype(float),
        stage, factor * hours, cost,
        np.asarray(data.dg_bus) - 1, data.substation_bus - 1,
        np.linspace(data.price_min, data.price_max, data.price_steps + 1),
        dv_bar, (2 * p_idx - 1) * dv_bar, di_bar, (2 * p_idx - 1) * di_bar)


def incidence(net: Network) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(bus x line) matrices: 1 where the line starts / ends at the bus."""
    cols = np.arange(net.n_line)
    shape = (net.n_bus, net.n_line)
    start = sp.csr_matrix((np.ones(net.n_line), (net.frm, cols)), shape=shape)
    end = sp.csr_matrix((np.ones(net.n_line), (net.to, cols)), shape=shape)
    return start, end


def problem_from_data(data: DGContractData, with_dg: bool = True):
    """The bilevel problem (35)-(37): leader = contract prices on the grid, follower = the
    distribution company's LP (36)-(37) with the piecewise-linear V^2 and I^2 (29), (33).
    With stages it is chapter 5's (52)-(54): every block of every stage, both objectives
    weighted by the stage's present-value factor, one price per DG for all stages."""
    from bench.api import BilevelBuilder

    net = network_of(data)
    T, N, L, J, P = net.n_block, net.n_bus, net.n_line, net.n_dg, data.pwl_blocks
    eye_t = sp.identity(T, format="csr")
    start, end = incidence(net)
    b = BilevelBuilder("dg_contract_pricing")
    price = b.leader("price", J, grid=net.grid)
    cap = np.asarray(data.dg_capacity_mw) if with_dg else np.zeros(J)
    pmin = np.minimum(np.asarray(data.dg_min_mw), cap)
    p_gd = b.follower("p_gd", (J, T), lower=pmin[:, None] * np.ones((1, T)),
                      upper=cap[:, None] * np.ones((1, T)))
    p_se = b.follower("p_se", T, lower=0.0, upper=data.substation_max_mw)
    p_from = b.follower("p_from", (T, L), lower=-np.inf, upper=np.inf)  # P^de
    p_to = b.follower("p_to", (T, L), lower=-np.inf, upper=np.inf)  # P^para
    volt = b.follower("v", (T, N), lower=data.v_min_kv, upper=data.v_max_kv)  # (37g-h)
    dv = b.follower("dv", (T, N, P), lower=0.0, upper=net.dv_bar)  # (29d-e)
    cur = b.follower("i", (T, L), lower=-data.current_limit_ka,
                     upper=data.current_limit_ka)  # (37e-f)
    i_plus = b.follower("i_plus", (T, L), lower=0.0, upper=np.inf)  # (33f)
    i_minus = b.follower("i_minus", (T, L), lower=0.0, upper=np.inf)  # (33g)
    di = b.follower("di", (T, L, P), lower=0.0, upper=net.di_bar)  # (33d-e)

    money = net.weight  # xi_e x hours: EUR per (EUR/MWh x MW) in each block (eq. 45/46)
    money_jt = np.broadcast_to(money, (J, T))
    # (36)/(46): wholesale purchase + contract payments, in present value
    b.follower_minimize(p_se.dot(money * net.rho) + (price[:, None] * p_gd).dot(money_jt))
    # (35)/(45): the DG owners' profit, in present value
    b.leader_maximize((price[:, None] * p_gd).dot(money_jt) - p_gd.dot(net.cost * money_jt))

    # (37a) balance per block and bus (flat index t*N + i)
    sub_inj = sp.csr_matrix((np.ones(T), (np.arange(T) * N + net.sub, np.arange(T))),
                            shape=(T * N, T))
    rows = (np.arange(T)[None, :] * N + net.dg_bus[:, None]).ravel()  # p_gd is (J, T)
    dg_inj = sp.csr_matrix((np.ones(J * T), (rows, np.arange(J * T))), shape=(T * N, J * T))
    b.follower_constraint(sub_inj @ p_se + dg_inj @ p_gd.ravel()
                          - sp.kron(eye_t, start) @ p_from.ravel()
                          - sp.kron(eye_t, end) @ p_to.ravel() == net.load.ravel(),
                          name="balance")
    # (33a) substituted: I^sqr = sum_p m^I_p dI_p; (37b) losses
    sum_i = sp.kron(sp.identity(T * L), sp.csr_matrix(net.slope_i[None, :]))
    r_t = np.tile(net.r, T)
    b.follower_constraint(p_from.ravel() + p_to.ravel()
                          - sp.diags(r_t) @ (sum_i @ di.ravel()) == np.zeros(T * L),
                          name="losses")
    # (29a-b) substituted: V^sqr_i - V^sqr_j = 2 Vmin (V_i - V_j) + sum_p m^V_p (dV_i - dV_j)
    diff = (start - end).T.tocsr()  # (line x bus): +1 at from, -1 at to
    diff_t = sp.kron(eye_t, diff)
    sum_v = sp.kron(sp.identity(T * N), sp.csr_matrix(net.slope_v[None, :]))
    g_t = np.tile(net.r / net.z ** 2, T)
    b.follower_constraint(p_from.ravel() - p_to.ravel()
                          - sp.diags(2 * data.v_min_kv * g_t) @ (diff_t @ volt.ravel())
                          - sp.diags(g_t) @ (diff_t @ (sum_v @ dv.ravel()))
                          == np.zeros(T * L), name="flow_difference")  # (37c)
    # (37d) I = (V_i - V_j) / Z, stated as Z I - (V_i - V_j) = 0
    z_t = np.tile(net.z, T)
    b.follower_constraint(sp.diags(z_t) @ cur.ravel() - diff_t @ volt.ravel()
                          == np.zeros(T * L), name="current")
    # (29c) V = Vmin + sum_p dV_p
    ones_p = sp.kron(sp.identity(T * N), sp.csr_matrix(np.ones((1, P))))
    b.follower_constraint(volt.ravel() - ones_p @ dv.ravel()
                          == np.full(T * N, data.v_min_kv), name="voltage_blocks")
    # (33b) I+ - I- = I; (33c) I+ + I- = sum_p dI_p
    ones_pl = sp.kron(sp.identity(T * L), sp.csr_matrix(np.ones((1, P))))
    b.follower_constraint(i_plus.ravel() - i_minus.ravel() - cur.ravel()
                          == np.zeros(T * L), name="current_sign")
    b.follower_constraint(i_plus.ravel() + i_minus.ravel() - ones_pl @ di.ravel()
                          == np.zeros(T * L), name="current_blocks")
    return b.build()
