"""PNG figures: the notebook's prices-per-element chart and the controller simulation.

matplotlib is imported here only (Agg backend, no display needed), so that listing plugins
and running the algorithm never import it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridbench_pbpm.controller import SimulationResult
from gridbench_pbpm.core import MODE_MEANINGS
from gridbench_pbpm.spec import PbpmSpec


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def price_chart(spec: PbpmSpec, price_vector: np.ndarray, prm: np.ndarray, path: Path) -> Path:
    """The notebook's ``update_graphs``: per element and condition, a bar from the minimum
    price to the buy price (red: regulator, salmon: not) and from the sell price to the
    maximum (blue / light blue); each bar's price end is labelled with its price index."""
    import matplotlib.patches as mpatches

    plt = _pyplot()
    n = len(spec.elements)
    fig, ax = plt.subplots(figsize=(10, 5 + 0.5 * n * (n > 5)))
    lo, hi = spec.min_price, spec.max_price
    span = hi - lo if hi > lo else 1.0
    r = 0
    for e, element in enumerate(spec.elements):
        regulator = element.regulator == "Linear Regulator"
        load_color, source_color = ("red", "blue") if regulator else ("salmon", "lightblue")
        height = 6 / len(element.conditions)
        for q, condition in enumerate(element.conditions):
            y = 7 + 10 * (n - e - 1) + (len(element.conditions) - q - 1) * height
            row = prm[r]
            if condition.sell_price is not None:
                ax.broken_barh([(condition.sell_price, hi - condition.sell_price)],
                               (y, height * 0.8), facecolors=source_color)
                col = _response_column(row, regulator, "sell", condition)
                ax.text(condition.sell_price + 0.01 * span, y + height * 0.4,
                        f"index {price_vector[col]}", va="center", ha="left", fontsize=8,
                        color="white" if regulator else "black")
            if condition.buy_price is not None:
                ax.broken_barh([(lo, condition.buy_price - lo)], (y, height * 0.8),
                               facecolors=load_color)
                col = _response_column(row, regulator, "buy", condition)
                ax.text(condition.buy_price - 0.01 * span, y + height * 0.4,
                        f"index {price_vector[col]}", va="center", ha="right", fontsize=8,
                        color="white" if regulator else "black")
            if condition.label:
                ax.text(hi - 0.005 * span, y + height * 0.4, condition.label, va="center",
                        ha="right", fontsize=7, style="italic",
                        bbox={"facecolor": "white", "alpha": 0.8, "pad": 1, "lw": 0})
            r += 1
    ax.set_ylim(0, 15 + 10 * n)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("Price in real currency (R$)")
    ax.legend(handles=[
        mpatches.Patch(color="red", label="Load operation (mode= -2)"),
        mpatches.Patch(color="salmon", label="Load operation (set by EMS, mode=8)"),
        mpatches.Patch(color="blue", label="Source operation (mode=+2)"),
        mpatches.Patch(color="lightblue", label="Source operation (set by EMS, mode=8)")],
        loc="upper left", fontsize=8)
    ax.set_yticks([10 + 10 * (n - e - 1) for e in range(n)])
    ax.set_yticklabels([f"{e + 1}) {el.name}" for e, el in enumerate(spec.elements)])
    ax.grid(True, axis="x")
    ax.set_title("Prices for buying (load) and/or selling (source) energy (R$/kWh)\n"
                 f"price vector {list(map(int, price_vector))}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _response_column(row: np.ndarray, regulator: bool, side: str, condition) -> int:
    """Column at which a price responds, read from the PRM row (as checks.verify does)."""
    both = condition.buy_price is not None and condition.sell_price is not None
    if regulator:
        codes = (-1, 11) if side == "buy" else (1, 11)
        return int(np.flatnonzero(np.isin(row, codes))[0])
    if side == "buy":
        return int(np.flatnonzero(row == 0)[0])
    if both and condition.buy_price == condition.sell_price:
        return int(np.flatnonzero(row == 0)[0])
    trailing = int(np.argmax(row[::-1] != 8))
    return len(row) - trailing


def simulation_chart(result: SimulationResult, path: Path, title: str = "") -> Path:
    """Price and modes over time, with the powers and state of charge that drive them."""
    plt = _pyplot()
    names = list(result.modes)
    heights = [1.4] + [0.8] * len(names) + [1.4, 1.0]
    fig, axes = plt.subplots(len(heights), 1, sharex=True, figsize=(11, 2.2 + 1.6 * sum(heights)),
                             gridspec_kw={"height_ratios": heights})
    t = result.hours
    low, high = result.price_range

    ax = axes[0]
    ax.step(t, result.price, where="post", color="black", lw=1.4, label="price")
    ax.axhline(low, color="grey", ls=":", lw=1)
    ax.axhline(high, color="grey", ls=":", lw=1)
    up, down = result.events > 0, result.events < 0
    ax.plot(t[up], result.price[up], "^", color="tab:red", ms=4, label="low-voltage event (+1)")
    ax.plot(t[down], result.price[down], "v", color="tab:blue", ms=4,
            label="high-voltage event (-1)")
    ax.set_ylim(low - 0.6, high + 1.6)  # headroom for the legend
    ax.set_yticks(range(low, high + 1))
    ax.set_ylabel("price")
    note = " (initial price clamped into the range)" if result.clamped_initial else ""
    ax.set_title(title or f"PBPM controller on the DC-bus model{note}", fontsize=10)
    ax.legend(loc="upper right", fontsize=7, ncol=3)

    for ax, name in zip(axes[1:1 + len(names)], names, strict=True):
        modes = result.modes[name]
        ax.step(t, modes, where="post", lw=1.3, color="tab:purple")
        shown = sorted(set(modes.tolist()) | {0})
        ax.set_yticks(shown)
        ax.set_yticklabels([str(m) for m in shown], fontsize=7)
        ax.set_ylim(min(shown) - 0.6, max(shown) + 1.6)  # headroom for the mode notes
        ax.set_ylabel(f"{name}\nmode", fontsize=8)
        meanings = "; ".join(f"{m}: {MODE_MEANINGS[m].split(' (')[0]}" for m in shown)
        ax.text(0.995, 0.93, meanings, transform=ax.transAxes, ha="right", va="top",
                fontsize=6.5, color="dimgrey")
        if name in result.conditions and result.kinds[name] == "Bidirectional":
            low_soc = result.conditions[name] == 0
            ax.fill_between(t, 0, 1, where=low_soc, step="post", color="orange", alpha=0.15,
                            transform=ax.get_xaxis_transform(),
                            label="operating condition 1 (SOC below threshold)")
            ax.legend(loc="lower left", fontsize=6.5)

    ax = axes[-2]
    for name in names:
        kind = result.kinds[name]
        ax.step(t, result.power_kw[name], where="post", lw=1.2, label=f"{name} ({kind})")
        if kind == "Source":
            ax.plot(t, result.available_kw[name], ls="--", lw=0.8, color="goldenrod",
                    label=f"{name} available")
        if kind == "Load":
            ax.plot(t, -result.available_kw[name], ls="--", lw=0.8, color="grey",
                    label=f"{name} demand")
    ax.axhline(0, color="black", lw=0.6)
    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom, top + 0.35 * (top - bottom))  # headroom for the legend
    ax.set_ylabel("power to bus (kW)")
    ax.legend(loc="upper right", fontsize=7, ncol=3)

    ax = axes[-1]
    for name, soc in result.soc.items():
        ax.plot(t, 100 * soc, lw=1.3, label=f"{name} SOC")
    ax.axhline(100 * result.settings.soc_threshold, color="orange", ls="--", lw=1,
               label="condition threshold")
    ax.axhline(100 * result.settings.reconnect_soc, color="green", ls=":", lw=1,
               label="EMS reconnects the load")
    ax.set_ylim(0, 130)  # headroom for the legend
    ax.set_yticks(range(0, 101, 25))
    ax.set_ylabel("SOC (%)")
    ax.set_xlabel("time (h)")
    ax.legend(loc="upper right", fontsize=7, ncol=3)
    axes[-1].set_xlim(t[0], t[-1] + (t[1] - t[0] if len(t) > 1 else 1))
    axes[-1].set_xticks(np.arange(0, t[-1] + 1e-9, 6))
    for ax in axes:
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
