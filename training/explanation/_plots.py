"""Figures of a drug's explanation, as PNG bytes.

The SHAP figures are shap's own (``shap.plots.beeswarm``, ``bar`` and
``scatter``) drawn from the drug's held-out ``shap.Explanation``; the interaction
figure, which sets the model's interaction values beside the observed response
rates, is drawn here on a bare Figure. SHAP values are in log-odds. Dots are
episodes, drawn without any identifier; the interaction figure leaves out cells
of fewer than `MIN_CELL` episodes.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import shap
from matplotlib import pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from models import wilson_interval
from training.fitting._subgroups import MIN_CELL

MAX_DISPLAY = 15
MAX_LABEL = 48
SHAP_AXIS = "held-out SHAP value (log-odds)"


def label(name: str) -> str:
    """A feature group's label shortened for an axis: ``a = b = c`` -> ``a = … (3)``."""
    members = name.split(" = ")
    short = members[0] if len(members) == 1 else f"{members[0]} = … ({len(members)})"
    return short if len(short) <= MAX_LABEL else short[: MAX_LABEL - 1] + "…"


def labelled(explanation: shap.Explanation) -> shap.Explanation:
    """``explanation`` with its feature names shortened for an axis (`label`)."""
    return shap.Explanation(
        values=explanation.values, base_values=explanation.base_values,
        data=explanation.data,
        feature_names=[label(str(n)) for n in explanation.feature_names],
    )  # fmt: skip


def beeswarm_png(explanation: shap.Explanation, *, title: str) -> bytes:
    """``shap.plots.beeswarm``: one row per feature, most important on top, each
    episode's SHAP value coloured by the feature's value."""
    shown = min(explanation.shape[1], MAX_DISPLAY)

    def draw(axis: Axes) -> None:
        shap.plots.beeswarm(
            labelled(explanation), max_display=MAX_DISPLAY, ax=axis, show=False,
            plot_size=None, s=9,
        )  # fmt: skip
        axis.set(xlabel=SHAP_AXIS, title=title)

    return _shap_png(draw, size=(8, 0.4 * shown + 1.6))


def bar_png(explanation: shap.Explanation, *, title: str) -> bytes:
    """``shap.plots.bar``: mean |SHAP| of the most important features."""
    shown = min(explanation.shape[1], MAX_DISPLAY)

    def draw(axis: Axes) -> None:
        shap.plots.bar(
            labelled(explanation), max_display=MAX_DISPLAY, ax=axis, show=False
        )
        axis.set(xlabel=f"mean |{SHAP_AXIS}|", title=title)

    return _shap_png(draw, size=(8, 0.35 * shown + 1.4))


def dependence_png(
    explanation: shap.Explanation, *, feature: int, colour: int | None = None
) -> bytes:
    """``shap.plots.scatter``: one feature's SHAP value against its value
    (0/1 jittered), coloured by another feature's value when given."""
    named = labelled(explanation)

    def draw(axis: Axes) -> None:
        shap.plots.scatter(
            named[:, feature], color=None if colour is None else named[:, colour],
            ax=axis, show=False, hist=False,
        )  # fmt: skip
        axis.set_ylabel(SHAP_AXIS)
        axis.set_title(f"Dependence: {named.feature_names[feature]}", fontsize="medium")

    return _shap_png(draw, size=(6.5, 4.2))


def _shap_png(draw: Callable[[Axes], None], *, size: tuple[float, float]) -> bytes:
    # shap.plots draw through pyplot: a figure of our own, closed however it ends.
    figure = plt.figure(figsize=size)
    try:
        draw(figure.subplots())
        figure.tight_layout()
        return png(figure)
    finally:
        plt.close(figure)


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


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()
