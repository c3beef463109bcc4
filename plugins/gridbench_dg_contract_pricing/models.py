"""Backend builds, quantities and checks of dg_contract_pricing: the engine's four
reformulations through BilevelKit, plus the thesis's own dual (eqs. 38-44) written by hand
in Pyomo (variant ``thesis_dual``) as an independent cross-check of the automatic dual."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from bench.api import (
    ORACLE_BACKEND,
    BilevelKit,
    BoundOptions,
    BuiltModel,
    NotApplicable,
    Solution,
    certify,
    objective_check,
)
from gridbench_dg_contract_pricing.data import DGContractData, network_of, problem_from_data
from gridbench_dg_contract_pricing.fast_oracle import regional_enumeration
from gridbench_dg_contract_pricing.published import LOPEZ, load_published
from gridbench_raw.bilevel import to_raw

THESIS_DUAL = "thesis_dual"
THESIS_DUAL_AS_PRINTED = "thesis_dual_as_printed"
THESIS_VARIANTS = (THESIS_DUAL, THESIS_DUAL_AS_PRINTED)

class DGKit(BilevelKit):
    """BilevelKit with the grid oracle of fast_oracle.py: the same enumeration and tie-break
    as bench.bilevel.oracle, one HiGHS model per load block, and one LP per region of the
    price grid where an optimal basis stays optimal (regional_enumeration)."""

    def solve_oracle(self, data: Any):
        if data.price_per_stage:  # chapters 8/10: the stages separate for fixed locations
            from gridbench_dg_contract_pricing.location_oracle import stage_oracle

            return stage_oracle(data, self.problem(data))
        if data.location:  # chapters 7-10: one grid oracle per location set
            from gridbench_dg_contract_pricing.location_oracle import decomposition_oracle

            return decomposition_oracle(data, self.problem(data))
        return regional_enumeration(self.problem(data))


# The single-level MILPs on the thesis's full grids do not finish here: strong_duality on
# dg34_scenario_A (47 294 variables, 62 binaries, 20 235 rows) had no result from Pyomo/HiGHS
# after 175 s (its compact product form on HiGHS directly: 47 % gap after 140 s); kkt_bigm
# must first prove its dual big-Ms with one cold follower LP per grid point (961 / 1331
# points, 0.5-0.9 s each), and stated big-Ms (1e6) left HiGHS without a solution after
# 150 s already on dg34_small; kkt_sos1 hits 60 s on dg34_small. The full cases therefore
# name only `enumeration` for a default run (`[case] variants`); `--variant NAME` still runs
# any reformulation on them, which then reports its real status (e.g. time_limit).


def grid_points(data: DGContractData) -> int:
    return (data.price_steps + 1) ** len(data.dg_names)


def published_decision(data: DGContractData) -> np.ndarray | None:
    """The thesis's leader decision in this case's variables: its prices, and for a location
    case its units built at the published buses (every other candidate not built, at the
    grid's lowest price)."""
    if not data.published_prices:
        return None
    if data.location is None:
        return np.asarray(data.published_prices, float)  # DG-major with a price per stage
    units = [data.dg_bus.index(bus) for bus in data.published_locations]
    problem = problem_from_data(data)
    shape = problem.blocks["price"][1]  # (J,) or, with a price per stage, (J, E)
    prices = np.full(shape, data.price_min)
    prices[units] = np.asarray(data.published_prices, float).reshape((len(units), *shape[1:]))
    built = np.zeros(shape)
    built[units] = 1.0  # the thesis's units stay for every stage (Tables 33, 38, 54, 59)
    x = np.zeros(problem.n_x)
    problem.set_block("price", x, prices)
    problem.set_block("built", x, built)
    return x


def bound_options(data: DGContractData) -> BoundOptions:
    """The engine's bound options: the compact product form, and a location case's stated
    big-M where it gives one."""
    big_m = data.location.big_m if data.location else None
    return BoundOptions(product_form="compact", big_m=big_m)


KIT = DGKit(problem_from_data, bound_options,
            variable_quantities="leader",
            reuse_models=True,
            published_decision_of=published_decision)
_engine_builders = {b: KIT.builder(b) for b in ("pyomo", "pulp", "cvxpy")}
_engine_builders["raw"] = KIT.builder("raw", emitter=to_raw)
build_oracle = KIT.builder(ORACLE_BACKEND)
bilevel_problem = KIT.problem


def _refuse_thesis_dual(backend: str):
    def build(data: DGContractData, variant: str) -> BuiltModel:
        if variant in THESIS_VARIANTS:
            raise NotApplicable("the hand-written thesis dual is a Pyomo model")
        return _engine_builders[backend](data, variant)
    return build


build_pulp = _refuse_thesis_dual("pulp")
build_cvxpy = _refuse_thesis_dual("cvxpy")
build_raw = _refuse_thesis_dual("raw")


def build_pyomo(data: DGContractData, variant: str) -> BuiltModel:
    if variant in THESIS_VARIANTS and data.location:
        raise NotApplicable("the hand-written thesis duals are chapters 4-6's; the location "
                            "models run on the engine's reformulations")
    if variant in THESIS_VARIANTS and data.reactive_power:
        from gridbench_dg_contract_pricing.thesis_dual_pq import build_thesis_dual_pq

        return build_thesis_dual_pq(data, KIT.problem(data),
                                    strengthened=variant == THESIS_DUAL)
    if variant in THESIS_VARIANTS:
        from gridbench_dg_contract_pricing.thesis_dual import build_thesis_dual

        return build_thesis_dual(data, KIT.problem(data),
                                 strengthened=variant == THESIS_DUAL)
    return _engine_builders["pyomo"](data, variant)


@functools.lru_cache(maxsize=32)
def _payment_without_dg_cached(key: str) -> float:
    from bench.api import solve_follower

    data = DGContractData.model_validate_json(key)
    problem = problem_from_data(data, with_dg=False)
    result = solve_follower(problem, np.full(problem.n_x, data.price_min))
    if result.status != "optimal":
        return float("nan")
    return float(result.value)


def payment_without_dg(data: DGContractData) -> float:
    """The distribution company's payment with every DG at zero (an LP, scipy/HiGHS)."""
    return _payment_without_dg_cached(data.model_dump_json())


# what the thesis prints at its own decision, re-evaluated at the published prices: the
# follower's answer there is what a calibrated case is fitted to (make_cases.py, calibrate.py)
AT_PUBLISHED = ("capacity_factor_", "profit_", "payment_with_dg", "location_",
                "entry_stage_")


def published_decision_quantities(data: DGContractData) -> dict[str, float]:
    """Capacity factors, profits and the payment with DG when the follower answers the
    publication's contract prices (optimistic tie-break): ``published_decision_<quantity>``."""
    response = KIT.published_response(data)
    if response is None or response.y is None:
        return {}
    at = thesis_quantities(data, published_decision(data), response.y, published=False)
    return {f"published_decision_{k}": v for k, v in at.items() if k.startswith(AT_PUBLISHED)}


def built_units(data: DGContractData, x: np.ndarray) -> tuple[int, ...]:
    """The candidates a location decision builds, in ascending bus order (the thesis's GD1,
    GD2, ...)."""
    built = KIT.problem(data).block("built", x) > 0.5  # (J,) or, per stage, (J, E)
    if built.ndim == 2:
        built = built.any(axis=1)  # built in some stage (then in every later one)
    return tuple(sorted(np.flatnonzero(built), key=lambda j: data.dg_bus[j]))


def location_quantities(data: DGContractData, x: np.ndarray, y: np.ndarray,
                        published: bool = True) -> dict[str, float]:
    """A location answer in the thesis's terms: the built units relabelled GD1, GD2, ... by
    ascending bus, each with its bus (``location_gd<k>``), and the fixed-set case's
    quantities (the same follower answer without the units not built)."""
    from gridbench_dg_contract_pricing.location_oracle import fixed_set, restrict

    problem = KIT.problem(data)
    units = built_units(data, x)
    names = [f"gd{k + 1}" for k in range(len(units))]  # the references' names
    sub_data = fixed_set(data, units).model_copy(update={"dg_names": names})
    sub_x, sub_y = restrict(problem, KIT.problem(sub_data), units, x, y)
    out = {f"location_{name}": float(data.dg_bus[j]) for name, j in zip(names, units,
                                                                        strict=True)}
    out["units_built"] = float(len(units))
    built = problem.block("built", x)
    if built.ndim == 2:  # the stage each unit is built in (it stays in the later ones)
        out |= {f"entry_stage_{name}": float(np.argmax(built[j] > 0.5) + 1)
                for name, j in zip(names, units, strict=True)}
    out |= thesis_quantities(sub_data, sub_x, sub_y, published=False)
    if published:
        out |= published_decision_quantities(data)
        if data.published_locations:
            out["published_locations_optimum"] = published_locations_optimum(data)
    return out


def published_locations_optimum(data: DGContractData) -> float:
    """The leader's optimum with the units fixed at the thesis's locations and every price
    free (the grid oracle of that fixed set): equal to the case's optimum exactly when the
    thesis's locations are optimal under this case's data (ties with other sets allowed)."""
    from gridbench_dg_contract_pricing.location_oracle import fixed_set

    units = tuple(data.dg_bus.index(bus) for bus in data.published_locations)
    result, _ = KIT.oracle(fixed_set(data, units))  # computed once per suite run (memo)
    if result is None or result.leader_value is None:
        return float("nan")
    return float(result.leader_value)


def thesis_quantities(data: DGContractData, x: np.ndarray, y: np.ndarray,
                      published: bool = True) -> dict[str, float]:
    if data.location is not None:
        return location_quantities(data, x, y, published)
    problem = KIT.problem(data)
    net = network_of(data)
    p_gd = problem.block("p_gd", y)  # (J, T) MW
    energy = p_gd @ net.hours  # MWh per DG
    # EUR per DG and block, nominal and in present value (xi_e; 1 for a one-year case)
    prices = problem.block("price", x)  # (J,) or, with a price per stage, (J, E)
    price_jt = prices[:, net.stage] if prices.ndim == 2 else prices[:, None]
    profit = (price_jt - net.cost) * p_gd * net.hours
    profit_pv = (price_jt - net.cost) * p_gd * net.weight
    capacity = np.asarray(data.dg_capacity_mw, float)
    out: dict[str, float] = {}
    for j, name in enumerate(data.dg_names):
        if prices.ndim == 2:
            out |= {f"price_{name}_stage{e + 1}": float(v) for e, v in enumerate(prices[j])}
        else:
            out[f"price_{name}"] = float(prices[j])
        out[f"capacity_factor_{name}"] = float(
            100 * energy[j] / (capacity[j] * net.hours.sum()))
        out[f"profit_{name}"] = float(profit_pv[j].sum())  # the horizon's present value
    out["profit_total"] = float(profit_pv.sum())  # the leader's objective
    if data.reactive_power:  # Tables 20 and 24: energies per DG in kWh and kVArh
        q_gd = problem.block("q_gd", y)
        for j, name in enumerate(data.dg_names):
            out[f"active_energy_{name}_kwh"] = float(1000 * energy[j])
            out[f"reactive_energy_{name}_kvarh"] = float(1000 * q_gd[j] @ net.hours)
        out["active_energy_total_kwh"] = float(1000 * energy.sum())
        out["reactive_energy_total_kvarh"] = float(1000 * (q_gd @ net.hours).sum())
    if len(data.stages) > 1:  # chapter 5's tables: per stage, nominal, and present value
        p_se = problem.block("p_se", y)
        payment = net.weight * (net.rho * p_se + (price_jt * p_gd).sum(axis=0))
        for e in range(len(data.stages)):
            blocks = net.stage == e
            label = f"stage{e + 1}"
            for j, name in enumerate(data.dg_names):
                out[f"profit_{name}_{label}"] = float(profit[j, blocks].sum())
                out[f"capacity_factor_{name}_{label}"] = float(
                    100 * energy_in(p_gd[j], net.hours, blocks) / (
                        capacity[j] * net.hours[blocks].sum()))
            if data.reactive_power:  # chapter 10's Tables 57 and 63: energies per stage
                q_stage = problem.block("q_gd", y)[:, blocks] @ net.hours[blocks]
                p_stage = p_gd[:, blocks] @ net.hours[blocks]
                for j, name in enumerate(data.dg_names):
                    out[f"active_energy_{name}_{label}_kwh"] = float(1000 * p_stage[j])
                    out[f"reactive_energy_{name}_{label}_kvarh"] = float(1000 * q_stage[j])
                out[f"active_energy_total_{label}_kwh"] = float(1000 * p_stage.sum())
                out[f"reactive_energy_total_{label}_kvarh"] = float(1000 * q_stage.sum())
            out[f"profit_total_{label}"] = float(profit[:, blocks].sum())
            out[f"profit_pv_{label}"] = float(profit_pv[:, blocks].sum())
            out[f"payment_{label}"] = float(payment[blocks].sum())  # present value
    with_dg = problem.follower_objective(x, y)
    without = payment_without_dg(data)
    out |= {"payment_with_dg": with_dg, "payment_without_dg": without,
            "saving": without - with_dg, "percent_saving": 100 * (without - with_dg) / without}
    if data.reference_case:
        lopez = load_published().get((data.reference_case, LOPEZ), {})
        if "profit_total" in lopez:
            out["percent_profit_difference"] = 100 * (
                out["profit_total"] / lopez["profit_total"].value - 1)
        if "saving" in lopez:
            out["percent_saving_difference"] = 100 * (out["saving"] / lopez["saving"].value - 1)
    if published:
        out |= published_decision_quantities(data)
    return out


def energy_in(p_gd: np.ndarray, hours: np.ndarray, blocks: np.ndarray) -> float:
    """MWh produced in the selected blocks."""
    return float(p_gd[blocks] @ hours[blocks])


def quantities(data: DGContractData, variant: str, solution: Solution) -> dict[str, float]:
    x, y = solution.values["x"], solution.values["y"]
    if variant in THESIS_VARIANTS:
        problem = KIT.problem(data)
        oracle, note = KIT.oracle(data)
        cert = certify(problem, x, y, oracle=oracle, oracle_note=note)
        out = {"leader_objective": problem.leader_objective(x, y),
               "follower_objective": problem.follower_objective(x, y),
               "certified": float(cert.certified)}
        if cert.follower_gap is not None:
            out["follower_gap"] = cert.follower_gap
        if oracle is not None and cert.oracle_gap is not None:
            out["oracle_value"] = oracle.leader_value
            out["oracle_gap"] = cert.oracle_gap
        out |= {k: float(v) for k, v in solution.values.items() if k.startswith("n_")}
        out |= KIT.published_quantities(data, out["leader_objective"])
    else:
        out = KIT.quantities(data, variant, solution)
    return out | thesis_quantities(data, x, y)


def verify(data: DGContractData, variant: str, solution: Solution):
    if variant not in THESIS_VARIANTS:
        return KIT.verify(data, variant, solution)
    problem = KIT.problem(data)
    x, y = solution.values["x"], solution.values["y"]
    oracle, note = KIT.oracle(data)
    cert = certify(problem, x, y, oracle=oracle, oracle_note=note)
    return ([objective_check(solution.objective, problem.leader_objective(x, y),
                             rel_tol=1e-6)] + cert.checks()
            + KIT.published_checks(data, problem.leader_objective(x, y)))


def report_section(runs: list[dict[str, Any]]) -> str:
    from gridbench_dg_contract_pricing.published import (
        check_published_tables,
        findings_report,
    )

    return KIT.report_section(runs) + "\n\n" + findings_report(check_published_tables())
