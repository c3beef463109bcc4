"""PBPM (seed 004): the C snippet's DC-bus price controller and the simulation around it."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO

from gridbench_pbpm.cli import pbpm_sim_command
from gridbench_pbpm.controller import (
    PriceController,
    SimulationError,
    SimulationSettings,
    simulate,
)
from gridbench_pbpm.spec import PbpmSpec, load_spec

C_SNIPPET = REPO / "cases" / "pbpm" / "pbpm_c_snippet.toml"
# the snippet's own tables (price range {-1, 3}), typed from the seed
PRMS = {"PV": np.array([[0, 1, 2, 2, 2]]),
        "Battery": np.array([[-2, -2, -1, 0, 0], [-2, -2, -1, 1, 2]]),
        "Load": np.array([[8, 8, 8, 8, 0]])}


def test_controller_clamps_the_price_and_reads_modes_on_a_scripted_event_sequence():
    controller = PriceController.create(np.arange(-1, 4), PRMS, initial_price=5,
                                        initial_modes={"PV": 2, "Battery": 2, "Load": -2})
    assert controller.price == 3 and controller.clamped_initial  # the snippet's `price = 5`
    # (event, battery SOC_range, EMS sets the load on) -> (price, PV, battery, load modes)
    script = [
        (None, 1, False, (3, 2, 2, 0)),     # top index: load shed (PRM_Load[4] = 0)
        ("high", 1, False, (2, 2, 1, 0)),   # 8: the load keeps its last mode, still off
        (None, 1, True, (2, 2, 1, -2)),     # the EMS switches it on; 8 keeps that
        ("high", 1, False, (1, 2, -1, -2)),
        ("high", 1, False, (0, 1, -2, -2)),  # PV regulates, battery charges at maximum
        ("high", 1, False, (-1, 0, -2, -2)),
        ("high", 1, False, (-1, 0, -2, -2)),  # clamped at price_range[0]
        ("high", 0, False, (-1, 0, -2, -2)),
        ("low", 0, False, (0, 1, -2, -2)),
        ("low", 0, False, (1, 2, -1, -2)),
        ("low", 0, False, (2, 2, 0, -2)),   # SOC < 20 %: the battery may not discharge
        (None, 1, False, (2, 2, 1, -2)),    # same price, other operating condition
        ("low", 1, False, (3, 2, 2, 0)),
        ("low", 0, False, (3, 2, 0, 0)),    # clamped at price_range[1]
        ("high", 1, False, (2, 2, 1, 0)),   # the shed load stays off (mode 8)
    ]
    for step, (event, soc_range, ems_on, expected) in enumerate(script):
        if event == "high":
            controller.high_voltage_event()
        elif event == "low":
            controller.low_voltage_event()
        modes = controller.update_modes({"Battery": soc_range})
        if ems_on:
            controller.set_mode("Load", -2)
            modes = dict(controller.modes)
        got = (controller.price, modes["PV"], modes["Battery"], modes["Load"])
        assert got == expected, (step, event, got, expected)


@pytest.fixture(scope="module")
def run():
    return simulate(load_spec(C_SNIPPET), SimulationSettings(hours=48))


def test_simulation_follows_the_prms_and_stays_within_its_limits(run):
    low, high = run.price_range
    assert (low, high) == (-1, 3)
    assert run.price.min() >= low and run.price.max() <= high
    assert np.all(np.abs(np.diff(run.price)) <= 1)  # one event per step at most
    col = run.price - low
    for name, prm in PRMS.items():
        table = prm[run.conditions[name], col]
        modes = run.modes[name]
        latched = table == 8
        assert np.array_equal(modes[~latched], table[~latched]), name
        if name == "Load":  # 8 keeps the last mode, unless the EMS switched the load on
            previous = np.concatenate([[modes[0]], modes[:-1]])
            changed = latched & (modes != previous)
            assert np.all(modes[changed] == -2)
    soc = run.soc["Battery"]
    assert soc.min() >= 0 and soc.max() <= 1
    assert np.array_equal(run.conditions["Battery"][1:], (soc[:-1] >= 0.2).astype(int))
    # a step without an event has its imbalance within the voltage band
    band = run.settings.v_nominal * run.settings.voltage_band
    quiet = run.events == 0
    assert np.all(np.abs(run.voltage[quiet] - run.settings.v_nominal) <= band)
    # the story the chart tells: load shed at night on low charge, price over its range
    assert set(np.unique(run.modes["Load"])) == {-2, 0}
    assert {0, 1, 2, 3} <= set(np.unique(run.price).tolist())


def test_simulation_rejects_what_the_model_cannot_represent():
    spec = PbpmSpec.model_validate({"min_price": 0, "max_price": 2, "elements": [
        {"name": "PV", "kind": "Source", "regulator": "Linear Regulator",
         "conditions": [{"sell_price": 0.5}, {"sell_price": 1.0}]}]})
    with pytest.raises(SimulationError, match="at most"):
        simulate(spec)


def test_pbpm_sim_command_draws_the_chart(tmp_path):
    png = tmp_path / "sim.png"
    result = CliRunner().invoke(pbpm_sim_command, [str(C_SNIPPET), "--png", str(png),
                                                   "--hours", "24"])
    assert result.exit_code == 0, result.output
    assert "initial price 5 clamped to 3" in result.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"
    bad = tmp_path / "bad.toml"
    bad.write_text('min_price = 0.0\nmax_price = 1.0\nelements = [{ name = "PV", kind = '
                   '"Source", regulator = "Not Regulator", conditions = [{ sell_price = 0.1 },'
                   ' { sell_price = 0.2 }] }]\n')
    failed = CliRunner().invoke(pbpm_sim_command, [str(bad)])
    assert failed.exit_code == 2
    assert failed.stderr.count("\n") == 1 and "gives a Source 1 operating condition" in (
        failed.stderr)


def test_simulation_keys_elements_by_position_when_names_repeat():
    """Two loads with one name (as in the notebook README) are two elements of the model."""
    spec = load_spec(C_SNIPPET)
    data = spec.model_dump()
    data["elements"].append({**data["elements"][2]})  # a second element named "Load"
    twin = PbpmSpec.model_validate(data)
    run = simulate(twin, SimulationSettings(hours=24))
    assert set(run.modes) == {"PV", "Battery", "Load #3", "Load #4"}
    assert np.array_equal(run.modes["Load #3"], run.modes["Load #4"])
    assert run.kinds["Load #4"] == "Load"
