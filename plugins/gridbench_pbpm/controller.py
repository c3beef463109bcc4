"""The C snippet's DC-bus price controller, and a small DC-bus model to drive it.

Controller (the snippet, as written): a high-voltage event lowers the price by one, a
low-voltage event raises it, both clamped to the price range; a periodic interrupt reads
each element's mode from its PRM in the column of the current price and in the row of its
current operating condition, except that mode 8 keeps the element's last mode.

Model (ours, documented in docs/pbpm.md): every Source is a PV array with a clear-sky
profile, every Load a household load, every Bidirectional element a battery whose operating
condition is its SOC band (condition 1 below ``soc_threshold``, condition 2 above, as the
snippet's ``SOC_range``). Whatever regulating element the modes select (mode 1, -1 or 11)
covers the imbalance within its limits; what is left moves the bus voltage through a droop,
and a voltage outside the band raises one event per step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from bench.api import InputError
from gridbench_pbpm.core import KEEP_LAST, flatten
from gridbench_pbpm.reference import compute as reference_compute
from gridbench_pbpm.spec import PbpmSpec


class SimulationError(InputError):
    """A spec the DC-bus model cannot simulate (one line, exit code 2)."""


# the mode an element starts in when its PRM says 8 (keep) at the initial price
INITIAL_MODE_IF_KEEP = {"Load": -2, "Source": 2, "Bidirectional": 0}


@dataclass
class PriceController:
    """The snippet's controller: ``price`` in [low, high]; ``modes`` are the last modes."""

    low: int
    high: int
    prms: dict[str, np.ndarray]  # element label -> (conditions, prices)
    price: int
    modes: dict[str, int] = field(default_factory=dict)
    clamped_initial: bool = False  # the snippet starts at price 5, outside {-1, 3}

    @classmethod
    def create(cls, price_vector: np.ndarray, prms: Mapping[str, np.ndarray],
               initial_price: int, initial_modes: Mapping[str, int]) -> PriceController:
        low, high = int(price_vector[0]), int(price_vector[-1])
        price = min(max(initial_price, low), high)
        return cls(low, high, {k: np.asarray(v) for k, v in prms.items()}, price,
                   dict(initial_modes), clamped_initial=price != initial_price)

    @property
    def index(self) -> int:
        """``index_price = price - price_range[0]``: the PRM column."""
        return self.price - self.low

    def high_voltage_event(self) -> None:
        """``vdc_bus_increase``: the bus voltage exceeded a high level; price down."""
        self.price = max(self.price - 1, self.low)

    def low_voltage_event(self) -> None:
        """``vdc_bus_decrease``: the bus voltage fell below a low level; price up."""
        self.price = min(self.price + 1, self.high)

    def update_modes(self, conditions: Mapping[str, int]) -> dict[str, int]:
        """``PERIODIC_INTERRUPT_OPERATION_MODES``: condition row (0-based), price column;
        mode 8 keeps the last mode."""
        for name, prm in self.prms.items():
            mode = int(prm[conditions.get(name, 0), self.index])
            if mode != KEEP_LAST:
                self.modes[name] = mode
        return dict(self.modes)

    def set_mode(self, name: str, mode: int) -> None:
        """What only the EMS or the user may do (the snippet: the Load's mode -2)."""
        self.modes[name] = mode


@dataclass(frozen=True)
class SimulationSettings:
    hours: float = 48.0
    step_minutes: float = 5.0
    pv_peak_kw: float = 4.0  # per Source
    cloudy_day_factor: float = 0.45  # the second day's PV is scaled by this
    load_kw: float = 0.8  # per Load, base demand
    evening_load_kw: float = 0.8  # extra demand from 18 h to 23 h
    battery_kwh: float = 5.0  # per Bidirectional
    battery_kw: float = 2.0
    initial_soc: float = 0.5
    soc_threshold: float = 0.2  # operating-condition threshold (the snippet's 20 %)
    reconnect_soc: float = 0.6  # EMS: switch a latched-off load back on at this SOC
    initial_price: int = 5  # the snippet's `int price = 5` (clamped to the range)
    v_nominal: float = 380.0
    droop_v_per_kw: float = 20.0  # bus voltage change per kW of uncovered imbalance
    voltage_band: float = 0.02  # events outside v_nominal * (1 -/+ band)

    def pv_available(self, hour: float) -> float:
        day, clock = divmod(hour, 24.0)
        sun = max(0.0, math.sin(math.pi * (clock - 6.0) / 12.0)) if 6.0 <= clock <= 18.0 else 0.0
        return self.pv_peak_kw * sun * (self.cloudy_day_factor if day % 2 == 1 else 1.0)

    def demand(self, hour: float) -> float:
        return self.load_kw + (self.evening_load_kw if 18.0 <= hour % 24.0 < 23.0 else 0.0)


@dataclass
class SimulationResult:
    hours: np.ndarray
    price: np.ndarray
    events: np.ndarray  # +1 low-voltage event (price up), -1 high-voltage event, 0 none
    voltage: np.ndarray
    modes: dict[str, np.ndarray]
    power_kw: dict[str, np.ndarray]  # supplied to the bus (>0) or taken from it (<0)
    available_kw: dict[str, np.ndarray]  # PV available / load demand
    soc: dict[str, np.ndarray]
    conditions: dict[str, np.ndarray]
    price_range: tuple[int, int]
    settings: SimulationSettings
    kinds: dict[str, str]
    clamped_initial: bool


def _check_simulable(spec: PbpmSpec) -> None:
    for element in spec.elements:
        limit = 2 if element.kind == "Bidirectional" else 1
        if len(element.conditions) > limit:
            raise SimulationError(
                f"element {element.name!r}: the DC-bus model gives a {element.kind} "
                f"{limit} operating condition{'s' if limit > 1 else ''} at most")


def simulate(spec: PbpmSpec, settings: SimulationSettings = SimulationSettings()
             ) -> SimulationResult:
    """Run the controller against the DC-bus model; one event at most per step."""
    _check_simulable(spec)
    solution = reference_compute(*flatten(spec.elements), spec.tie_order)
    price_vector, prm = solution.values["price_vector"], solution.values["prm"]
    # keyed by a distinct label per element (its name; name and position when names repeat)
    labels = spec.element_labels
    prms, r = {}, 0
    for label, element in zip(labels, spec.elements, strict=True):
        prms[label] = prm[r:r + len(element.conditions)]
        r += len(element.conditions)
    kinds = {label: e.kind for label, e in zip(labels, spec.elements, strict=True)}
    n_conditions = {label: len(e.conditions)
                    for label, e in zip(labels, spec.elements, strict=True)}

    dt_h = settings.step_minutes / 60.0
    steps = int(round(settings.hours / dt_h))
    soc = {n: settings.initial_soc for n, k in kinds.items() if k == "Bidirectional"}

    def condition_of(name: str) -> int:
        if kinds[name] != "Bidirectional" or n_conditions[name] == 1:
            return 0
        return 0 if soc[name] < settings.soc_threshold else 1

    conditions = {n: condition_of(n) for n in kinds}
    low, high = int(price_vector[0]), int(price_vector[-1])
    start_index = min(max(settings.initial_price, low), high) - low
    initial_modes = {}
    for name, matrix in prms.items():
        mode = int(matrix[conditions[name], start_index])
        initial_modes[name] = INITIAL_MODE_IF_KEEP[kinds[name]] if mode == KEEP_LAST else mode
    controller = PriceController.create(price_vector, prms, settings.initial_price,
                                        initial_modes)

    rec_price, rec_events, rec_voltage = [], [], []
    rec_modes = {n: [] for n in kinds}
    rec_power = {n: [] for n in kinds}
    rec_avail = {n: [] for n in kinds}
    rec_soc = {n: [] for n in soc}
    rec_cond = {n: [] for n in kinds}
    v_high = settings.v_nominal * (1 + settings.voltage_band)
    v_low = settings.v_nominal * (1 - settings.voltage_band)
    for step in range(steps):
        hour = step * dt_h
        conditions = {n: condition_of(n) for n in kinds}
        modes = controller.update_modes(conditions)  # the periodic interrupt
        price_used = controller.price
        if soc and min(soc.values()) >= settings.reconnect_soc:
            for name, kind in kinds.items():  # the EMS reconnects latched-off loads
                if kind == "Load" and modes[name] == 0:
                    controller.set_mode(name, -2)
                    modes[name] = -2

        power, ranges, avail = {}, {}, {}
        for name, kind in kinds.items():
            mode = modes[name]
            if kind == "Source":
                avail[name] = settings.pv_available(hour)
                power[name] = avail[name] if mode == 2 else 0.0
                if mode == 1:
                    ranges[name] = (0.0, avail[name])
            elif kind == "Load":
                avail[name] = settings.demand(hour)
                power[name] = -avail[name] if mode == -2 else 0.0
            else:
                energy = soc[name] * settings.battery_kwh
                charge = min(settings.battery_kw, (settings.battery_kwh - energy) / dt_h)
                discharge = min(settings.battery_kw, energy / dt_h)
                avail[name] = 0.0
                power[name] = {-2: -charge, 2: discharge}.get(mode, 0.0)
                if mode in (-1, 1, 11):
                    ranges[name] = (-charge if mode in (-1, 11) else 0.0,
                                    discharge if mode in (1, 11) else 0.0)
        imbalance = sum(power.values())  # > 0: surplus on the bus
        for name, (lo, hi) in ranges.items():  # regulators cover it within their limits
            power[name] = min(max(-imbalance, lo), hi)
            imbalance += power[name]
        voltage = settings.v_nominal + settings.droop_v_per_kw * imbalance
        event = 0
        if voltage > v_high:
            controller.high_voltage_event()
            event = -1
        elif voltage < v_low:
            controller.low_voltage_event()
            event = 1
        for name in soc:
            soc[name] = min(1.0, max(0.0, soc[name] - power[name] * dt_h / settings.battery_kwh))

        rec_price.append(price_used)
        rec_events.append(event)
        rec_voltage.append(voltage)
        for name in kinds:
            rec_modes[name].append(modes[name])
            rec_power[name].append(power[name])
            rec_avail[name].append(avail[name])
            rec_cond[name].append(conditions[name])
        for name in soc:
            rec_soc[name].append(soc[name])

    return SimulationResult(
        hours=np.arange(steps) * dt_h, price=np.array(rec_price), events=np.array(rec_events),
        voltage=np.array(rec_voltage), modes={n: np.array(v) for n, v in rec_modes.items()},
        power_kw={n: np.array(v) for n, v in rec_power.items()},
        available_kw={n: np.array(v) for n, v in rec_avail.items()},
        soc={n: np.array(v) for n, v in rec_soc.items()},
        conditions={n: np.array(v) for n, v in rec_cond.items()},
        price_range=(low, high), settings=settings, kinds=kinds,
        clamped_initial=controller.clamped_initial)
