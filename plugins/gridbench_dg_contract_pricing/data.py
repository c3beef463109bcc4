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


class ReactivePower(BaseModel):
    """Chapter 6's PQ model (eqs. 62-91): reactive loads, the DG capability polygon at a
    power factor, the (V^nom)^2 approximation and the piecewise-linear P^2 + Q^2."""

    model_config = ConfigDict(extra="forbid")

    base_load_mvar: list[float]  # per bus, before scaling (scaled like the active load)
    power_factor: float = Field(0.92, gt=0, lt=1)  # fp (upper = lower, thesis L3069)
    v_nominal_kv: float = Field(gt=0)  # V^nom in (82d) and Delta^S (not printed)
    pwl_blocks: int = Field(20, ge=1)  # Y of (78)-(79)
    substation_q_min_mvar: float = -100.0
    substation_q_max_mvar: float = 100.0


class Location(BaseModel):
    """Chapters 7-10's location feature (eqs. 92-103): every DG of the case is a candidate
    unit at its bus, and the leader builds at most ``max_units`` of them (w^max) besides
    choosing their prices; a unit not built produces nothing."""

    model_config = ConfigDict(extra="forbid")

    max_units: int = Field(ge=1)  # w^max (34 buses: 2; 85 buses: 3)
    # the big-M of eqs. (101)/(113) for the duals the engine cannot bound (the thesis prints
    # none): stated, not proven, so a single-level MILP whose big-M binds at its answer is
    # reported uncertified (docs, "Chapters 7-10")
    big_m: float | None = Field(None, gt=0)


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
    # chapters 8 and 10: a contract price per DG and stage (and, with ``location``, a
    # location per stage that never decreases: a unit once built stays); chapter 5: False
    price_per_stage: bool = False
    reactive_power: ReactivePower | None = None
    location: Location | None = None  # chapters 7-10: the DGs are candidates (dg_bus)
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
    # location cases (chapters 7-10): the buses of the thesis's units, ascending (its GD1,
    # GD2, ...), one published price each; every other candidate is not built
    published_locations: list[int] = []

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
        if self.reactive_power and len(self.reactive_power.base_load_mvar) != self.n_buses:
            raise ValueError("reactive_power.base_load_mvar needs one entry per bus")
        if self.location and self.location.max_units > n_dg:
            raise ValueError("location.max_units exceeds the number of candidate DGs")
        if self.location and any(m != 0 for m in self.dg_min_mw):
            raise ValueError("a location case needs dg_min_mw = 0 (a unit not built "
                             "produces nothing)")
        if self.price_per_stage and not self.stages:
            raise ValueError("price_per_stage needs stages")
        per_unit = len(self.stages) if self.price_per_stage else 1
        if self.location is None and self.published_locations:
            raise ValueError("published_locations belongs to a location case")
        if self.location is not None and self.published_prices:
            if len(self.published_locations) * per_unit != len(self.published_prices):
                raise ValueError("published_prices needs one entry per published location"
                                 + (" and stage" if self.price_per_stage else ""))
            missing = sorted(set(self.published_locations) - set(self.dg_bus))
            if missing:
                raise ValueError(f"published locations {missing} are not candidate buses")
        elif self.published_prices and len(self.published_prices) != n_dg * per_unit:
            raise ValueError("published_prices needs one entry per DG"
                             + (" and stage (DG-major)" if self.price_per_stage else ""))
        if any(s.dg_cost is not None and len(s.dg_cost) != n_dg for s in self.stages):
            raise ValueError("a stage's dg_cost needs one entry per DG")
        return self

    def stage_list(self) -> list[Stage]:
        """The stages; a one-year case is one stage with factor 1."""
        if self.stages:
            return self.stages
        return [Stage(present_value_factor=1.0, block_level=self.block_level,
                      block_hours=self.block_hours, block_price=self.block_price)]


# the names of the units' own rows (the PQ capability polygon, _pq_network): every other
# follower row is the network's
UNIT_ROWS = ("cap_",)


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
    x: np.ndarray
    z: np.ndarray
    load: np.ndarray  # (T, N) MW; T runs over every block of every stage
    qload: np.ndarray  # (T, N) MVAr (zeros without reactive_power)
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
    x = np.asarray(data.line_x_ohm, float)
    z = np.hypot(r, x)
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
    base_q = (data.reactive_power.base_load_mvar if data.reactive_power
              else np.zeros(data.n_buses))
    qload = scale * np.outer(level, base_q)
    return Network(
        data.n_buses, len(r), len(hours), len(data.dg_names),
        np.asarray(data.line_from) - 1, np.asarray(data.line_to) - 1, r, x, z, load, qload,
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
    distribution company's LP (36)-(37). The features are case data, each switching one part:
    ``stages`` (chapter 5's (52)-(54): every block of every stage, both objectives weighted
    by the stage's present-value factor, one price per DG for all stages) and
    ``reactive_power`` (chapter 6's PQ network (82) instead of the P network (37))."""
    from bench.api import BilevelBuilder

    net = network_of(data)
    T, J = net.n_block, net.n_dg
    b = BilevelBuilder("dg_contract_pricing")
    if data.price_per_stage:  # chapters 8/10: x_{j,q,e}, a price per DG and stage
        price = b.leader("price", (J, len(data.stages)), grid=net.grid)
        price_jt = price[:, net.stage]  # each block's price: its stage's
    else:
        price = b.leader("price", J, grid=net.grid)
        price_jt = price[:, None]
    cap = np.asarray(data.dg_capacity_mw) if with_dg else np.zeros(J)
    # the PQ model's capability polygon (82i,j,m,n) implies 0 <= P <= cap: stated as bounds
    # too (a valid tightening the engine's bound derivation uses)
    pmin = (np.zeros(J) if data.reactive_power else
            np.minimum(np.asarray(data.dg_min_mw), cap))
    p_gd = b.follower("p_gd", (J, T), lower=pmin[:, None] * np.ones((1, T)),
                      upper=cap[:, None] * np.ones((1, T)))
    p_se = b.follower("p_se", T, lower=0.0, upper=data.substation_max_mw)
    if data.reactive_power:
        _pq_network(b, data, net, p_gd, p_se, cap)
    else:
        _p_network(b, data, net, p_gd, p_se)
    if data.location and with_dg and data.price_per_stage:
        # (105a-c), (107i): at most w^max units per stage, a unit once built stays, and a
        # unit not built in a stage produces nothing in its blocks
        E = len(data.stages)
        built = b.leader("built", (J, E), lower=0.0, upper=1.0, integer=True)
        b.leader_constraint(built.sum(axis=0) <= np.full(E, data.location.max_units),
                            name="max_units")
        if E > 1:
            b.leader_constraint(built[:, 1:] - built[:, :-1] >= np.zeros((J, E - 1)),
                                name="stays_built")
        b.follower_constraint(p_gd - (cap[:, None] * np.ones((1, T))) * built[:, net.stage]
                              <= np.zeros((J, T)), name="built_capacity")
    elif data.location and with_dg:
        # (92)-(94): build at most w^max units; a unit not built produces nothing
        # (P^gd <= P-bar u; with the PQ polygon Q follows P to 0)
        built = b.leader("built", J, lower=0.0, upper=1.0, integer=True)
        b.leader_constraint(built.sum() <= data.location.max_units, name="max_units")
        b.follower_constraint(p_gd - (cap[:, None] * np.ones((1, T))) * built[:, None]
                              <= np.zeros((J, T)), name="built_capacity")

    money = net.weight  # xi_e x hours: EUR per (EUR/MWh x MW) in each block (eq. 45/46)
    money_jt = np.broadcast_to(money, (J, T))
    # (36)/(46): wholesale purchase + contract payments, in present value (reactive power
    # costs nothing: the DG owner is paid for active energy only)
    b.follower_minimize(p_se.dot(money * net.rho) + (price_jt * p_gd).dot(money_jt))
    # (35)/(45): the DG owners' profit, in present value
    b.leader_maximize((price_jt * p_gd).dot(money_jt) - p_gd.dot(net.cost * money_jt))
    return b.build()


def _injections(net: Network) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(T*N x T) substation and (T*N x J*T) DG injection matrices (flat index t*N + i)."""
    T, N, J = net.n_block, net.n_bus, net.n_dg
    sub_inj = sp.csr_matrix((np.ones(T), (np.arange(T) * N + net.sub, np.arange(T))),
                            shape=(T * N, T))
    rows = (np.arange(T)[None, :] * N + net.dg_bus[:, None]).ravel()  # p_gd is (J, T)
    dg_inj = sp.csr_matrix((np.ones(J * T), (rows, np.arange(J * T))), shape=(T * N, J * T))
    return sub_inj, dg_inj


def _p_network(b, data: DGContractData, net: Network, p_gd, p_se) -> None:
    """Chapter 4's network (37a-m): P only, piecewise-linear V^2 (29) and I^2 (33)."""
    T, N, L, P = net.n_block, net.n_bus, net.n_line, data.pwl_blocks
    eye_t = sp.identity(T, format="csr")
    start, end = incidence(net)
    p_from = b.follower("p_from", (T, L), lower=-np.inf, upper=np.inf)  # P^de
    p_to = b.follower("p_to", (T, L), lower=-np.inf, upper=np.inf)  # P^para
    volt = b.follower("v", (T, N), lower=data.v_min_kv, upper=data.v_max_kv)  # (37g-h)
    dv = b.follower("dv", (T, N, P), lower=0.0, upper=net.dv_bar)  # (29d-e)
    cur = b.follower("i", (T, L), lower=-data.current_limit_ka,
                     upper=data.current_limit_ka)  # (37e-f)
    i_plus = b.follower("i_plus", (T, L), lower=0.0, upper=np.inf)  # (33f)
    i_minus = b.follower("i_minus", (T, L), lower=0.0, upper=np.inf)  # (33g)
    di = b.follower("di", (T, L, P), lower=0.0, upper=net.di_bar)  # (33d-e)

    # (37a) balance per block and bus (flat index t*N + i)
    sub_inj, dg_inj = _injections(net)
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


def _pq_network(b, data: DGContractData, net: Network, p_gd, p_se, cap: np.ndarray) -> None:
    """Chapter 6's PQ network (82a-q): DistFlow with reactive power, V^sqr and I^sqr as
    variables, V^sqr_j I^sqr ~ (V^nom)^2 I^sqr, P^2 + Q^2 piecewise linear in Y blocks (78)-(79),
    and the DG capability polygon at power factor fp (82i,j,m,n)."""
    rp = data.reactive_power
    T, N, L, J, Y = net.n_block, net.n_bus, net.n_line, net.n_dg, rp.pwl_blocks
    eye_t = sp.identity(T, format="csr")
    start, end = incidence(net)
    i_max = data.current_limit_ka
    ds_bar = rp.v_nominal_kv * i_max / Y  # Delta^S = V^nom I_max / Y
    slope_s = (2 * np.arange(1, Y + 1) - 1) * ds_bar  # m^S_y
    q_gd = b.follower("q_gd", (J, T), lower=-np.inf, upper=np.inf)
    q_se = b.follower("q_se", T, lower=rp.substation_q_min_mvar, upper=rp.substation_q_max_mvar)
    p_line = b.follower("p", (T, L), lower=-np.inf, upper=np.inf)  # P_ij (sending end)
    q_line = b.follower("q", (T, L), lower=-np.inf, upper=np.inf)  # Q_ij
    vsq = b.follower("vsq", (T, N), lower=data.v_min_kv ** 2, upper=data.v_max_kv ** 2)
    isq = b.follower("isq", (T, L), lower=0.0, upper=i_max ** 2)  # (82e-f)
    dp = b.follower("dp", (T, L, Y), lower=0.0, upper=ds_bar)  # (79e-f)
    dq = b.follower("dq", (T, L, Y), lower=0.0, upper=ds_bar)  # (79g-h)
    p_plus = b.follower("p_plus", (T, L))  # (79i-l): >= 0
    p_minus = b.follower("p_minus", (T, L))
    q_plus = b.follower("q_plus", (T, L))
    q_minus = b.follower("q_minus", (T, L))

    sub_inj, dg_inj = _injections(net)
    out_t, in_t = sp.kron(eye_t, start), sp.kron(eye_t, end)  # (T*N x T*L)
    r_t, x_t = np.tile(net.r, T), np.tile(net.x, T)
    # (82a) P balance: sum_ki P_ki - sum_ij (P_ij + R_ij I^sqr_ij) + P^se + P^gd = P^d
    b.follower_constraint(in_t @ p_line.ravel() - out_t @ p_line.ravel()
                          - out_t @ sp.diags(r_t) @ isq.ravel()
                          + sub_inj @ p_se + dg_inj @ p_gd.ravel() == net.load.ravel(),
                          name="p_balance")
    # (82b) Q balance, with X_ij
    b.follower_constraint(in_t @ q_line.ravel() - out_t @ q_line.ravel()
                          - out_t @ sp.diags(x_t) @ isq.ravel()
                          + sub_inj @ q_se + dg_inj @ q_gd.ravel() == net.qload.ravel(),
                          name="q_balance")
    # (82c) V^sqr_i - 2 (R P + X Q) - Z^2 I^sqr - V^sqr_j = 0
    diff_t = sp.kron(eye_t, (start - end).T.tocsr())  # (T*L x T*N): +1 from, -1 to
    z2_t = np.tile(net.z ** 2, T)
    b.follower_constraint(diff_t @ vsq.ravel() - 2 * sp.diags(r_t) @ p_line.ravel()
                          - 2 * sp.diags(x_t) @ q_line.ravel() - sp.diags(z2_t) @ isq.ravel()
                          == np.zeros(T * L), name="voltage_drop")
    # (82d) (V^nom)^2 I^sqr = sum_y m^S_y dP_y + sum_y m^S_y dQ_y
    slope = sp.kron(sp.identity(T * L), sp.csr_matrix(slope_s[None, :]))
    b.follower_constraint(rp.v_nominal_kv ** 2 * isq.ravel() - slope @ dp.ravel()
                          - slope @ dq.ravel() == np.zeros(T * L), name="flow_squares")
    # (79a-d) P+ - P- = P; P+ + P- = sum_y dP_y; the same for Q
    ones_y = sp.kron(sp.identity(T * L), sp.csr_matrix(np.ones((1, Y))))
    b.follower_constraint(p_plus.ravel() - p_minus.ravel() - p_line.ravel()
                          == np.zeros(T * L), name="p_sign")
    b.follower_constraint(p_plus.ravel() + p_minus.ravel() - ones_y @ dp.ravel()
                          == np.zeros(T * L), name="p_blocks")
    b.follower_constraint(q_plus.ravel() - q_minus.ravel() - q_line.ravel()
                          == np.zeros(T * L), name="q_sign")
    b.follower_constraint(q_plus.ravel() + q_minus.ravel() - ones_y @ dq.ravel()
                          == np.zeros(T * L), name="q_blocks")
    # DG capability polygon (73)/(82i,j,m,n) at fp: P_line = fp/sin(acos fp),
    # Q_chord = (1 - fp)/sin(acos fp); (82n) read with the maximum P^gd (docs: the printed
    # minimum would force P = Q = 0)
    sin_phi = np.sqrt(1 - rp.power_factor ** 2)
    p_coef, q_coef = rp.power_factor / sin_phi, (1 - rp.power_factor) / sin_phi
    cap_jt = np.repeat(cap, T)
    zeros = np.zeros(J * T)
    b.follower_constraint(-p_gd.ravel() + p_coef * q_gd.ravel() <= zeros, name="cap_pf_upper")
    b.follower_constraint(-p_gd.ravel() - p_coef * q_gd.ravel() <= zeros, name="cap_pf_lower")
    b.follower_constraint(p_gd.ravel() + q_coef * q_gd.ravel() <= cap_jt, name="cap_chord_upper")
    b.follower_constraint(p_gd.ravel() - q_coef * q_gd.ravel() <= cap_jt, name="cap_chord_lower")
