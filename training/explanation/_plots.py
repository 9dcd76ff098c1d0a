"""Figures of a drug's explanation, as PNG bytes (a bare Figure: no pyplot).

SHAP values are in log-odds. Dots are episodes, drawn without any identifier;
the interaction figure leaves out cells of fewer than `MIN_CELL` episodes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from models import wilson_interval
from training.fitting._subgroups import MIN_CELL

MAX_DISPLAY = 15
MAX_LABEL = 48
CMAP = "coolwarm"  # blue: low feature value (absent), red: high (present)


def label(name: str) -> str:
    """A feature group's label shortened for an axis: ``a = b = c`` -> ``a = … (3)``."""
    members = name.split(" = ")
    short = members[0] if len(members) == 1 else f"{members[0]} = … ({len(members)})"
    return short if len(short) <= MAX_LABEL else short[: MAX_LABEL - 1] + "…"


def beeswarm_png(
    shap: np.ndarray, values: np.ndarray, names: Sequence[str], *, title: str
) -> bytes:
    """One row per feature (the given order, first on top): each episode's SHAP
    value, coloured by the feature's value."""
    shown = min(len(names), MAX_DISPLAY)
    figure = Figure(figsize=(8, 0.4 * shown + 1.6))
    axis = figure.subplots()
    for row in range(shown):
        x = shap[:, row]
        y = shown - 1 - row + _swarm(x)
        points = axis.scatter(
            x, y, c=_scaled(values[:, row]), cmap=CMAP, vmin=0, vmax=1, s=9,
            alpha=0.8, linewidths=0, rasterized=True,
        )  # fmt: skip
    axis.axvline(0, color="grey", linewidth=0.8)
    axis.set_yticks(range(shown), [label(n) for n in reversed(names[:shown])])
    axis.set(xlabel="held-out SHAP value (log-odds)", title=title)
    if shown:
        bar = figure.colorbar(points, ax=axis, ticks=[0, 1], aspect=40)
        bar.ax.set_yticklabels(["low / absent", "high / present"])
    figure.tight_layout()
    return png(figure)


def bar_png(importance: pd.Series, *, title: str) -> bytes:
    """Mean |SHAP| of the most important features, largest on top."""
    top = importance.iloc[:MAX_DISPLAY]
    figure = Figure(figsize=(8, 0.35 * len(top) + 1.4))
    axis = figure.subplots()
    axis.barh(range(len(top)), top.to_numpy()[::-1], color="#cc3311")
    axis.set_yticks(range(len(top)), [label(str(n)) for n in top.index[::-1]])
    axis.set(xlabel="mean |held-out SHAP value| (log-odds)", title=title)
    figure.tight_layout()
    return png(figure)


def dependence_png(
    value: np.ndarray,
    shap: np.ndarray,
    *,
    feature: str,
    colour: np.ndarray | None = None,
    colour_name: str = "",
    seed: int = 0,
) -> bytes:
    """SHAP value of one feature against its value (0/1 jittered), coloured by
    another feature's value when given."""
    figure = Figure(figsize=(6.5, 4.2))
    axis = figure.subplots()
    x = np.asarray(value, dtype=float)
    binary = np.isin(x[~np.isnan(x)], (0, 1)).all()
    if binary:
        x = x + np.random.default_rng(seed).uniform(-0.15, 0.15, len(x))
        axis.set_xticks([0, 1], ["absent", "present"])
    style: dict[str, Any] = {"s": 10, "alpha": 0.7, "linewidths": 0}
    if colour is not None:  # a colour map without colours would warn
        style |= {"c": _scaled(colour), "cmap": CMAP, "vmin": 0, "vmax": 1}
    points = axis.scatter(x, shap, rasterized=True, **style)
    if colour is not None:
        bar = figure.colorbar(points, ax=axis, ticks=[0, 1])
        bar.ax.set_yticklabels(["low / absent", "high / present"])
        bar.set_label(label(colour_name))
    axis.axhline(0, color="grey", linewidth=0.8)
    axis.set(xlabel=label(feature), ylabel="held-out SHAP value (log-odds)")
    axis.set_title(f"Dependence: {label(feature)}", fontsize="medium")
    figure.tight_layout()
    return png(figure)


def interaction_png(
    biomarker: np.ndarray,
    context: np.ndarray,
    interaction: np.ndarray,
    responded: np.ndarray,
    *,
    names: tuple[str, str],
) -> bytes:
    """A biomarker x tumour type (or lineage) interaction: its SHAP interaction
    value per episode, and the observed response rate, in the four cells."""
    figure = Figure(figsize=(11, 4.2))
    left, right = figure.subplots(1, 2)
    cells = _cells(np.asarray(biomarker, bool), np.asarray(context, bool))
    cell_axis = f"with(out) {label(names[0])}, (not) in {label(names[1])}"
    for position, rows in enumerate(cells.values()):
        if rows.sum() < MIN_CELL:
            continue
        jitter = np.random.default_rng(position).uniform(-0.2, 0.2, int(rows.sum()))
        left.scatter(position + jitter, interaction[rows], s=9, alpha=0.6,
                     color="#0077bb", linewidths=0, rasterized=True)  # fmt: skip
    left.axhline(0, color="grey", linewidth=0.8)
    left.set_xticks(range(len(cells)), list(cells), fontsize="small")
    left.set(ylabel="SHAP interaction value (log-odds)", xlabel=cell_axis,
             title="What the model learned")  # fmt: skip
    _rates(right, cells, np.asarray(responded))
    right.set_xlabel(cell_axis)
    figure.suptitle(f"{label(names[0])} x {label(names[1])}")
    figure.tight_layout()
    return png(figure)


def _cells(biomarker: np.ndarray, context: np.ndarray) -> dict[str, np.ndarray]:
    return {
        f"{'with' if b else 'without'}\n{'in' if c else 'not in'}": (
            (biomarker == b) & (context == c)
        )
        for b in (False, True)
        for c in (False, True)
    }


def _rates(axis: Axes, cells: dict[str, np.ndarray], responded: np.ndarray) -> None:
    for position, rows in enumerate(cells.values()):
        n = int(rows.sum())
        if n < MIN_CELL:
            axis.text(position, 0.02, f"n < {MIN_CELL}", ha="center", fontsize="small")
            continue
        events = int(responded[rows].sum())
        low, high = (float(v) for v in wilson_interval(events, n))
        rate = events / n
        axis.bar(position, rate, color="#009988", alpha=0.8)
        # max(0, .): the interval's ends may miss the rate by a rounding error
        below, above = max(0.0, rate - low), max(0.0, high - rate)
        axis.errorbar(position, rate, yerr=[[below], [above]], color="black",
                      capsize=4)  # fmt: skip
        axis.text(position, min(high + 0.03, 0.97), f"n={n}", ha="center",
                  fontsize="small")  # fmt: skip
    axis.set_xticks(range(len(cells)), list(cells), fontsize="small")
    axis.set(ylim=(0, 1), ylabel="observed response rate (95% CI)",
             title="What the data show")  # fmt: skip


def _swarm(x: np.ndarray, *, width: float = 0.38, bins: int = 80) -> np.ndarray:
    # Vertical offsets that spread dots sharing an x bin, alternately up and down,
    # so a row's thickness shows how many episodes have that SHAP value.
    span = float(np.ptp(x)) if len(x) else 0.0
    binned = np.round((x - x.min()) / span * bins) if span > 0 else np.zeros(len(x))
    rank = pd.Series(binned).groupby(binned).cumcount().to_numpy()
    step = (rank + 1) // 2 * np.where(rank % 2 == 0, 1, -1)
    largest = max(int(np.abs(step).max()), 1) if len(x) else 1
    return step / largest * width


def _scaled(values: np.ndarray) -> np.ndarray:
    # Binary features as they are; numeric ones by rank between their 5th and 95th
    # percentiles (one outlier would otherwise wash out the colours); NaN blank.
    values = np.asarray(values, dtype=float)
    known = values[~np.isnan(values)]
    if not len(known) or np.isin(known, (0, 1)).all():
        return values
    low, high = np.percentile(known, [5, 95])
    return np.clip((values - low) / (high - low or 1.0), 0, 1)


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()
